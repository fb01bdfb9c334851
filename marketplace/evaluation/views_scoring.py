"""Independent scoring and moderation pages, under /commissioning/<opportunity_id>/evaluation.

Evaluators score on `scoring` and `score_bid` and submit on `submit_scores`; the moderator sets consensus scores
on `moderation` and `moderate_bid` and completes on `complete_moderation`; `ranking` shows the engine's ranking
from the consensus scores. A procurement officer may read the scoring progress, the moderation sheet and the
ranking. Anyone else, and everyone before the bids are released to the panel, gets 404.

Thin views: gate, call one service, flash and redirect, or render the page again with the errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_sqlalchemy.pagination import Pagination

from marketplace.authz import require_hidden
from marketplace.bids.views_submit import commitment_words, percent, pounds
from marketplace.errors import DomainError, NotFound
from marketplace.evaluation import access, bp, marking, moderation
from marketplace.evaluation import moderation_rules as rules
from marketplace.evaluation.forms_scoring import ConfirmForm, marks_form
from marketplace.evaluation.model_rules import DEFAULT_DESCRIPTORS
from marketplace.evaluation.models import EVALUATOR, MODERATOR, Evaluation
from marketplace.extensions import db
from marketplace.forms import add_error
from marketplace.opportunities.models import Opportunity
from marketplace.pagination import pagination_params

PREFIX = "/commissioning/<int:opportunity_id>/evaluation"
PER_PAGE = 25
FLAGGED = "flagged"
PRESENTERS = {"pounds": pounds, "percent": percent, "commitment_words": commitment_words}


# Gates ----------------------------------------------------------------------------------------------------

def _opportunity_or_404(opportunity_id: int) -> Opportunity:
    opportunity = db.session.get(Opportunity, opportunity_id)
    require_hidden(opportunity is not None)
    return opportunity


def _place_or_404(opportunity_id: int, role: str) -> Opportunity:
    """The opportunity, when the signed-in user is a cleared panel member in `role` (404 otherwise)."""
    require_hidden(access.cleared_member(current_user, opportunity_id, role) is not None)
    return _opportunity_or_404(opportunity_id)


def _released(opportunity_id: int) -> Evaluation | None:
    evaluation = access.evaluation_of(opportunity_id)
    return evaluation if evaluation is not None and evaluation.released_at is not None else None


def _overseer_or_404(opportunity_id: int) -> tuple[Opportunity, bool]:
    """The opportunity and whether the user moderates it, for the cleared moderator or a procurement officer
    (read-only), once bids are released; 404 for anyone else."""
    moderating = access.cleared_member(current_user, opportunity_id, MODERATOR) is not None
    require_hidden(_released(opportunity_id) is not None and (moderating or access.is_officer(current_user)))
    return _opportunity_or_404(opportunity_id), moderating


def _own_evaluation(opportunity_id: int) -> rules.Evaluator | None:
    """The user's own place as an evaluator, if they are one, as the rules see it."""
    member = next((m for m in access.memberships(current_user, opportunity_id) if m.role == EVALUATOR), None)
    return None if member is None else rules.Evaluator(member.user_id, "", member.scores_submitted_at is not None)


def _or_404(action: Callable[[], Any]) -> Any:
    try:
        return action()
    except NotFound:
        db.session.rollback()
        abort(404)


def _saved(form, action: Callable[[], Any]) -> bool:
    """Run a use case; on a refusal put its messages on the form (which keeps what was typed)."""
    try:
        _or_404(action)
    except DomainError as error:
        db.session.rollback()
        for each in getattr(error, "errors", [error]):
            add_error(form, each)
        return False
    return True


def _confirmed() -> None:
    if not ConfirmForm().validate_on_submit():
        abort(400)


class ListPage(Pagination):
    """One page of a list already in memory, for the GOV.UK pagination component."""

    def _query_items(self) -> list:
        start = (self.page - 1) * self.per_page
        return self._query_args["rows"][start:start + self.per_page]

    def _query_count(self) -> int:
        return len(self._query_args["rows"])


def _page_number() -> int:
    return request.args.get("page", 1, type=int)


def _page_of(rows: list) -> ListPage:
    return ListPage(page=_page_number(), per_page=PER_PAGE, error_out=False, rows=rows)


def _render(template: str, **context):
    return render_template(template, descriptors_of=descriptors_of, **PRESENTERS, **context)


def descriptors_of(criterion: Any) -> list[str]:
    """The criterion's scale descriptors; the standard ones for a 0 to 5 scale that has none of its own."""
    return list(criterion.descriptors or (DEFAULT_DESCRIPTORS if criterion.scale_max == 5 else ()))


# Scoring ------------------------------------------------------------------------------------------------

def _desk_page(opportunity: Opportunity, missing: list | None = None):
    desk = marking.desk(current_user, opportunity)
    page = _page_of(desk.rows)
    return _render("evaluation/score_desk.html", opportunity=opportunity, desk=desk, page=page, missing=missing,
                   pagination=pagination_params(page), form=None,
                   score_href=lambda bid_id: url_for(".score_bid", opportunity_id=opportunity.id, bid_id=bid_id))


@bp.get(f"{PREFIX}/scoring")
@login_required
def scoring(opportunity_id: int):
    return _desk_page(_place_or_404(opportunity_id, EVALUATOR))


@bp.route(f"{PREFIX}/scoring/bids/<int:bid_id>", methods=["GET", "POST"])
@login_required
def score_bid(opportunity_id: int, bid_id: int):
    opportunity = _place_or_404(opportunity_id, EVALUATOR)
    sheet = _or_404(lambda: marking.bid_sheet(current_user, opportunity, bid_id))
    form = marks_form([s.criterion for s in sheet.criteria], rules.JUSTIFICATION,
                      {s.criterion.id: s.mine for s in sheet.criteria})
    if form.validate_on_submit() and _saved(form, lambda: marking.save_scores(
            current_user, opportunity, bid_id, form.entries())):
        flash(f"Your scores for {sheet.bidder.organisation} are saved.", "success")
        return redirect(url_for(".scoring", opportunity_id=opportunity.id))
    return _render("evaluation/score_bid.html", opportunity=opportunity, sheet=sheet, form=form)


@bp.post(f"{PREFIX}/scoring/submit")
@login_required
def submit_scores(opportunity_id: int):
    opportunity = _place_or_404(opportunity_id, EVALUATOR)
    _confirmed()
    try:
        outcome = marking.submit_scores(current_user, opportunity)
    except marking.Incomplete as error:
        db.session.rollback()
        return _desk_page(opportunity, missing=error.missing), 400
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash("Your scores were already submitted." if outcome.duplicate else
              "Your scores are submitted. You can now see the scores of the other evaluators who have submitted.",
              "success")
    return redirect(url_for(".scoring", opportunity_id=opportunity.id))


@bp.get(f"{PREFIX}/scoring/progress")
@login_required
def scoring_progress(opportunity_id: int):
    opportunity, _ = _overseer_or_404(opportunity_id)
    require_hidden(rules.sees_scoring_progress(True, _own_evaluation(opportunity_id)))
    return _render("evaluation/score_progress.html", opportunity=opportunity, progress=marking.progress(opportunity),
                   calculated=marking.calculated(opportunity))


# Moderation ---------------------------------------------------------------------------------------------

def _sheet_page(opportunity: Opportunity, moderating: bool, missing: list | None = None):
    only_flagged = request.args.get("show") == FLAGGED
    sheet = moderation.sheet(opportunity, current_user if moderating else None, only_flagged, _page_number(),
                             PER_PAGE)
    page = _page_of(sheet.summaries)
    return _render("evaluation/moderation.html", opportunity=opportunity, sheet=sheet, moderating=moderating,
                   page=page, pagination=pagination_params(page), only_flagged=only_flagged, missing=missing,
                   form=None, moderate_href=lambda bid_id: url_for(".moderate_bid", opportunity_id=opportunity.id,
                                                                   bid_id=bid_id))


@bp.get(f"{PREFIX}/moderation")
@login_required
def moderation_sheet(opportunity_id: int):
    return _sheet_page(*_overseer_or_404(opportunity_id))


@bp.route(f"{PREFIX}/moderation/bids/<int:bid_id>", methods=["GET", "POST"])
@login_required
def moderate_bid(opportunity_id: int, bid_id: int):
    opportunity, moderating = _overseer_or_404(opportunity_id)
    review = _or_404(lambda: moderation.bid_review(opportunity, bid_id, current_user if moderating else None))
    form = marks_form(review.sheet.criteria, rules.REASON,
                      {cell.criterion.id: cell.consensus for cell in (review.row.cells if review.row else [])})
    if request.method == "POST":
        require_hidden(moderating)
        if form.validate_on_submit() and _saved(form, lambda: moderation.set_consensus(
                current_user, opportunity, bid_id, form.entries())):
            flash(f"The consensus scores for {review.row.bidder.organisation} are saved.", "success")
            return redirect(url_for(".moderation_sheet", opportunity_id=opportunity.id))
    return _render("evaluation/moderate_bid.html", opportunity=opportunity, review=review, form=form,
                   moderating=moderating)


@bp.post(f"{PREFIX}/moderation/complete")
@login_required
def complete_moderation(opportunity_id: int):
    opportunity = _place_or_404(opportunity_id, MODERATOR)
    _confirmed()
    try:
        outcome = _or_404(lambda: moderation.complete(current_user, opportunity))
    except marking.Incomplete as error:
        db.session.rollback()
        return _sheet_page(opportunity, True, missing=error.missing), 400
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for(".moderation_sheet", opportunity_id=opportunity.id))
    flash("Moderation was already complete." if outcome.duplicate else
          "Moderation is complete. The consensus scores are fixed and the bids are evaluated.", "success")
    return redirect(url_for(".ranking", opportunity_id=opportunity.id))


@bp.get(f"{PREFIX}/moderation/ranking")
@login_required
def ranking(opportunity_id: int):
    opportunity, _ = _overseer_or_404(opportunity_id)
    standing = moderation.standing(opportunity)
    page = _page_of(standing.rows if standing else [])
    return _render("evaluation/moderation_ranking.html", opportunity=opportunity, standing=standing, page=page,
                   pagination=pagination_params(page), calculated=marking.calculated(opportunity),
                   evaluation=_released(opportunity_id))


# The scoring and moderation stage of the evaluation overview ---------------------------------------------

@dataclass
class Stage:
    items: list[dict] = field(default_factory=list)  # GOV.UK task list items
    progress: list[marking.EvaluatorProgress] = field(default_factory=list)  # shown only to those who may see it


def _status(text: str, done: bool = False, cannot_start: bool = False) -> dict:
    if done:
        return {"text": text}
    if cannot_start:
        return {"text": text, "classes": "govuk-task-list__status--cannot-start-yet"}
    return {"tag": {"text": text, "classes": "govuk-tag--blue" if text == "In progress" else "govuk-tag--grey"}}


def _item(title: str, href: str | None, status: dict, hint: str | None = None) -> dict:
    item = {"title": {"text": title}, "status": status}
    if href:
        item["href"] = href
    if hint:
        item["hint"] = {"text": hint}
    return item


def _progress_status(mine: list) -> dict:
    done = bool(mine) and all(p.submitted for p in mine)
    return _status("Completed" if done else "In progress" if any(p.scored for p in mine) else "Not started",
                   done=done)


def _scoring_item(opportunity: Opportunity, progress: list, own, sees: bool) -> dict:
    """An evaluator's own item reads only their own progress, so nothing shows how far the others have got."""
    if own is not None:
        hint = ("You have submitted your scores." if own.submitted else
                f"You have scored {own.scored} of {own.required}.")
        return _item("Independent scoring", url_for("evaluation.scoring", opportunity_id=opportunity.id),
                     _progress_status([own]), hint)
    submitted = sum(p.submitted for p in progress)
    status = _progress_status(progress) if sees else _status("In progress")
    href = url_for("evaluation.scoring_progress", opportunity_id=opportunity.id) if sees else None
    return _item("Independent scoring", href, status,
                 f"{submitted} of {len(progress)} evaluators have submitted their scores." if sees else None)


def _moderation_item(opportunity: Opportunity, evaluation: Evaluation, oversees: bool) -> dict:
    state = moderation.status(opportunity, evaluation)
    href = url_for("evaluation.moderation_sheet", opportunity_id=opportunity.id) if oversees else None
    if state.completed:
        return _item("Moderation", href, _status("Completed", done=True), "The consensus scores are fixed.")
    if not state.open:
        return _item("Moderation", href, _status("Cannot start yet", cannot_start=True),
                     "Starts when every evaluator has submitted their scores.")
    return _item("Moderation", href, _status("In progress" if state.moderated else "Not started"),
                 f"{state.moderated} of {state.required} consensus scores set.")


@bp.app_template_global()
def scoring_stage(opportunity: Opportunity, evaluation: Evaluation | None) -> Stage:
    """The task list items for scoring and moderation on the evaluation overview, as the signed-in user may
    see them: an evaluator who has not submitted sees only their own progress."""
    if evaluation is None or evaluation.released_at is None:
        waiting = _status("Cannot start yet", cannot_start=True)
        return Stage([_item("Independent scoring", None, waiting, "Starts when the bids are released to the panel."),
                      _item("Moderation", None, waiting, "Starts when every evaluator has submitted their scores.")])
    oversees = (access.is_officer(current_user)
                or access.cleared_member(current_user, opportunity.id, MODERATOR) is not None)
    evaluating = access.cleared_member(current_user, opportunity.id, EVALUATOR) is not None
    progress = marking.progress(opportunity)
    own = next((p for p in progress if p.member.user_id == current_user.id), None) if evaluating else None
    sees = rules.sees_scoring_progress(oversees, _own_evaluation(opportunity.id))
    return Stage([_scoring_item(opportunity, progress, own, sees), _moderation_item(opportunity, evaluation, oversees)],
                 progress if sees else [])
