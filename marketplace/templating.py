"""Template filters and the navigation that changes with the signed-in role."""

from __future__ import annotations

from flask import Flask, request, url_for
from flask_login import current_user

from marketplace.accounts import permissions as account_perms
from marketplace.accounts.roles import STAFF_ROLES
from marketplace.forms import error_summary
from marketplace.kent import locality_name
from marketplace.organisations.choices import ORGANISATION_TYPES, SIZES
from marketplace.taxonomy import category_name
from marketplace.timeutil import format_london


def _item(text: str, endpoint: str, **values) -> dict:
    href = url_for(endpoint, **values)
    current = request.endpoint == endpoint
    return {"text": text, "href": href, "current": current}


def navigation_for(user) -> list[dict]:
    """Service navigation items for the signed-in user's roles (the same predicates the views use)."""
    items = [_item("Home", "pages.home")]
    if not getattr(user, "is_authenticated", False):
        return items
    if account_perms.is_provider(user):
        items.append(_item("Your organisation", "organisations.mine"))
    if account_perms.can_administer(user):
        items.append(_item("Staff", "admin.staff"))
    if account_perms.can_read_audit_log(user):
        items.append(_item("Audit log", "admin.audit_log"))
    items.append(_item("Your account", "accounts.account"))
    return items


def _navigation() -> dict:
    return {"service_navigation": navigation_for(current_user)}


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
