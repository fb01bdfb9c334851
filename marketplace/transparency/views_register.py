"""The public contract register: the list with its filters, one contract, and the CSV of the filtered register.

Thin views: parse the filters (a nonsense value gets a message by its filter; the others still apply), call the
register's query, render. A contract that is not on the register (below the threshold, or not awarded) is a 404.
"""

from __future__ import annotations

from flask import Response, current_app, redirect, render_template, request, stream_with_context, url_for

from marketplace.authz import require_hidden
from marketplace.pagecache import public_page
from marketplace.pagination import pagination_params
from marketplace.settings import services as settings
from marketplace.transparency import bp, register
from marketplace.transparency.forms import register_filter_form

CSV_FILENAME = "contract-register.csv"
BYTE_ORDER_MARK = "\ufeff"  # so that spreadsheet programs read the file as UTF-8 (the £ in a heading)


def _threshold():
    return settings.get("contract_register_threshold")


def csv_response(lines, filename: str) -> Response:
    """A CSV download, streamed line by line."""
    def body():
        yield BYTE_ORDER_MARK
        yield from lines

    return Response(stream_with_context(body()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/contracts")
@public_page
def contracts():
    form = register_filter_form(request.args)
    query, threshold = form.query(), _threshold()
    page = register.register_page(query, threshold, register.page_number(request.args.get("page")),
                                  current_app.config["PAGE_SIZE"])
    return render_template("transparency/contracts.html", form=form, query=query, page=page,
                           pagination=pagination_params(page), threshold=threshold, rule=register.REVIEW_RULE,
                           sorts=register.SORTS)


@bp.get("/contracts.csv")
def contracts_csv():
    form = register_filter_form(request.args)
    if form.errors:
        return redirect(url_for(".contracts", **request.args))
    entries = register.all_entries(form.query(), _threshold())
    return csv_response(register.csv_lines(register.CSV_HEADER, map(register.csv_row, entries)), CSV_FILENAME)


@bp.get("/contracts/<int:contract_id>")
@public_page
def contract(contract_id: int):
    row = register.contract_row(contract_id, _threshold())
    require_hidden(row is not None)
    return render_template("transparency/contract.html", entry=register.RegisterEntry.of(row),
                           rule=register.REVIEW_RULE, commitments=register.commitments_of(row[0]),
                           supply_chain=register.supply_chain_of(row[0]))
