"""Pagination for list pages: a count and a page query (or one query giving both), whatever the number of rows."""

from __future__ import annotations

from typing import Any, Callable, Sequence

from flask import current_app, request, url_for
from flask_sqlalchemy.pagination import Pagination

from marketplace.extensions import db


MAX_PAGE = 1_000_000  # far past any list's end; a larger number would overflow the database's OFFSET


def page_number() -> int:
    """The page asked for in the query string: 1 unless a whole number from 1 to MAX_PAGE."""
    number = request.args.get("page", 1, type=int)
    return number if 1 <= number <= MAX_PAGE else 1


def paginate(statement, per_page: int | None = None):
    """A page of `statement`'s rows and their count."""
    return db.paginate(statement, page=page_number(), per_page=per_page or current_app.config["PAGE_SIZE"],
                       max_per_page=100, error_out=False)


class _FetchedPage(Pagination):
    """A page whose rows and total one fetch gave (flask_sqlalchemy's Pagination, without its two queries)."""

    def _query_items(self) -> list[Any]:
        return self._query_args["fetched"][0]

    def _query_count(self) -> int:
        return self._query_args["fetched"][1]


def paginate_fetched(fetch: Callable[[int, int], tuple[Sequence[Any], int]], per_page: int | None = None):
    """A page of rows from `fetch(limit, offset) -> (rows, total)`, for lists that read both in one query."""
    number, size = page_number(), per_page or current_app.config["PAGE_SIZE"]
    return _FetchedPage(page=number, per_page=size, error_out=False,
                        fetched=fetch(size, (number - 1) * size))


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
