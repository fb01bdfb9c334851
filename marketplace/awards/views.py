"""Award pages: the recommendation, abnormally-low price answers, approval, standstill and challenges,
confirmation (staff, under /commissioning/<id>/award), and a bidder's own result (under its bid's pages).

Thin views: look the opportunity up (hidden ones answer 404; the pages are for procurement officers and
administrators), parse the form, call one use case, flash and redirect, or show the page again with the errors
and everything typed. The same predicates decide what a page offers and what the server allows.
"""

from __future__ import annotations

from typing import Any, Callable

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from marketplace.authz import require, require_hidden
from marketplace.awards import bp, pages, permissions, reading, rules, services, standstill
from marketplace.awards import forms as f
from marketplace.bids.access import organisation_bid_or_404
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.forms import add_error
from marketplace.opportunities import permissions as opportunity_permissions
from marketplace.opportunities.models import Opportunity
from marketplace.timeutil import utcnow

PREFIX = "/commissioning/<int:opportunity_id>/award"


# Lookups and outcomes -----------------------------------------------------------------------------------

def opportunity_or_404(opportunity_id: int, officers_only: bool = True) -> Opportunity:
    """Opportunities never published answer 404 to everyone (nothing is awarded before publication); the pages
    are for procurement officers (and, to read and decide, administrators): anyone else gets 403."""
    opportunity = db.session.get(Opportunity, opportunity_id)
    require_hidden(opportunity is not None and opportunity_permissions.is_public(opportunity, utcnow()))
    require(permissions.can_run_awards(current_user) if officers_only else permissions.can_see_awards(current_user))
    return opportunity


def _award_page(opportunity: Opportunity):
    return redirect(url_for(".award", opportunity_id=opportunity.id))


def _done(form, action: Callable[[], Any]) -> Any:
    """Run a use case; on a refusal put its messages on the form (which keeps what was typed) and return None."""
    try:
        return action()
    except services.NotAllowed:
        db.session.rollback()
        abort(403)
    except DomainError as error:
        db.session.rollback()
        for each in getattr(error, "errors", [error]):
            add_error(form, each)
        return None


def _button(opportunity: Opportunity, action: Callable[[int | None], Any], success: Callable[[Any], str]):
    """A POST from a button on the award page, carrying the award's version: run it, say what happened."""
    form = f.VersionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        outcome = action(form.version_value())
    except services.NotAllowed:
        db.session.rollback()
        abort(403)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(success(outcome), "success")
    return _award_page(opportunity)


def _render(template: str, opportunity: Opportunity, **context):
    return render_template(template, opportunity=opportunity, rules=rules, **context)


def _evaluation_link(opportunity: Opportunity) -> str:
    """The evaluation overview, where the award is one stage; the opportunity's page in a build without it."""
    endpoint = ("evaluation.staff_overview" if "evaluation.staff_overview" in current_app.view_functions
                else "opportunities.staff_overview")
    return url_for(endpoint, opportunity_id=opportunity.id)


# The award page --------------------------------------------------------------------------------------------

@bp.get(PREFIX)
@login_required
def award(opportunity_id: int):
    opportunity = opportunity_or_404(opportunity_id, officers_only=False)
    return _render("awards/award.html", opportunity, back=_evaluation_link(opportunity),
                   **pages.award_page(opportunity, current_user))


# Recommending ----------------------------------------------------------------------------------------------

@bp.route(f"{PREFIX}/recommend", methods=["GET", "POST"])
@login_required
def recommend(opportunity_id: int):
    opportunity = opportunity_or_404(opportunity_id)
    context = pages.recommendation(opportunity)
    form = f.RecommendForm()
    form.set_tied(context["tied_choices"])
    if form.validate_on_submit() and _done(form, lambda: services.recommend(current_user, opportunity, services.
                                           RecommendationDetails(form.reasons.data, form.bid_id.data,
                                                                 form.tie_decision.data or ""))):
        flash("The award is recommended. Another procurement officer or an administrator must now approve it.",
              "success")
        return _award_page(opportunity)
    return _render("awards/recommend.html", opportunity, form=form, **context)


@bp.route(f"{PREFIX}/prices/<int:bid_id>", methods=["GET", "POST"])
@login_required
def price_review(opportunity_id: int, bid_id: int):
    opportunity = opportunity_or_404(opportunity_id)
    flag = pages.flag_of(opportunity, bid_id)
    require_hidden(flag is not None)
    form = f.PriceReviewForm()
    if form.validate_on_submit() and _done(form, lambda: services.record_price_review(
            current_user, opportunity, bid_id, services.PriceDecision(form.explanation.data, form.accepted,
                                                                      form.reason.data))):
        flash(f"The answer to {flag.name}'s abnormally low price is recorded.", "success")
        return _award_page(opportunity)
    return _render("awards/price_review.html", opportunity, form=form, flag=flag,
                   refusal=services.price_review_refusal(opportunity))


# Approving or returning ------------------------------------------------------------------------------------

@bp.route(f"{PREFIX}/decision", methods=["GET", "POST"])
@login_required
def decide(opportunity_id: int):
    opportunity = opportunity_or_404(opportunity_id, officers_only=False)
    form = f.DecisionForm()
    if form.validate_on_submit() and (decided := _done(form, lambda: services.decide(
            current_user, opportunity, form.decision.data, form.note.data, form.version_value()))):
        flash("The award is approved. The award notice is published, standstill has started and every bidder has "
              "been emailed." if decided.status == rules.APPROVED else
              "The recommendation is returned to evaluation with your note.", "success")
        return _award_page(opportunity)
    context = pages.award_page(opportunity, current_user)
    if context["award"] is not None:
        form.version.data = context["award"].version
    return _render("awards/decide.html", opportunity, form=form, **context)


# Standstill, challenges and confirmation ---------------------------------------------------------------------

@bp.route(f"{PREFIX}/challenges/new", methods=["GET", "POST"])
@login_required
def challenge(opportunity_id: int):
    opportunity = opportunity_or_404(opportunity_id)
    form = f.ChallengeForm()
    form.set_bidders(reading.bidders_of(opportunity.id))
    if form.validate_on_submit() and _done(form, lambda: standstill.record_challenge(
            current_user, opportunity, standstill.ChallengeDetails(form.organisation, form.received_at.data,
                                                                   form.summary.data))):
        flash("The challenge is recorded. The award is suspended until the challenge is resolved.", "success")
        return _award_page(opportunity)
    return _render("awards/challenge.html", opportunity, form=form,
                   standstill=pages.standstill_of(reading.current_award(opportunity.id)))


@bp.route(f"{PREFIX}/challenges/<int:challenge_id>", methods=["GET", "POST"])
@login_required
def resolve(opportunity_id: int, challenge_id: int):
    opportunity = opportunity_or_404(opportunity_id)
    award = reading.current_award(opportunity.id)
    found = next((c for c in reading.challenges_of(award.id) if c.id == challenge_id), None) if award else None
    require_hidden(found is not None)
    form = f.ResolveForm()
    if form.validate_on_submit() and _done(form, lambda: standstill.resolve_challenge(
            current_user, opportunity, challenge_id, form.outcome.data, form.resolution.data)):
        flash("The outcome of the challenge is recorded.", "success")
        return _award_page(opportunity)
    return _render("awards/resolve.html", opportunity, form=form, challenge=found,
                   organisations=dict(reading.bidders_of(opportunity.id)))


@bp.post(f"{PREFIX}/return")
@login_required
def return_to_evaluation(opportunity_id: int):
    opportunity = opportunity_or_404(opportunity_id)
    return _button(opportunity, lambda version: standstill.return_to_evaluation(current_user, opportunity, version),
                   lambda award: "The award is set aside and the opportunity is back in evaluation. A new "
                                 "recommendation can be made.")


@bp.post(f"{PREFIX}/confirm")
@login_required
def confirm(opportunity_id: int):
    opportunity = opportunity_or_404(opportunity_id)
    return _button(opportunity, lambda version: standstill.confirm(current_user, opportunity, version),
                   lambda contract: f"The award is confirmed and contract {contract.reference} is recorded.")


# A bidder's own result -------------------------------------------------------------------------------------

@bp.get("/opportunities/<int:opportunity_id>/bid/result")
@login_required
def bid_result(opportunity_id: int):
    """Only for members of the bidding organisation, and only once the award notice is published."""
    bid = organisation_bid_or_404(current_user, opportunity_id)
    opportunity = db.session.get(Opportunity, opportunity_id)
    result = pages.bidder_result(opportunity, bid)
    require_hidden(result is not None)
    return render_template("awards/result.html", opportunity=opportunity, bid=bid, result=result, rules=rules)


# The task list on the evaluation overview ------------------------------------------------------------------

@bp.app_template_global("award_tasks")
def award_tasks(opportunity: Opportunity) -> list[dict]:
    """The award stage as GOV.UK task list items, linked to the pages this person may open."""
    sees, runs = permissions.can_see_awards(current_user), permissions.can_run_awards(current_user)
    links = {"award": url_for("awards.award", opportunity_id=opportunity.id) if sees else None,
             "recommend": url_for("awards.recommend", opportunity_id=opportunity.id) if runs else None,
             "decision": url_for("awards.decide", opportunity_id=opportunity.id) if sees else None}
    return pages.hub_items(opportunity, links)
