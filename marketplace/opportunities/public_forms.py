"""Forms on the public opportunity pages.

The search filters are a plain GET form: their values are parsed (and unknown ones dropped) by
`search.SearchCriteria`, never validated with errors, so this module only builds the GOV.UK components'
parameters for them. Saving a search is a POST form with a name.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Iterable

from marketplace.forms import BaseForm, required_text, submit
from marketplace.kent import LOCALITY_CHOICES
from marketplace.opportunities.alerts import NAME_MAX
from marketplace.opportunities.search import (
    CLOSING_CHOICES,
    KEYWORDS_MAX,
    RESERVED_CHOICES,
    SORT_CHOICES,
    STATUS_CHOICES,
    SearchCriteria,
    value_bands,
)
from marketplace.taxonomy import CATEGORY_CHOICES


class SaveSearchForm(BaseForm):
    name = required_text("Name this search", NAME_MAX, "Enter a name for this search",
                         hint="For example, Care services in Thanet. You will see it in your saved searches and in "
                              "the emails we send.")
    submit = submit("Save search")


def _legend(text: str) -> dict:
    return {"legend": {"text": text, "classes": "govuk-fieldset__legend--s"}}


def _checkboxes(name: str, legend: str, choices: Iterable[tuple[str, str]], chosen: Iterable[str]) -> dict:
    chosen = set(chosen)
    return {"name": name, "idPrefix": f"filter-{name}", "classes": "govuk-checkboxes--small",
            "fieldset": _legend(legend),
            "items": [{"value": value, "text": text, "checked": value in chosen} for value, text in choices]}


def _radios(name: str, legend: str, choices: list[tuple[str, str]], chosen: str) -> dict:
    return {"name": name, "idPrefix": f"filter-{name}", "classes": "govuk-radios--small",
            "fieldset": _legend(legend),
            "items": [{"value": value, "text": text, "checked": value == chosen} for value, text in choices]}


def filter_params(criteria: SearchCriteria, threshold: Decimal) -> dict:
    """Parameters for the GOV.UK components of the filter form, showing the current criteria."""
    bands = [(band.key, band.label) for band in value_bands(threshold)]
    return {
        "keywords": {"id": "q", "name": "q", "value": criteria.keywords, "spellcheck": False,
                     "label": {"text": "Keywords", "classes": "govuk-label--s"},
                     "hint": {"text": "Words in the title, summary, outcomes or reference"},
                     "attributes": {"maxlength": KEYWORDS_MAX}},
        "category": _checkboxes("category", "Category", CATEGORY_CHOICES, criteria.categories),
        "locality": _checkboxes("locality", "Location", LOCALITY_CHOICES, criteria.localities),
        "value": _checkboxes("value", "Estimated value", bands, criteria.values),
        "closing": _radios("closing", "Closing date", [("", "Any time"), *CLOSING_CHOICES], criteria.closing),
        "reserved": _radios("reserved", "Reserved for Kent suppliers",
                            [("", "Reserved or not"), *RESERVED_CHOICES], criteria.reserved),
        "status": _radios("status", "Status", STATUS_CHOICES, criteria.status),
        "sort": {"id": "sort", "name": "sort", "label": {"text": "Sort by", "classes": "govuk-label--s"},
                 "items": [{"value": value, "text": text, "selected": value == criteria.sort}
                           for value, text in SORT_CHOICES]},
    }
