"""The people and objects the security sweeps use, built once per test module with the suite's builders.

People (`ACTORS`): signed out; the owner of organisation A, which bids; the owner of organisation B, another
provider; a commissioner who wrote every opportunity here; a commissioner who sits on a panel; a procurement
officer; an administrator.

Objects, by scene (the objects a route's URL arguments name, `World.arguments`):

    draft        the commissioner's draft opportunity: a lot, its model and criteria, a document
    awaiting     an opportunity awaiting approval
    open         a published opportunity open for bids, with a document and organisation A's clarification question
    bid          organisation A's submitted bid on it: a version, a document, a consortium member, a price line,
                 a social value commitment
    panel        an opportunity in evaluation, its bids released to a panel: the panel member is an evaluator,
                 the procurement officer the moderator
    awarded      an awarded opportunity (organisation A bid and lost), with a challenge, an abnormally low
                 price that was explained, and a stored PDF of its award report
    organisation organisation A: a colleague's membership, an open invitation
    ...          and a right-to-bid service and organisation A's proposal, a saved search, a staff account, a
                 contract, the spending charts and the signed links sent by email (made fresh for each request,
                 since using one changes what it signs)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Callable

import sqlalchemy as sa
from flask import Flask
from werkzeug.routing import Rule

from marketplace import documents
from marketplace.accounts import tokens
from marketplace.accounts.models import User
from marketplace.accounts.services import _password_fingerprint
from marketplace.audit import AuditEvent
from marketplace.awards.models import Challenge
from marketplace.bids import submission
from marketplace.clarifications.services import ask_question
from marketplace.evaluation.models import MODERATOR, ConflictDeclaration
from marketplace.extensions import db
from marketplace.opportunities import alerts
from marketplace.opportunities.models import OpportunityDocument
from marketplace.opportunities.search import SearchCriteria
from marketplace.reports.models import READY, ReportRender
from marketplace.organisations import services as organisation_services
from marketplace.timeutil import utcnow
from tests.builders import PDF, make_bid, make_opportunity
from tests.conftest import sign_in_as
from tests.evaluation_builders import released_panel, seat
from tests.factories import OrganisationFactory, StaffFactory, UserFactory, colleague, provider
from tests.integration.test_right_to_bid_services import make_proposal, make_service
from tests.report_builders import evaluated

ANONYMOUS, PROVIDER, OTHER_PROVIDER = "anonymous", "provider", "other_provider"
COMMISSIONER, PANEL_MEMBER, OFFICER, ADMIN = "commissioner", "panel_member", "officer", "admin"
ACTORS = (ANONYMOUS, PROVIDER, OTHER_PROVIDER, COMMISSIONER, PANEL_MEMBER, OFFICER, ADMIN)

SIGN_IN_PATH = "/sign-in"


@dataclass
class World:
    app: Flask
    actors: dict[str, User | None]
    scenes: dict[str, dict[str, Any]]
    objects: dict[str, Any] = field(default_factory=dict)  # what a module adds for its own tests

    def arguments(self, rule: Rule, scene: str) -> dict[str, Any]:
        """The values for the rule's URL arguments from the scene's objects (callables are made fresh)."""
        values = self.scenes[scene]
        missing = sorted(set(rule.arguments) - set(values))
        assert not missing, f"scene {scene!r} has no value for {missing} of {rule.rule} ({rule.endpoint})"
        return {name: (values[name]() if callable(values[name]) else values[name]) for name in rule.arguments}

    def url(self, rule: Rule, scene: str) -> str:
        adapter = self.app.url_map.bind("localhost")
        return adapter.build(rule.endpoint, self.arguments(rule, scene))

    def client(self, actor: str):
        client = self.app.test_client()
        if self.actors[actor] is not None:
            sign_in_as(client, self.actors[actor])
        return client


def rules_of(app: Flask) -> dict[str, Rule]:
    """Every route by endpoint (one rule each)."""
    found: dict[str, Rule] = {}
    for rule in app.url_map.iter_rules():
        assert rule.endpoint not in found, f"{rule.endpoint} has two rules; the sweeps expect one"
        found[rule.endpoint] = rule
    return found


def audit_events() -> int:
    """How many audit events there are: every change the application makes writes one."""
    return db.session.execute(sa.select(sa.func.count(AuditEvent.id))).scalar_one()


# Building -------------------------------------------------------------------------------------------------

def add_document(opportunity) -> OpportunityDocument:
    stored = documents.store("specification.pdf", PDF)
    document = OpportunityDocument(opportunity_id=opportunity.id, kind="specification", title="Specification",
                                   filename=stored.filename, content_type=stored.content_type, size=stored.size,
                                   sha256=stored.sha256, storage_key=stored.storage_key)
    db.session.add(document)
    db.session.commit()
    return document


def _staff() -> dict[str, User]:
    return {COMMISSIONER: StaffFactory(roles=["commissioner"], full_name="Chris Author"),
            PANEL_MEMBER: StaffFactory(roles=["commissioner"], full_name="Pam Panel"),
            OFFICER: StaffFactory(roles=["procurement_officer"], full_name="Olly Officer"),
            ADMIN: StaffFactory(roles=["administrator"], full_name="Ada Administrator")}


def _drafts(author) -> dict[str, dict]:
    draft = make_opportunity(author, lots=1, status="draft", published_at=None, publication_date=None)
    awaiting = make_opportunity(author, status="awaiting_approval", published_at=None, publication_date=None)
    model = draft.models[0]
    return {"draft": {"opportunity_id": draft.id, "model_id": model.id, "criterion_id": model.criteria[1].id,
                      "lot_id": draft.lots[0].id, "document_id": add_document(draft).id},
            "awaiting": {"opportunity_id": awaiting.id, "model_id": awaiting.models[0].id}}


def _open(author, bidder) -> dict[str, dict]:
    """A published opportunity open for bids, organisation A's submitted bid and clarification question."""
    opportunity = make_opportunity(author, lots=1)
    bid = make_bid(opportunity, bidder.membership.organisation)
    submission.submit(bidder, bid, bid.version)
    question = ask_question(bidder, opportunity, "Can volunteers claim travel expenses?")
    quality = next(c for c in opportunity.models[0].criteria if c.kind == "quality")
    open_scene = {"opportunity_id": opportunity.id, "document_id": add_document(opportunity).id,
                  "question_id": question.id, "model_id": opportunity.models[0].id,
                  "lot_id": opportunity.lots[0].id, "reference": opportunity.reference}
    bid_scene = {"opportunity_id": opportunity.id, "document_id": bid.documents[0].id, "number": 1,
                 "member_id": bid.members[0].id, "line_id": bid.price_lines[0].id,
                 "commitment_id": bid.commitments[0].id, "criterion_id": quality.id, "section": "price"}
    return {"open": open_scene, "bid": bid_scene}


def _panel(author, member, moderator) -> dict:
    panel = released_panel(author=author, evaluators=1, moderator=False, bid_count=2)
    seat(panel.opportunity, member)
    seat(panel.opportunity, moderator, MODERATOR)
    declaration = db.session.query(ConflictDeclaration).filter_by(opportunity_id=panel.opportunity.id,
                                                                  user_id=member.id).one()
    bid = panel.bids[0]
    return {"opportunity_id": panel.opportunity.id, "bid_id": bid.id, "document_id": bid.documents[0].id,
            "member_id": panel.member(panel.evaluators[0]).id, "declaration_id": declaration.id}


def _stored_render(state) -> ReportRender:
    """A ready PDF of the award report, as the job worker stores one (a stand-in file)."""
    stored = documents.store("award-report.pdf", PDF)
    render = ReportRender(opportunity_id=state.opportunity.id, requested_by_id=state.officer.id, status=READY,
                          finished_at=utcnow(), fingerprint="0" * 64, storage_key=stored.storage_key,
                          filename=stored.filename, size=stored.size, sha256=stored.sha256)
    db.session.add(render)
    db.session.commit()
    return render


def _awarded(author):
    """The report builders' awarded tender; its fourth bid's abnormally low price was explained; a stored PDF of
    its award report."""
    state = evaluated(author)
    challenge = Challenge(award_id=state.award.id, organisation_id=state.bids[1].organisation_id,
                          received_at=utcnow() - timedelta(days=3), summary="The scoring of quality was unfair.")
    db.session.add(challenge)
    db.session.commit()
    return state, {"opportunity_id": state.opportunity.id, "bid_id": state.bids[3].id, "challenge_id": challenge.id,
                   "render_id": _stored_render(state).id}


def _organisation(owner) -> dict:
    organisation = owner.membership.organisation
    mate = colleague(organisation)
    invitation = organisation_services.invite_colleague(owner, organisation, "invited@example.org")
    return {"organisation_id": organisation.id, "membership_id": mate.membership.id, "invitation_id": invitation.id,
            "token": lambda: tokens.make_token(tokens.ORG_INVITE, invitation.id,
                                               organisation_services._invitation_fingerprint(invitation))}


def _user_link(purpose: str, user: User) -> Callable[[], str]:
    return lambda: tokens.make_token(purpose, user.id, _password_fingerprint(db.session.get(User, user.id)))


def _accounts() -> dict[str, dict]:
    unverified = UserFactory(email_verified_at=None)
    resetting = UserFactory()
    invited = StaffFactory(roles=["commissioner"], password_hash=None)
    return {"verify_link": {"token": _user_link(tokens.VERIFY, unverified)},
            "reset_link": {"token": _user_link(tokens.RESET, resetting)},
            "staff_invitation": {"token": _user_link(tokens.STAFF_INVITE, invited)},
            "staff_user": {"user_id": StaffFactory(roles=["commissioner"], full_name="Vic Victim").id}}


def _others(bidder, contract) -> dict[str, dict]:
    service = make_service()
    saved = alerts.save_search(bidder, "Befriending", SearchCriteria.from_args({}))
    return {"service": {"service_id": service.id}, "proposal": {"proposal_id": make_proposal(bidder, service).id},
            "saved_search": {"saved_search_id": saved.id},
            "contract": {"contract_id": contract.id, "reference": contract.reference},
            "public_chart": {"key": "supplier-shares"}, "staff_chart": {"key": "pipeline-list"},
            "static": {"filename": "build/app.css"}}


def build_world(app: Flask) -> World:
    with app.test_request_context():
        staff = _staff()
        author = staff[COMMISSIONER]
        state, awarded = _awarded(author)
        bidder = state.owners[0]
        actors = {ANONYMOUS: None, PROVIDER: bidder,
                  OTHER_PROVIDER: provider(OrganisationFactory(legal_name="Organisation B")), **staff}
        scenes = {"none": {}, **_drafts(author), "awarded": awarded, **_open(author, bidder),
                  "panel": _panel(author, staff[PANEL_MEMBER], staff[OFFICER]), "organisation": _organisation(bidder),
                  **_accounts(), **_others(bidder, state.contract)}
    return World(app, actors, scenes)
