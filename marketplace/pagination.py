"""Pagination for list pages: one count and one page query, whatever the number of rows."""

from __future__ import annotations

from flask import request, url_for

from marketplace.extensions import db


MAX_PAGE = 1_000_000  # far past any list's end; a larger number would overflow the database's OFFSET


def page_number() -> int:
    """The page asked for in the query string: 1 unless a whole number from 1 to MAX_PAGE."""
    number = request.args.get("page", 1, type=int)
    return number if 1 <= number <= MAX_PAGE else 1


def paginate(statement, per_page: int | None = None, count_statement=None):
    """A page of `statement`'s rows; `count_statement` counts them more cheaply than wrapping the statement."""
    from flask import current_app

    page = db.paginate(statement, page=page_number(), per_page=per_page or current_app.config["PAGE_SIZE"],
                       max_per_page=100, error_out=False, count=count_statement is None)
    if count_statement is not None:
        page.total = db.session.execute(count_statement).scalar_one()
    return page


def pagination_params(page) -> dict | None:
    """Parameters for the GOV.UK pagination component, keeping the current query string."""
    if page.pages <= 1:
        return None
    args = request.args.to_dict()

    def link(number: int) -> str:
        return url_for(request.endpoint, **{**(request.view_args or {}), **args, "page": number})

    params: dict = {"items": []}
    if page.has_prev:
        params["previous"] = {"href": link(page.prev_num)}
    if page.has_next:
        params["next"] = {"href": link(page.next_num)}
    for number in page.iter_pages(left_edge=1, left_current=1, right_current=1, right_edge=1):
        if number is None:
            params["items"].append({"ellipsis": True})
        else:
            params["items"].append({"number": number, "href": link(number), "current": number == page.page})
    return params
