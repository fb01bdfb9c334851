"""Organisation forms: shape and field rules only."""

from __future__ import annotations

import re

from wtforms import BooleanField, RadioField
from wtforms.validators import InputRequired, Optional, StopValidation, ValidationError

from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput
from marketplace.accounts.models import NAME_MAX
from marketplace.forms import (
    BaseForm,
    GovRadioInput,
    MultiCheckboxField,
    email_field,
    new_password_field,
    optional_text,
    options,
    required_text,
    submit,
)
from marketplace.kent import LOCALITY_CHOICES, OUTSIDE_KENT, InvalidPostcode, normalise_postcode
from marketplace.organisations.choices import ORGANISATION_TYPES, SIZES
from marketplace.organisations.models import LEGAL_NAME_MAX, LINE_MAX
from marketplace.taxonomy import CATEGORY_CHOICES

# Companies House: 8 characters, digits or a two-letter prefix (SC, NI, OC, SO, NC, R0, ...) then 6 digits.
COMPANY_NUMBER = re.compile(r"^(\d{8}|[A-Z]{2}\d{6}|R0\d{6})$")
# Charity Commission (England and Wales) 6-7 digits; OSCR SC + 6 digits; Northern Ireland NIC + 6 digits.
CHARITY_NUMBER = re.compile(r"^(\d{6,7}|SC0\d{5}|NIC1\d{5})$")


def normalise_company_number(value: str | None) -> str | None:
    """Upper-case without spaces; restore the leading zeros people drop (6 or 7 digits), nothing shorter."""
    if not value:
        return None
    value = re.sub(r"\s", "", value).upper()
    return value.zfill(8) if value.isdigit() and 6 <= len(value) < 8 else value


def _company_number(form, field) -> None:
    if field.data and not COMPANY_NUMBER.match(field.data):
        raise ValidationError("Enter a Companies House number in the correct format, like 01234567 or SC123456")


def _charity_number(form, field) -> None:
    if field.data and not CHARITY_NUMBER.match(field.data):
        raise ValidationError("Enter a charity number in the correct format, like 1123456, SC012345 or NIC100123")


def _postcode(form, field) -> None:
    try:
        field.data = normalise_postcode(field.data or "")
    except InvalidPostcode as error:
        raise ValidationError(str(error)) from None


def _upper_compact(value):
    return re.sub(r"\s", "", value).upper() if isinstance(value, str) else value


class _BlankIsMissing:
    """Text is stripped, but InputRequired looks at the raw input: make "   " count as missing too."""

    def validate(self, extra_validators=None):
        extra = {name: list(validators) for name, validators in (extra_validators or {}).items()}
        for field in self:
            for validator in field.validators:
                if isinstance(validator, InputRequired) and isinstance(field.data, str):
                    extra.setdefault(field.name, []).append(_not_blank(validator.message))
        return super().validate(extra)


def _not_blank(message: str):
    def check(form, field) -> None:
        if not (field.data or "").strip():
            raise StopValidation(message)

    return check


class OrganisationForm(_BlankIsMissing, BaseForm):
    legal_name = required_text("Legal name", LEGAL_NAME_MAX, "Enter your organisation's legal name",
                               hint="As registered with Companies House or the Charity Commission, if registered",
                               render_kw={"autocomplete": "organization"})
    org_type = RadioField("Type of organisation", choices=options(ORGANISATION_TYPES),
                          validators=[InputRequired(message="Select the type of organisation")],
                          widget=GovRadioInput())
    size = RadioField("Size", choices=options(SIZES),
                      validators=[InputRequired(message="Select the size of your organisation")],
                      widget=GovRadioInput(),
                      description="Count staff as full-time equivalents across the whole organisation.")
    companies_house_number = optional_text("Companies House number (if registered)", 10,
                                           hint="8 characters, for example 01234567 or SC123456",
                                           filters=[_upper_compact])
    charity_number = optional_text("Charity number (if registered)", 10,
                                   hint="For example 1123456 (England and Wales), SC012345 or NIC100123",
                                   filters=[_upper_compact])
    trading_line1 = required_text("Address line 1", LINE_MAX, "Enter the first line of the trading address",
                                  render_kw={"autocomplete": "section-trading address-line1"})
    trading_line2 = optional_text("Address line 2 (optional)", LINE_MAX,
                                  render_kw={"autocomplete": "section-trading address-line2"})
    trading_town = required_text("Town or city", LINE_MAX, "Enter the town or city of the trading address",
                                 render_kw={"autocomplete": "section-trading address-level2"})
    trading_postcode = required_text("Postcode", 10, "Enter the postcode of the trading address",
                                     render_kw={"autocomplete": "section-trading postal-code"})
    same_address = BooleanField("Our substantive operations are at the trading address", widget=GovCheckboxInput())
    operations_line1 = optional_text("Address line 1", LINE_MAX,
                                     render_kw={"autocomplete": "section-operations address-line1"})
    operations_line2 = optional_text("Address line 2 (optional)", LINE_MAX,
                                     render_kw={"autocomplete": "section-operations address-line2"})
    operations_town = optional_text("Town or city", LINE_MAX,
                                    render_kw={"autocomplete": "section-operations address-level2"})
    operations_postcode = optional_text("Postcode", 10, render_kw={"autocomplete": "section-operations postal-code"})
    district_choice = RadioField("Which district are your operations in?", choices=[], validate_choice=False,
                                 validators=[Optional()], widget=GovRadioInput())
    categories = MultiCheckboxField("Categories of work you are interested in",
                                    choices=options(CATEGORY_CHOICES),
                                    description="Select all that apply. We use these to suggest opportunities.")
    localities = MultiCheckboxField("Areas of Kent you can work in", choices=options(LOCALITY_CHOICES),
                                    description="Select all that apply.")
    submit = submit("Save organisation")

    def validate_companies_house_number(self, field) -> None:
        field.data = normalise_company_number(field.data)
        _company_number(self, field)
        if self.org_type.data == "private_company" and not field.data:
            raise ValidationError("Enter your Companies House number: private companies are registered")

    def validate_charity_number(self, field) -> None:
        _charity_number(self, field)
        if self.org_type.data == "charity" and not field.data:
            raise ValidationError("Enter your charity number")

    def validate_trading_postcode(self, field) -> None:
        _postcode(self, field)

    def validate_operations_line1(self, field) -> None:
        if not self.same_address.data and not field.data:
            raise ValidationError("Enter the first line of the operations address")

    def validate_operations_town(self, field) -> None:
        if not self.same_address.data and not field.data:
            raise ValidationError("Enter the town or city of the operations address")

    def validate_operations_postcode(self, field) -> None:
        if self.same_address.data:
            return
        if not field.data:
            raise ValidationError("Enter the postcode of the operations address")
        _postcode(self, field)

    def operations_address(self) -> dict:
        prefix = "trading" if self.same_address.data else "operations"
        return {part: getattr(self, f"{prefix}_{part}").data for part in ("line1", "line2", "town", "postcode")}



class InviteColleagueForm(BaseForm):
    email = email_field("Their email address", hint="We will email them a link to join your organisation.")
    submit = submit("Send invitation")


class JoinForm(_BlankIsMissing, BaseForm):
    """For someone joining through an invitation who has no account yet."""

    full_name = required_text("Full name", NAME_MAX, "Enter your full name", render_kw={"autocomplete": "name"})
    password = new_password_field()
    submit = submit("Create account and join")


def details_from_form(form: OrganisationForm):
    from marketplace.organisations.services import Address, OrganisationDetails

    operations = form.operations_address()
    return OrganisationDetails(
        legal_name=form.legal_name.data,
        org_type=form.org_type.data,
        size=form.size.data,
        companies_house_number=form.companies_house_number.data or None,
        charity_number=form.charity_number.data or None,
        trading=Address(form.trading_line1.data, form.trading_line2.data or None, form.trading_town.data,
                        form.trading_postcode.data),
        operations=Address(operations["line1"], operations["line2"] or None, operations["town"],
                           operations["postcode"]),
        district_choice=form.district_choice.data or None,
        categories=list(form.categories.data or []),
        localities=list(form.localities.data or []),
    )


def form_from_organisation(organisation) -> OrganisationForm:
    same = (organisation.trading_line1, organisation.trading_postcode) == (
        organisation.operations_line1, organisation.operations_postcode)
    form = OrganisationForm(obj=organisation, same_address=same)
    # The answer given to the district question, so a straddling postcode is not asked about again on every
    # edit (outside Kent included); ignored by the lookup for a postcode that needs no choice.
    form.district_choice.data = organisation.district if organisation.kent_based else OUTSIDE_KENT
    return form
