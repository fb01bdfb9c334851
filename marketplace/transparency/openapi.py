"""The OpenAPI 3.1 description of the read-only JSON API and the open contracting data, written by hand.

Schemas are JSON Schema 2020-12 (as OpenAPI 3.1 uses) and closed (`additionalProperties: false`), so a test
that validates real responses against them notices a field added to one and not the other.
"""

from __future__ import annotations

from marketplace.transparency.api import CONTRACT_PARAMETERS, OPPORTUNITY_PARAMETERS, REPEATABLE

STRING = {"type": "string"}
TEXT_OR_NULL = {"type": ["string", "null"]}
URL = {"type": "string", "format": "uri"}
URL_OR_NULL = {"type": ["string", "null"], "format": "uri"}
WHEN = {"type": ["string", "null"], "format": "date-time", "description": "UTC, RFC 3339"}
DAY = {"type": ["string", "null"], "format": "date"}
MONEY = {"type": "string", "pattern": r"^-?\d+\.\d{2}$", "description": "Pounds, to the penny, as a string"}
CURRENCY = {"const": "GBP"}
BOOLEAN = {"type": "boolean"}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def closed(properties: dict, optional: tuple[str, ...] = ()) -> dict:
    """An object with exactly these properties, all required but the optional ones."""
    return {"type": "object", "properties": properties,
            "required": [name for name in properties if name not in optional], "additionalProperties": False}


def array(items: dict) -> dict:
    return {"type": "array", "items": items}


CODE = closed({"code": STRING, "label": STRING})

SUMMARY = {
    "reference": STRING, "title": STRING, "summary": STRING, "status": ref("Code"), "category": ref("Code"),
    "localities": array(ref("Code")), "estimated_value": MONEY, "currency": CURRENCY, "reservation": ref("Code"),
    "published_at": WHEN, "submission_deadline": WHEN, "links": ref("OpportunityLinks"),
}
DETAIL = {
    "outcomes": array(STRING), "procedure": ref("Code"),
    "contract": closed({"start": DAY, "months": {"type": ["integer", "null"]}, "end": DAY, "description": STRING}),
    "clarification_deadline": WHEN, "contact": closed({"name": STRING, "email": STRING}),
    "lots": array(closed({"number": {"type": "integer"}, "title": STRING, "description": STRING,
                          "estimated_value": MONEY, "localities": array(ref("Code"))})),
    "evaluation": array(closed({"heading": TEXT_OR_NULL,
                                "criteria": array(closed({"title": STRING, "kind": STRING, "how": STRING}))})),
    "documents": array(closed({"title": STRING, "kind": ref("Code"), "content_type": STRING,
                               "size": {"type": "integer"}, "url": URL})),
    "amendments": array(closed({"published_at": WHEN, "summary": STRING, "previous_deadline": WHEN,
                                "new_deadline": WHEN, "changes_requirements": BOOLEAN})),
    "cancel_reason": TEXT_OR_NULL,
    "contracts": array(closed({"reference": STRING, "links": closed({"self": URL})})),
}

SCHEMAS = {
    "Code": CODE,
    "Error": closed({"error": closed({"status": {"type": "integer"}, "message": STRING})}),
    "Listing": closed({
        "page": {"type": "integer", "minimum": 1}, "per_page": {"type": "integer", "minimum": 1},
        "total": {"type": "integer", "minimum": 0}, "pages": {"type": "integer", "minimum": 0}}),
    "ListLinks": closed({"self": URL, "next": URL_OR_NULL, "prev": URL_OR_NULL}),
    "OpportunityLinks": closed({"self": URL, "html": URL, "ocds": URL}),
    "OpportunitySummary": closed(SUMMARY),
    "Opportunity": closed({**SUMMARY, **DETAIL}),
    "OpportunityList": closed({"data": array(ref("OpportunitySummary")), "meta": ref("Listing"),
                               "links": ref("ListLinks")}),
    "Contract": closed({
        "reference": STRING, "title": STRING, "description": STRING,
        "supplier": closed({"name": STRING, "companies_house_number": TEXT_OR_NULL, "charity_number": TEXT_OR_NULL,
                            "organisation_type": ref("Code"), "is_sme": BOOLEAN, "is_vcse": BOOLEAN,
                            "kent_based": BOOLEAN}),
        "category": ref("Code"), "value": MONEY, "currency": CURRENCY, "start_date": DAY, "end_date": DAY,
        "awarded_at": WHEN, "procurement_route": ref("Code"),
        "opportunity": closed({"reference": STRING, "links": ref("OpportunityLinks")}),
        "links": closed({"self": URL, "ocds": URL})}),
    "ContractList": closed({"data": array(ref("Contract")), "meta": ref("Listing"), "links": ref("ListLinks")}),
    "ReleasePackage": {
        "type": "object", "required": ["uri", "version", "publishedDate", "publisher", "releases"],
        "description": "An OCDS 1.1 release package (https://standard.open-contracting.org/1.1/en/schema/"
                       "release_package/) with the Bids, Lots and UK extensions; `links.next` and `links.prev` "
                       "page through the bulk releases."},
}


def query(name: str, description: str, values: list[str] | None = None, repeat: bool = False) -> dict:
    schema = {"type": "string"} if values is None else {"type": "string", "enum": values}
    if repeat:
        schema = array(schema)
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema,
            **({"style": "form", "explode": True} if repeat else {})}


def path(name: str, description: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": schema or STRING}


DESCRIPTIONS = {
    "q": "Keywords: every word must appear in the title, summary, outcomes or reference",
    "category": "Category (repeat for several)",
    "locality": "Kent district or county-wide (repeat for several)",
    "value": "Estimated value band (repeat for several)",
    "closing": "Closing within this many days",
    "reserved": "Reserved for Kent suppliers, or not",
    "status": "Status; `open` unless given",
    "sort": "Order; `closing` unless given",
    "page": "Page number, from 1. A page past the last answers 400.",
}
CONTRACT_DESCRIPTIONS = {**DESCRIPTIONS,
                         "q": "Keywords: every word must appear in the reference, title or supplier's name"}


def parameters(accepted: dict[str, list[str] | None], descriptions: dict[str, str]) -> list[dict]:
    """The query parameters a list accepts, with the values it accepts (the API's own table)."""
    return [query(name, descriptions[name], values, name in REPEATABLE) for name, values in accepted.items()]


def _json(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERROR_400 = _json("A parameter, value or page the API does not accept; the message says which", ref("Error"))
ERROR_404 = _json("No published record has this reference", ref("Error"))


def _get(summary: str, ok: dict, params: list[dict], *errors: tuple[str, dict]) -> dict:
    return {"get": {"summary": summary, "parameters": params,
                    "responses": {"200": ok, **dict(errors)}}}


PATHS = {
    "/api/v1/opportunities": _get(
        "Published opportunities, filtered like the public search",
        _json("A page of opportunities", ref("OpportunityList")),
        parameters(OPPORTUNITY_PARAMETERS, DESCRIPTIONS), ("400", ERROR_400)),
    "/api/v1/opportunities/{reference}": _get(
        "One published opportunity, as its public page shows it",
        _json("The opportunity", ref("Opportunity")), [path("reference", "For example KCC-2027-0001")],
        ("404", ERROR_404)),
    "/api/v1/contracts": _get(
        "Contracts awarded through the marketplace, newest first",
        _json("A page of contracts", ref("ContractList")), parameters(CONTRACT_PARAMETERS, CONTRACT_DESCRIPTIONS),
        ("400", ERROR_400)),
    "/api/v1/contracts/{reference}": _get(
        "One contract", _json("The contract", ref("Contract")), [path("reference", "The contract reference")],
        ("404", ERROR_404)),
    "/api/v1/openapi.json": _get("This description", _json("OpenAPI 3.1", {"type": "object"}), []),
    "/opportunities/{opportunity_id}/ocds.json": _get(
        "Every OCDS release of one published opportunity", _json("A release package", ref("ReleasePackage")),
        [path("opportunity_id", "The opportunity's number in its page address", {"type": "integer"})],
        ("404", ERROR_404)),
    "/data/ocds/releases.json": _get(
        "Every OCDS release, a page of opportunities at a time (oldest publication first)",
        _json("A release package", ref("ReleasePackage")), [query("page", DESCRIPTIONS["page"])],
        ("400", ERROR_400)),
}


def document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Kent Commissioning Marketplace open data", "version": "1.0.0",
                 "description": "Read-only JSON for published opportunities and awarded contracts, and open "
                                "contracting data (OCDS 1.1). Nothing about a bid appears before the "
                                "submission deadline, and only counts of bids until the award notice; errors "
                                "are JSON with a message.",
                 "license": {"name": "Open Government Licence v3.0",
                             "url": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"}},
        "paths": PATHS,
        "components": {"schemas": SCHEMAS},
    }
