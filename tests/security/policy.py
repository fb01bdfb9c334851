"""Who may use each route: the declared policy the authorization matrix checks the application against.

`POLICY` maps every endpoint in the application's URL map to one or more `Policy` cases: the people (actors, see
`world.ACTORS`) allowed to use it, and the scene whose objects fill its URL arguments (see `world`). A route
added without an entry here fails the suite, naming it.

What the matrix expects of each GET:
- an allowed person gets the page (200) or is sent on (302/303), never to the sign-in page;
- a refused person who is signed out is sent to sign in (or answers 403/404);
- a refused person who is signed in gets 403 or 404; 404 exactly when the case is `hidden` (sealed bids,
  evaluations, reports: their very existence is private) and, for a case about organisation A's object
  (`owned_by_a`), always for organisation B's member: another organisation's object answers 404, never 403.

POST-only routes are listed too: the CSRF test posts to each as the first allowed signed-in person, and the
matrix checks that each refused person's POST (with a valid CSRF token) is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.security.world import (
    ACTORS,
    ADMIN,
    ANONYMOUS,
    COMMISSIONER,
    OFFICER,
    OTHER_PROVIDER,
    PANEL_MEMBER,
    PROVIDER,
)

EVERYONE = frozenset(ACTORS)
SIGNED_IN = EVERYONE - {ANONYMOUS}
PROVIDERS = frozenset({PROVIDER, OTHER_PROVIDER})
COUNCIL = frozenset({COMMISSIONER, PANEL_MEMBER, OFFICER})  # commissioners and procurement officers
STAFF = COUNCIL | {ADMIN}
NOBODY: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Policy:
    allowed: frozenset[str]
    scene: str = "none"
    hidden: bool = False  # every refused signed-in person gets 404
    owned_by_a: bool = False  # the URL names organisation A's object: organisation B's member gets 404
    note: str = ""
    may_post: frozenset[str] | None = None  # who may POST, when fewer than may GET

    @property
    def posters(self) -> frozenset[str]:
        return self.allowed if self.may_post is None else self.may_post

    @property
    def poster(self) -> str:
        """Someone to post as: the first signed-in person allowed; signed out where only that is allowed; the
        first signed-in person where nobody here is."""
        signed_in = [actor for actor in ACTORS if actor != ANONYMOUS]
        return next((actor for actor in signed_in if actor in self.posters),
                    ANONYMOUS if ANONYMOUS in self.posters else signed_in[0])

    def must_hide_from(self, actor: str) -> bool:
        return actor != ANONYMOUS and (self.hidden or (self.owned_by_a and actor == OTHER_PROVIDER))


def _people(groups) -> frozenset[str]:
    people: set[str] = set()
    for each in groups:
        people |= {each} if isinstance(each, str) else set(each)
    return frozenset(people)


def case(*allowed: str | frozenset[str], scene: str = "none", hidden: bool = False, owned_by_a: bool = False,
         note: str = "", may_post: tuple = ()) -> Policy:
    return Policy(_people(allowed), scene, hidden, owned_by_a, note, _people(may_post) if may_post else None)


def public(scene: str = "none") -> Policy:
    return case(EVERYONE, scene=scene)


def organisation_a(*also: str | frozenset[str], scene: str, hidden: bool = False) -> Policy:
    """Organisation A's own object (its bid, its members, its proposal...)."""
    return case(PROVIDER, *also, scene=scene, hidden=hidden, owned_by_a=True)


def bid_page(scene: str = "bid") -> Policy:
    """A page of organisation A's bid: sealed from everyone else, council staff included."""
    return organisation_a(scene=scene, hidden=True)


def author(scene: str = "draft") -> Policy:
    """Editing a draft: its author only."""
    return case(COMMISSIONER, scene=scene)


def officer(scene: str = "none", *also: str, hidden: bool = False) -> Policy:
    return case(OFFICER, *also, scene=scene, hidden=hidden)


def evaluation(*allowed: str) -> Policy:
    """An evaluation page: 404 to everyone not allowed (even that there is an evaluation is private)."""
    return case(*allowed, scene="panel", hidden=True)


POLICY: dict[str, tuple[Policy, ...]] = {
    # Accounts: links sent by email carry their own authority.
    "accounts.accept_invitation": (public("staff_invitation"),),
    "accounts.account": (case(SIGNED_IN),),
    "accounts.change_password": (case(SIGNED_IN),),
    "accounts.check_email": (public(),),
    "accounts.forgot_password": (public(),),
    "accounts.register": (public(),),
    "accounts.resend_verification": (public(),),
    "accounts.reset_password": (public("reset_link"),),
    "accounts.sign_in": (public(),),
    "accounts.sign_out": (public(),),
    "accounts.verify_email": (public("verify_link"),),

    # Administration
    "admin.audit_log": (case(OFFICER, ADMIN),),
    "admin.invite_staff": (case(ADMIN),),
    "admin.providers": (case(STAFF),),
    "admin.resend_invitation": (case(ADMIN, scene="staff_user"),),
    "admin.set_active": (case(ADMIN, scene="staff_user"),),
    "admin.staff": (case(ADMIN),),
    "admin.staff_member": (case(ADMIN, scene="staff_user"),),
    "settings.edit": (case(ADMIN),),

    # Awards: procurement officers run them; administrators read and decide.
    "awards.award": (case(OFFICER, ADMIN, scene="awarded"),),
    "awards.bid_result": (organisation_a(scene="awarded", hidden=True),),
    "awards.challenge": (officer("awarded"),),
    "awards.confirm": (officer("awarded"),),
    "awards.decide": (case(OFFICER, ADMIN, scene="awarded"),),
    "awards.price_review": (officer("awarded"),),
    "awards.recommend": (officer("awarded"),),
    "awards.resolve": (officer("awarded"),),
    "awards.return_to_evaluation": (officer("awarded"),),

    # Bids: organisation A's bid is sealed from everyone else, council staff included.
    "bids.check": (bid_page(),),
    "bids.autosave_answer": (bid_page(),),
    "bids.dashboard": (case(PROVIDERS),),
    "bids.prepare_add_member": (bid_page(),),
    "bids.prepare_add_price_line": (bid_page(),),
    "bids.prepare_answer": (bid_page(),),
    "bids.prepare_consortium": (bid_page(),),
    "bids.prepare_declarations": (bid_page(),),
    "bids.prepare_documents": (bid_page(),),
    "bids.prepare_download_document": (bid_page(),),
    "bids.prepare_edit_member": (bid_page(),),
    "bids.prepare_eligibility": (bid_page(),),
    "bids.prepare_local_economy": (bid_page(),),
    "bids.prepare_lots": (bid_page(),),
    "bids.prepare_price": (bid_page(),),
    "bids.prepare_remove_commitment": (bid_page(),),
    "bids.prepare_remove_document": (bid_page(),),
    "bids.prepare_remove_member": (bid_page(),),
    "bids.prepare_remove_price_line": (bid_page(),),
    "bids.prepare_social_value": (bid_page(),),
    "bids.section": (bid_page(),),
    "bids.submit": (bid_page(),),
    "bids.version": (bid_page(),),
    "bids.withdraw": (bid_page(),),
    # "Your organisation's bid": organisation B is sent to start its own.
    "bids.task_list": (case(PROVIDERS, scene="bid", hidden=True),),
    "bids.start_bid": (case(PROVIDERS, scene="open", hidden=True),),

    # Clarification questions
    "clarifications.answer": (case(COUNCIL, scene="open"),),
    "clarifications.ask": (case(PROVIDERS, scene="open"),),
    "clarifications.mine": (case(PROVIDERS, scene="open"),),
    "clarifications.questions": (public("open"), case(COUNCIL, scene="draft", hidden=True)),
    "clarifications.staff_list": (case(COUNCIL, scene="open"),),

    # Evaluation: the officer runs it (and moderates this panel); the panel member scores; the commissioner who
    # wrote the opportunity but is not on its panel sees nothing.
    "evaluation.bid": (evaluation(PANEL_MEMBER, OFFICER),),
    "evaluation.bid_document": (evaluation(PANEL_MEMBER, OFFICER),),
    "evaluation.complete_moderation": (evaluation(OFFICER),),
    "evaluation.declaration": (evaluation(PANEL_MEMBER, OFFICER),),
    "evaluation.declare_later": (evaluation(PANEL_MEMBER, OFFICER),),
    "evaluation.moderate_bid": (evaluation(OFFICER),),
    "evaluation.moderation_sheet": (evaluation(OFFICER),),
    "evaluation.panels": (case(STAFF, hidden=True),),
    "evaluation.ranking": (evaluation(OFFICER),),
    "evaluation.score_bid": (evaluation(PANEL_MEMBER),),
    "evaluation.scoring": (evaluation(PANEL_MEMBER),),
    "evaluation.scoring_progress": (evaluation(OFFICER),),
    "evaluation.staff_add_evaluator": (evaluation(OFFICER),),
    "evaluation.staff_compliance": (evaluation(OFFICER),),
    "evaluation.staff_conflicts_assessment": (evaluation(OFFICER),),
    "evaluation.staff_mitigate": (evaluation(OFFICER),),
    "evaluation.staff_open": (evaluation(OFFICER),),
    "evaluation.staff_opening": (evaluation(OFFICER),),
    "evaluation.staff_overview": (evaluation(PANEL_MEMBER, OFFICER),),
    "evaluation.staff_panel": (evaluation(OFFICER),),
    "evaluation.staff_release": (evaluation(OFFICER),),
    "evaluation.staff_replace_member": (evaluation(OFFICER),),
    "evaluation.staff_set_moderator": (evaluation(OFFICER),),
    "evaluation.submit_scores": (evaluation(PANEL_MEMBER),),

    # Opportunities: the public side (drafts exist only for council staff) and the staff side.
    "opportunities.detail": (public("open"), case(COUNCIL, scene="draft", hidden=True)),
    "opportunities.document": (public("open"), case(NOBODY, scene="draft", hidden=True,
                                                    note="a draft's documents are not public, even to staff")),
    "opportunities.feed": (public(),),
    "opportunities.search": (public(),),
    "opportunities.save_search": (case(PROVIDERS),),
    "opportunities.saved_searches": (case(PROVIDERS),),
    "opportunities.saved_opportunities": (case(PROVIDERS),),
    "opportunities.delete_saved_search": (organisation_a(scene="saved_search"),),
    "opportunities.watch": (case(PROVIDERS, scene="open"),),
    "opportunities.unwatch": (case(PROVIDERS, scene="open"),),
    "opportunities.staff_list": (case(COUNCIL),),
    "opportunities.staff_create": (case(COMMISSIONER, PANEL_MEMBER),),
    "opportunities.staff_overview": (case(COUNCIL, scene="draft"), case(COUNCIL, scene="open")),
    "opportunities.staff_edit_details": (author(),),
    "opportunities.staff_timetable": (author(),),
    "opportunities.staff_lots": (case(COUNCIL, scene="draft"),),
    "opportunities.staff_add_lot": (author(),),
    "opportunities.staff_edit_lot": (author(),),
    "opportunities.staff_remove_lot": (author(),),
    "opportunities.staff_lot_model": (author(),),
    "opportunities.staff_documents": (case(COUNCIL, scene="draft", may_post=(COMMISSIONER,)),),
    "opportunities.staff_download_document": (case(COUNCIL, scene="draft"),),
    "opportunities.staff_remove_document": (author(),),
    "opportunities.staff_model": (case(COUNCIL, scene="draft"),),
    "opportunities.staff_add_criterion": (author(),),
    "opportunities.staff_edit_criterion": (author(),),
    "opportunities.staff_remove_criterion": (author(),),
    "opportunities.staff_move_criterion": (author(),),
    "opportunities.staff_model_reason": (author(),),
    "opportunities.staff_model_template": (author(),),
    "opportunities.staff_submit": (author(),),
    "opportunities.staff_approve": (officer("awaiting"),),
    "opportunities.staff_return": (case(COMMISSIONER, OFFICER, scene="awaiting"),),
    "opportunities.staff_amend": (case(COMMISSIONER, OFFICER, scene="open"),),
    "opportunities.staff_cancel": (case(COMMISSIONER, OFFICER, scene="open"),),

    # Organisations: members see their own; council staff see every provider's page.
    "organisations.cancel_invitation": (organisation_a(scene="organisation"),),
    "organisations.create": (case(NOBODY, note="a verified provider with no organisation yet: every provider "
                                               "here has one, and staff accounts do not bid"),),
    "organisations.edit": (organisation_a(scene="organisation"),),
    "organisations.join": (public("organisation"),),
    "organisations.members": (organisation_a(scene="organisation", hidden=True),),
    "organisations.mine": (case(PROVIDERS),),
    "organisations.remove_member": (organisation_a(scene="organisation"),),
    "organisations.show": (organisation_a(STAFF, scene="organisation"),),

    # Pages anyone may read
    "pages.accessibility": (public(),),
    "pages.cookies": (public(),),
    "pages.healthz": (public(),),
    "pages.home": (public(),),
    "static": (public("static"),),

    # Reports: the award report for the officers, administrators and the opportunity's author; each bidder's letter
    # for its own organisation.
    "reports.award_report_page": (case(COMMISSIONER, OFFICER, ADMIN, scene="awarded", hidden=True),),
    "reports.award_report_pdf": (case(COMMISSIONER, OFFICER, ADMIN, scene="awarded", hidden=True),),
    "reports.award_report_pdf_status": (case(COMMISSIONER, OFFICER, ADMIN, scene="awarded", hidden=True),),
    "reports.prepare_award_report_pdf": (case(COMMISSIONER, OFFICER, ADMIN, scene="awarded", hidden=True),),
    "reports.award_report_pdf_status_json": (case(COMMISSIONER, OFFICER, ADMIN, scene="awarded", hidden=True),),
    "reports.download_award_report_pdf": (case(COMMISSIONER, OFFICER, ADMIN, scene="awarded", hidden=True),),
    "reports.staff_letter": (case(COMMISSIONER, OFFICER, ADMIN, scene="awarded", hidden=True),),
    "reports.own_letter": (organisation_a(scene="awarded", hidden=True),),

    # Right to bid
    "right_to_bid.catalogue": (public(),),
    "right_to_bid.register": (public(),),
    "right_to_bid.service": (public("service"),),
    "right_to_bid.add_service": (officer(),),
    "right_to_bid.edit_service": (officer("service"),),
    "right_to_bid.propose": (case(SIGNED_IN, scene="service"),),
    "right_to_bid.mine": (case(SIGNED_IN),),
    "right_to_bid.proposal": (organisation_a(OFFICER, scene="proposal"),),
    "right_to_bid.queue": (officer(),),
    "right_to_bid.decide": (officer("proposal"),),

    # Transparency: open data for everyone; staff-only charts answer 404 to anyone else.
    "transparency.api_contract": (public("contract"),),
    "transparency.api_contracts": (public(),),
    "transparency.api_openapi": (public(),),
    "transparency.api_opportunities": (public(),),
    "transparency.api_opportunity": (public("open"),),
    "transparency.contract": (public("contract"),),
    "transparency.contracts": (public(),),
    "transparency.contracts_csv": (public(),),
    "transparency.dashboard": (public(),),
    "transparency.dashboard_csv": (public("public_chart"), case(STAFF, scene="staff_chart", hidden=True)),
    "transparency.kpi_report": (public(),),
    "transparency.ocds_opportunity": (public("open"), case(NOBODY, scene="draft", hidden=True,
                                                           note="drafts are not open data")),
    "transparency.ocds_releases": (public(),),
}
