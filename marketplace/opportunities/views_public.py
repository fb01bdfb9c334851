"""Public pages: the opportunity list with search and filters, the opportunity page and its documents, the Atom
feed; and for provider users, saved searches and saved opportunities.

Thin views: parse, call one query or use case, flash, redirect or render. Drafts and opportunities awaiting
approval answer 404 to everyone but council staff, who see a preview marked "Not published".
"""

from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from marketplace.accounts import permissions as account_perms
from marketplace.authz import gate, require_hidden
from marketplace.clarifications.services import visible_questions
from marketplace.documents import path_for
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.forms import add_error
from marketplace.opportunities import alerts, bp, lifecycle, permissions
from marketplace.opportunities import search as finder
from marketplace.opportunities.models import DOCUMENT_KINDS, PROCEDURES, RESERVATIONS, Opportunity
from marketplace.opportunities.public_forms import SaveSearchForm, filter_params
from marketplace.pagecache import public_page
from marketplace.pagination import page_number, paginate, pagination_params
from marketplace.settings import services as settings
from marketplace.timeutil import utcnow

STATUS_TAG_CLASSES = {lifecycle.PUBLISHED: "govuk-tag--green", lifecycle.AWARDED: "govuk-tag--blue",
                      lifecycle.CANCELLED: "govuk-tag--red", lifecycle.DRAFT: "govuk-tag--grey",
                      lifecycle.AWAITING_APPROVAL: "govuk-tag--yellow"}


def _threshold():
    return settings.get("procurement_threshold")


# What the templates use to put an opportunity into words.
PRESENTERS = {
    "state_labels": lifecycle.STATE_LABELS, "tag_classes": STATUS_TAG_CLASSES, "procedures": PROCEDURES,
    "reservations": RESERVATIONS, "document_kinds": DOCUMENT_KINDS, "pounds": finder.pounds,
    "countdown": finder.countdown, "contract_period": finder.contract_period, "describe_file": finder.describe_file,
    "rfc3339": finder.rfc3339,
}


def _presenters(now) -> dict:
    return {**PRESENTERS, "now": now, "state_of": lambda opportunity: finder.state_of(opportunity, now)}


def get_opportunity_or_404(opportunity_id: int) -> Opportunity:
    """The public can see published opportunities; council staff can also preview the rest."""
    opportunity = db.session.execute(finder.detail_statement(), {"opportunity_id": opportunity_id}
                                     ).unique().scalar_one_or_none()
    require_hidden(opportunity is not None and permissions.can_view(current_user, opportunity, utcnow()))
    return opportunity


def get_public_opportunity_or_404(opportunity_id: int) -> Opportunity:
    opportunity = db.session.get(Opportunity, opportunity_id)
    require_hidden(opportunity is not None and permissions.is_public(opportunity, utcnow()))
    return opportunity


# Finding opportunities ----------------------------------------------------------------------------------

@bp.get("/opportunities")
@public_page
def search():
    criteria = finder.SearchCriteria.from_args(request.args)
    now, threshold = utcnow(), _threshold()
    page = finder.results_page(db.session(), criteria, now, threshold, page_number(),
                               current_app.config["PAGE_SIZE"])
    return render_template("opportunities/public/search.html", page=page, pagination=pagination_params(page),
                           criteria=criteria, filters=filter_params(criteria, threshold),
                           applied=criteria.applied(threshold), is_provider=account_perms.is_provider(current_user),
                           **_presenters(now))


@bp.get("/opportunities/<int:opportunity_id>")
@public_page
def detail(opportunity_id: int):
    opportunity = get_opportunity_or_404(opportunity_id)
    now = utcnow()
    is_provider = account_perms.is_provider(current_user)
    return render_template(
        "opportunities/public/detail.html", opportunity=opportunity, state=finder.state_of(opportunity, now),
        published=permissions.is_public(opportunity, now), models=finder.models_in_words(opportunity),
        questions=visible_questions(opportunity, current_user), is_provider=is_provider,
        watching=alerts.is_watching(current_user, opportunity),
        can_ask=is_provider and "clarifications.ask" in current_app.view_functions,
        can_bid=is_provider and current_user.membership is not None, **_presenters(now))


@bp.get("/opportunities/<int:opportunity_id>/documents/<int:document_id>")
def document(opportunity_id: int, document_id: int):
    """A published opportunity's document, downloaded with its stored type."""
    found = db.session.execute(
        finder.public_document_statement(opportunity_id, document_id, utcnow())).scalar_one_or_none()
    require_hidden(found is not None)
    try:
        path = path_for(found.storage_key)
    except FileNotFoundError:
        abort(404)
    require_hidden(path.exists())
    return send_file(path, mimetype=found.content_type, as_attachment=True, download_name=found.filename)


@bp.get("/opportunities.atom")
@public_page
def feed():
    now = utcnow()
    opportunities = db.session.execute(finder.feed_statement(now)).scalars().all()
    updated = max((o.updated_at for o in opportunities), default=now)
    body = render_template("opportunities/public/feed.xml", opportunities=opportunities, updated=updated,
                           **PRESENTERS)
    return Response(body, mimetype="application/atom+xml")


# Saved searches -----------------------------------------------------------------------------------------

@bp.get("/opportunities/saved-searches")
@gate(account_perms.is_provider)
def saved_searches():
    page = paginate(alerts.saved_searches_query(current_user))
    return render_template("opportunities/public/saved_searches.html", page=page,
                           pagination=pagination_params(page), criteria_of=alerts.criteria_of,
                           threshold=_threshold())


@bp.route("/opportunities/saved-searches/new", methods=["GET", "POST"])
@gate(account_perms.is_provider)
def save_search():
    """Save the search in the query string under a name."""
    criteria = finder.SearchCriteria.from_args(request.args)
    form = SaveSearchForm()
    if form.validate_on_submit():
        try:
            saved = alerts.save_search(current_user, form.name.data, criteria)
        except DomainError as error:
            add_error(form, error)
        else:
            flash(f"Your search ‘{saved.name}’ is saved. We will email you once a day when new opportunities "
                  "match it.", "success")
            return redirect(url_for(".saved_searches"))
    return render_template("opportunities/public/save_search.html", form=form, criteria=criteria,
                           description=criteria.describe(_threshold()))


@bp.post("/opportunities/saved-searches/<int:saved_search_id>/delete")
@gate(account_perms.is_provider)
def delete_saved_search(saved_search_id: int):
    saved = alerts.get_saved_search(current_user, saved_search_id)
    require_hidden(saved is not None)
    alerts.delete_search(current_user, saved)
    flash(f"Your saved search ‘{saved.name}’ is deleted. We will not email you about it again.", "success")
    return redirect(url_for(".saved_searches"))


# Saved opportunities ------------------------------------------------------------------------------------

@bp.get("/opportunities/saved")
@gate(account_perms.is_provider)
def saved_opportunities():
    now = utcnow()
    page = paginate(alerts.watched_query(current_user, now))
    return render_template("opportunities/public/saved_opportunities.html", page=page,
                           pagination=pagination_params(page), **_presenters(now))


def _back_to(opportunity: Opportunity):
    """Back to the saved list when the button was pressed there, else to the opportunity."""
    if request.form.get("from") == "saved":
        return redirect(url_for(".saved_opportunities"))
    return redirect(url_for(".detail", opportunity_id=opportunity.id))


@bp.post("/opportunities/<int:opportunity_id>/save")
@gate(account_perms.is_provider)
def watch(opportunity_id: int):
    opportunity = get_public_opportunity_or_404(opportunity_id)
    alerts.watch(current_user, opportunity)
    flash("Opportunity saved. We will email you when a question about it is answered or it changes.", "success")
    return _back_to(opportunity)


@bp.post("/opportunities/<int:opportunity_id>/unsave")
@gate(account_perms.is_provider)
def unwatch(opportunity_id: int):
    opportunity = get_public_opportunity_or_404(opportunity_id)
    alerts.unwatch(current_user, opportunity)
    flash(f"{opportunity.reference} is removed from your saved opportunities.", "success")
    return _back_to(opportunity)


@bp.record_once
def _register_cli(state) -> None:
    alerts.init_cli(state.app)
