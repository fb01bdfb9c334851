"""Template filters and the navigation that changes with the signed-in role."""

from __future__ import annotations

from flask import Flask, current_app, has_request_context, request, url_for
from flask_login import current_user

from marketplace.accounts import permissions as account_perms
from marketplace.accounts.roles import STAFF_ROLES
from marketplace.forms import error_summary
from marketplace.kent import locality_name
from marketplace.links import absolute_url
from marketplace.organisations.choices import ORGANISATION_TYPES, SIZES
from marketplace.taxonomy import category_name
from marketplace.timeutil import format_london


def _item(text: str, endpoint: str, section: tuple[str, ...] = ()) -> dict | None:
    """A navigation link; None when the page does not exist in this build. `section` marks the item active
    on every page whose endpoint starts with one of its prefixes."""
    if endpoint not in current_app.view_functions:
        return None
    current = request.endpoint == endpoint
    active = (request.endpoint or "").startswith(section) if section else False
    return {"text": text, "href": url_for(endpoint), "current": current, "active": active and not current}


FIND_SECTION = ("opportunities.search", "opportunities.detail", "opportunities.saved", "opportunities.save_",
                "clarifications.ask", "clarifications.questions", "clarifications.mine")
COMMISSIONING_SECTION = ("opportunities.staff_", "clarifications.staff_list", "clarifications.answer",
                         "evaluation.staff_", "evaluation.bid")
PANELS_SECTION = ("evaluation.panels", "evaluation.declar", "evaluation.scor", "evaluation.moderat")


def navigation_for(user) -> list[dict]:
    """Service navigation items for the signed-in user's roles (the same predicates the views use)."""
    signed_in = getattr(user, "is_authenticated", False)
    provider = signed_in and account_perms.is_provider(user)
    wanted = [
        ("Find opportunities", "opportunities.search", FIND_SECTION, True),
        ("Right to bid", "right_to_bid.catalogue", ("right_to_bid.",), True),
        ("Contracts", "transparency.contracts", ("transparency.contract",), True),
        ("Spending", "transparency.dashboard", ("transparency.dashboard",), True),
        ("Your bids", "bids.dashboard", ("bids.",), provider),
        ("Your organisation", "organisations.mine", ("organisations.",), provider),
        ("Commissioning", "opportunities.staff_list", COMMISSIONING_SECTION,
         account_perms.can_commission(user) or account_perms.can_run_procurement(user)),
        ("Your panels", "evaluation.panels", PANELS_SECTION,
         account_perms.can_commission(user) or account_perms.can_run_procurement(user)),
        ("Staff", "admin.staff", (), account_perms.can_administer(user)),
        ("Settings", "settings.edit", (), account_perms.can_administer(user)),
        ("Audit log", "admin.audit_log", (), account_perms.can_read_audit_log(user)),
        ("Your account", "accounts.account", ("accounts.",), signed_in),
    ]
    items = [_item(text, endpoint, section) for text, endpoint, section, show in wanted if show]
    return [item for item in items if item is not None]


def _navigation() -> dict:
    """No navigation outside a request: an email rendered by a command or the job worker has no page around it."""
    return {"service_navigation": navigation_for(current_user) if has_request_context() else []}


def init_app(app: Flask) -> None:
    app.context_processor(_navigation)
    app.jinja_env.filters["london"] = format_london
    app.jinja_env.filters["london_date"] = lambda value: format_london(value, with_time=False)
    app.jinja_env.filters["category_name"] = category_name
    app.jinja_env.filters["locality_name"] = locality_name
    app.jinja_env.filters["org_type_name"] = lambda key: ORGANISATION_TYPES.get(key, key)
    app.jinja_env.filters["size_name"] = lambda key: SIZES.get(key, key)
    app.jinja_env.filters["role_name"] = lambda key: STAFF_ROLES.get(key, key)
    app.jinja_env.globals["service_name"] = app.config["SERVICE_NAME"]
    app.jinja_env.globals["error_summary"] = error_summary
    app.jinja_env.globals["absolute_url"] = absolute_url
