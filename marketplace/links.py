"""Absolute links, for emails, feeds and open data: right in a request, a CLI command and a job worker alike.

BASE_URL (e.g. https://marketplace.kent.gov.uk) is the service's public address; production must set it. When it
is set every absolute link is built from it, in a request or not: an email never carries whatever host a client
sent (a forged Host header on a password-reset request cannot point the link elsewhere) and a feed's ids do not
change with the address it was fetched at. Without it (development, tests) links use the request's host, and
outside a request they need SERVER_NAME, as Flask's `url_for` does.

Commands that email or export links take `--base-url` (`base_url_option`) to give or override the address for
one run, applied with `links_from(url)`.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator
from urllib.parse import quote, urlsplit

import click
from flask import current_app, g, has_request_context, url_for

from config import check_base_url

NO_BASE_URL = ("Absolute links outside a request need the service's address: set BASE_URL, "
               "e.g. https://marketplace.kent.gov.uk")
_OVERRIDE = "links_base_url"  # on flask.g: one command's own address
_ANCHOR_SAFE = "%!#$&'()*+,/:;=?@"  # as url_for quotes an anchor


def base_url() -> str | None:
    """The configured public address (or one command's own), None when links follow the request."""
    return g.get(_OVERRIDE) or current_app.config.get("BASE_URL") or None


def absolute_url(endpoint: str, /, **values: Any) -> str:
    """`url_for(endpoint, **values, _external=True)`, built from BASE_URL when it is set."""
    base = base_url()
    if base:
        return _build_from(base, endpoint, values)
    if not has_request_context() and not current_app.config.get("SERVER_NAME"):
        raise RuntimeError(NO_BASE_URL)
    return url_for(endpoint, _external=True, **values)


def _build_from(base: str, endpoint: str, values: dict[str, Any]) -> str:
    """Build with the app's URL map bound to the base address: needs an app context, not a request."""
    address = urlsplit(base)
    adapter = current_app.url_map.bind(address.netloc, script_name=address.path or "/", url_scheme=address.scheme)
    anchor = values.pop("_anchor", None)
    current_app.inject_url_defaults(endpoint, values)
    url = adapter.build(endpoint, values, force_external=True)
    return f"{url}#{quote(anchor, safe=_ANCHOR_SAFE)}" if anchor else url


@contextmanager
def links_from(base: str | None) -> Iterator[None]:
    """Within the block links are built from `base` (a command's --base-url) when given, else as usual."""
    previous = g.get(_OVERRIDE)
    setattr(g, _OVERRIDE, base or previous)
    try:
        yield
    finally:
        setattr(g, _OVERRIDE, previous)


def base_url_option(purpose: str) -> Callable:
    """`--base-url URL` for a command that builds links outside a request: needed unless BASE_URL (or SERVER_NAME)
    is set."""

    def check(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
        if not value and not base_url() and not current_app.config.get("SERVER_NAME"):
            raise click.UsageError(f"Give --base-url (or set BASE_URL) for {purpose}.", ctx)
        try:
            check_base_url(value)
        except RuntimeError as error:
            raise click.BadParameter(str(error), ctx, param) from None
        return value

    return click.option("--base-url", metavar="URL", callback=check,
                        help=f"The service's address for {purpose}, e.g. https://marketplace.kent.gov.uk "
                             "(default: the BASE_URL setting)")
