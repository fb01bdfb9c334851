"""Open contracting data (OCDS 1.1): a release package per published opportunity and the bulk releases, page by
page. The JSON API's routes are in `api`; the `ocds-export` and `ocds-validate` commands in `cli`."""

from __future__ import annotations

from flask import current_app, request

from marketplace.extensions import db
from marketplace.opportunities import permissions
from marketplace.opportunities.models import Opportunity
from marketplace.timeutil import utcnow
from marketplace.transparency import bp, cli, ocds
from marketplace.transparency.api import BadQuery, check_query, json_response, page_number, problem

BULK_PARAMETERS: dict[str, list[str] | None] = {"page": None}


@bp.get("/opportunities/<int:opportunity_id>/ocds.json")
def ocds_opportunity(opportunity_id: int):
    opportunity, now = db.session.get(Opportunity, opportunity_id), utcnow()
    if opportunity is None or not permissions.is_public(opportunity, now):
        return problem(404, "No published opportunity has this number.")
    return json_response(ocds.opportunity_package(opportunity, now))


@bp.get("/data/ocds/releases.json")
def ocds_releases():
    try:
        check_query(request.args, BULK_PARAMETERS, frozenset())
        page = ocds.releases_page(page_number(request.args), current_app.config["PAGE_SIZE"], utcnow())
    except (BadQuery, ocds.PageOutOfRange) as error:
        return problem(400, error.message)
    return json_response(page.package)


@bp.record_once
def _register_cli(state) -> None:
    cli.init_cli(state.app)
