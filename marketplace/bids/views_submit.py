"""Submission pages: check your answers, submit, each version's receipt, withdraw; the provider dashboard.

Thin views over bids.submission. Every bid page is looked up through the signed-in user's organisation
(bids.access), so another organisation's bid, or a bid of one that does not exist, answers 404 alike.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from itertools import groupby

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from markupsafe import Markup
from werkzeug.routing import BuildError
from wtforms import HiddenField

from marketplace.accounts import permissions as account_perms
from marketplace.authz import gate, require_hidden
from marketplace.bids import bp, measures, rules, submission
from marketplace.bids.access import organisation_bid_or_404
from marketplace.bids.dashboard import lists as dashboard_lists
from marketplace.bids.models import Bid
from marketplace.bids.preparation import MEMBER_ROLES
from marketplace.errors import DomainError
from marketplace.forms import BaseForm, add_error
from marketplace.opportunities.search import countdown
from marketplace.organisations.choices import ORGANISATION_TYPES, SIZES
from marketplace.pagination import paginate_fetched, pagination_params
from marketplace.timeutil import utcnow

STATUS_TAG_CLASSES = {rules.DRAFT: "govuk-tag--grey", rules.SUBMITTED: "govuk-tag--green",
                      rules.WITHDRAWN: "govuk-tag--yellow", rules.SUCCESSFUL: "govuk-tag--green",
                      rules.UNSUCCESSFUL: "govuk-tag--red", rules.EXCLUDED: "govuk-tag--red"}


class SubmitForm(BaseForm):
    """The check page's Submit button: the bid version the user checked (a double-click sends it twice)."""

    version = HiddenField()


class WithdrawForm(BaseForm):
    """The version being withdrawn, as shown on the confirmation page."""

    number = HiddenField()


def _whole_number(raw: str | None) -> int | None:
    text = (raw or "").strip()
    return int(text) if text.isdigit() and len(text) <= 9 else None


# Presenting ----------------------------------------------------------------------------------------------

def _decimal(value) -> Decimal | None:
    try:
        return None if value in (None, "") else Decimal(str(value))
    except InvalidOperation:
        return None


def pounds(value) -> str:
    """'£987,654.32' or '£40,000' from a Decimal or the sealed content's string; 'Not given' when blank."""
    amount = _decimal(value)
    if amount is None:
        return "Not given"
    return f"£{amount:,.0f}" if amount == amount.to_integral_value() else f"£{amount:,.2f}"


def percent(share) -> str:
    """A share of 0..1 as '35%' or '12.5%'."""
    amount = _decimal(share)
    if amount is None:
        return "Not given"
    return f"{(amount * 100).quantize(Decimal('0.1')).normalize():f}%"


def quantity(value) -> str:
    amount = _decimal(value)
    return "" if amount is None else f"{amount.normalize():,f}"


def commitment_words(item: dict) -> str:
    return measures.describe(item["measure"], _decimal(item["quantity"]) or Decimal(0), item.get("unit"))


def _link(endpoint: str, **args) -> str | None:
    """A link to a page of this build, or None when it does not have that page (yet)."""
    if endpoint not in current_app.view_functions:
        return None
    try:
        return url_for(endpoint, **args)
    except BuildError:
        return None


def section_href(opportunity_id: int, section: str) -> str | None:
    """The bid preparation page that fixes a section: the section itself, else the task list."""
    return (_link("bids.section", opportunity_id=opportunity_id, section=section)
            or _link("bids.task_list", opportunity_id=opportunity_id))


def continue_href(opportunity_id: int) -> str:
    """Where to carry on preparing a bid: the task list, or this check page in a build without one."""
    return _link("bids.task_list", opportunity_id=opportunity_id) or url_for("bids.check",
                                                                            opportunity_id=opportunity_id)


PRESENTERS = {"pounds": pounds, "percent": percent, "quantity": quantity, "commitment_words": commitment_words,
              "receipt_time": submission.receipt_time, "status_labels": rules.STATUS_LABELS,
              "status_tag_classes": STATUS_TAG_CLASSES, "org_types": ORGANISATION_TYPES, "sizes": SIZES,
              "member_roles": MEMBER_ROLES, "section_href": section_href, "continue_href": continue_href,
              "count_words": rules.count_words}


def _render(template: str, **context):
    return render_template(template, **PRESENTERS, **context)


# Check your answers and submit ---------------------------------------------------------------------------

def _check_page(bid: Bid, form: SubmitForm):
    return _render("bids/submit/check.html", form=form, bid=bid, review=submission.review(bid, utcnow()),
                   change=partial(section_href, bid.opportunity_id),
                   task_list_href=_link("bids.task_list", opportunity_id=bid.opportunity_id))


@bp.get("/opportunities/<int:opportunity_id>/bid/check")
@login_required
def check(opportunity_id: int):
    return _check_page(organisation_bid_or_404(current_user, opportunity_id), SubmitForm())


@bp.post("/opportunities/<int:opportunity_id>/bid/submit")
@login_required
def submit(opportunity_id: int):
    bid = organisation_bid_or_404(current_user, opportunity_id)
    form = SubmitForm()
    try:
        outcome = submission.submit(current_user, bid, _whole_number(form.version.data))
    except DomainError as error:
        add_error(form, error)
        return _check_page(bid, form)
    if outcome.duplicate:
        flash("Your bid had already been submitted, so it was not submitted twice. This is its receipt.")
    else:
        flash("Your bid has been submitted. We have emailed you this receipt.", "success")
    return redirect(url_for(".version", opportunity_id=opportunity_id, number=outcome.submission.number))


@bp.get("/opportunities/<int:opportunity_id>/bid/versions/<int:number>")
@login_required
def version(opportunity_id: int, number: int):
    """One submitted version, read-only, from its sealed content, with its receipt and the other versions."""
    bid = organisation_bid_or_404(current_user, opportunity_id)
    found = submission.get_version(bid, number)
    require_hidden(found is not None)
    return _render("bids/submit/version.html", bid=bid, sealed=found, content=submission.sealed_content(found),
                   counting=submission.counting_submission(bid), refusal=submission.open_refusal(
                       submission.opportunity_of(bid), utcnow()))


# Withdraw ------------------------------------------------------------------------------------------------

@bp.route("/opportunities/<int:opportunity_id>/bid/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(opportunity_id: int):
    bid = organisation_bid_or_404(current_user, opportunity_id)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            outcome = submission.withdraw(current_user, bid, _whole_number(form.number.data))
        except DomainError as error:
            add_error(form, error)
        else:
            flash(f"Version {outcome.submission.number} of your bid is withdrawn. It no longer counts. You can "
                  "change your bid and submit it again before the deadline.", "success")
            return redirect(url_for(".check", opportunity_id=opportunity_id))
    return _render("bids/submit/withdraw.html", form=form, bid=bid, review=submission.review(bid, utcnow()))


# The provider dashboard ----------------------------------------------------------------------------------

@bp.get("/bids")
@gate(account_perms.is_provider)
def dashboard():
    membership = current_user.membership
    if membership is None:
        return _render("bids/dashboard.html", lists=None)
    now = utcnow()
    lists = dashboard_lists(membership.organisation_id, now, partial(_dashboard_lists, membership.organisation_id, now))
    return _render("bids/dashboard.html", lists=Markup(lists))  # nosec B704 # rendered by our autoescaping template


def _dashboard_lists(organisation_id: int, now: datetime) -> str:
    page = paginate_fetched(partial(submission.dashboard_page, organisation_id, now))
    groups = [(group, list(items)) for group, items in groupby(page.items, key=lambda row: row.group)]
    return _render("bids/_dashboard_lists.html", groups=groups, page=page, pagination=pagination_params(page),
                   now=now, countdown=countdown)
