"""The filter forms of the contract register and the spend dashboard: GET forms (no CSRF: they change nothing),
checked like any form so that a nonsense value gets a message by its filter rather than an error page. The
filters that are valid still apply; an invalid one is left out (`query()` / `filters()`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from wtforms import StringField
from wtforms.validators import ValidationError

from marketplace.forms import BaseForm, GovTextInput, MoneyField
from marketplace.kent import LOCALITY_CHOICES
from marketplace.opportunities.search import clean_keywords
from marketplace.right_to_bid.forms import ChoiceSelectField
from marketplace.taxonomy import CATEGORY_CHOICES
from marketplace.transparency import register
from marketplace.transparency.dashboard import Filters, Quarter, recent_quarters

class FilterForm(BaseForm):
    class Meta:
        csrf = False

    def valid(self, name: str) -> Any:
        """A field's value when it passed its checks, else None (the filter is left out)."""
        field = self[name]
        return None if field.errors else field.data


# The contract register --------------------------------------------------------------------------------

class RegisterFilterForm(FilterForm):
    # Like the opportunity search: spaces collapsed, control characters dropped, cut at 100 characters.
    q = StringField("Search", description="Words from the title, description, reference or supplier",
                    filters=[lambda value: clean_keywords(value) if isinstance(value, str) else value],
                    widget=GovTextInput())
    category = ChoiceSelectField("Category", {"": "All categories", **dict(CATEGORY_CHOICES)},
                                 message="Select a category from the list")
    supplier = ChoiceSelectField("Supplier", {"": "All suppliers", **register.SUPPLIER_TYPES},
                                 message="Select a kind of supplier from the list")
    value_from = MoneyField("Value from", description="In pounds, for example 25000")
    value_to = MoneyField("Value to", description="In pounds, for example 100000")
    sort = ChoiceSelectField("Sort by", register.SORTS, message="Select an order from the list")

    def validate_value_to(self, field) -> None:
        low = self.value_from.data
        if field.data is not None and low is not None and field.data < low:
            raise ValidationError("Value to must be the same as or more than value from")

    def query(self) -> register.RegisterQuery:
        return register.RegisterQuery(text=self.valid("q") or "", category=self.valid("category") or "",
                                      supplier=self.valid("supplier") or "", value_from=self.valid("value_from"),
                                      value_to=self.valid("value_to"),
                                      sort=self.valid("sort") or register.DEFAULT_SORT)


def register_filter_form(args) -> RegisterFilterForm:
    form = RegisterFilterForm(args)
    form.validate()
    return form


# The spend dashboard ----------------------------------------------------------------------------------

class DashboardFilterForm(FilterForm):
    quarter = ChoiceSelectField("Quarter", {"": "All quarters"}, message="Select a quarter from the list",
                                description="Quarters of the financial year: Q1 is April to June")
    category = ChoiceSelectField("Category", {"": "All categories", **dict(CATEGORY_CHOICES)},
                                 message="Select a category from the list")
    locality = ChoiceSelectField("Locality", {"": "All of Kent", **dict(LOCALITY_CHOICES)},
                                 message="Select a locality from the list")

    def __init__(self, formdata, today: date, **kwargs):
        super().__init__(formdata, **kwargs)
        quarters = recent_quarters(today)
        asked = _quarter_or_none(self.quarter.data)
        if asked is not None and asked < quarters[-1]:
            quarters.append(asked)  # an older quarter typed into the address is fine: show it chosen
        # a quarter that has not started is not among the choices: "Select a quarter from the list"
        self.quarter.choices = {"": "All quarters", **{q.key: q.label for q in quarters}}

    def filters(self) -> Filters:
        quarter = self.valid("quarter")
        return Filters(quarter=Quarter.parse(quarter) if quarter else None, category=self.valid("category") or "",
                       locality=self.valid("locality") or "")


def _quarter_or_none(text: Any) -> Quarter | None:
    try:
        return Quarter.parse(text) if isinstance(text, str) and text else None
    except ValueError:
        return None


def dashboard_filter_form(args, today: date) -> DashboardFilterForm:
    form = DashboardFilterForm(args, today=today)
    form.validate()
    return form
