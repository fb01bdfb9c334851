"""Shared form pieces: GOV.UK widgets, length limits, and checks used by several forms."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timezone
from decimal import Decimal

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovPasswordInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import EmailField, Field, PasswordField, SelectMultipleField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.utils import unset_value
from wtforms.validators import DataRequired, Email, InputRequired, Length, StopValidation, ValidationError

__all__ = [
    "BaseForm", "GovCheckboxesInput", "GovRadioInput", "GovSelect", "GovSubmitInput", "GovTextArea",
    "GovTextInput", "email_field", "new_password_field", "required_text", "optional_text", "submit",
    "MultiCheckboxField", "no_control_characters", "percent_safe", "options", "offered",
]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def percent_safe(text: str) -> str:
    """Text for a WTForms message, which the validator formats with `%`: a label such as 'share (%)' stays as it is."""
    return text.replace("%", "%%")


def no_control_characters(form, field) -> None:
    if isinstance(field.data, str) and _CONTROL.search(field.data):
        raise ValidationError(f"{field.label.text} must not contain control characters")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class BaseForm(FlaskForm):
    """Every form strips surrounding spaces from text."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            filters = list(unbound_field.kwargs.get("filters", []))
            if unbound_field.field_class in (StringField, EmailField):
                filters.insert(0, _strip)
            return unbound_field.bind(form=form, filters=filters, **options)


def required_text(label: str, max_length: int, message: str, hint: str | None = None, **kwargs) -> StringField:
    return StringField(
        label,
        description=hint,
        validators=[
            DataRequired(message=message),  # checks the stripped value, so spaces alone are refused
            Length(max=max_length, message=f"{percent_safe(label)} must be {max_length} characters or fewer"),
            no_control_characters,
        ],
        widget=GovTextInput(),
        **kwargs,
    )


def optional_text(label: str, max_length: int, hint: str | None = None, **kwargs) -> StringField:
    return StringField(
        label,
        description=hint,
        validators=[Length(max=max_length, message=f"{percent_safe(label)} must be {max_length} characters or fewer"),
                    no_control_characters],
        widget=GovTextInput(),
        **kwargs,
    )


def email_field(label: str = "Email address", hint: str | None = None) -> EmailField:
    return EmailField(
        label,
        description=hint,
        validators=[
            InputRequired(message="Enter your email address"),
            Length(max=254, message="Email address must be 254 characters or fewer"),
            Email(message="Enter an email address in the correct format, like name@example.com",
                  check_deliverability=False),
        ],
        widget=GovTextInput(),
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )


COMMON_PASSWORDS = frozenset({
    "password1234", "123456789012", "qwertyuiop12", "passwordpassword", "iloveyou1234", "letmein12345",
    "welcome12345", "kentcouncil1", "administrator",
})


def strong_password(form, field) -> None:
    value = field.data or ""
    if value.lower() in COMMON_PASSWORDS:
        raise ValidationError("Choose a password that is harder to guess")
    email = (getattr(form, "email", None) and form.email.data) or ""
    if email and value.lower() == email.lower():
        raise ValidationError("Your password must not be your email address")


def new_password_field(label: str = "Create a password") -> PasswordField:
    return PasswordField(
        label,
        description="Use at least 12 characters. A few unrelated words together make a good password.",
        validators=[
            InputRequired(message="Enter a password"),
            Length(min=12, message="Password must be 12 characters or more"),
            Length(max=128, message="Password must be 128 characters or fewer"),
            strong_password,
        ],
        widget=GovPasswordInput(),
        render_kw={"autocomplete": "new-password"},
    )


def submit(label: str) -> SubmitField:
    return SubmitField(label, widget=GovSubmitInput())


def options(pairs: Iterable[tuple[object, str]] | Mapping[object, str]) -> list[SelectChoice]:
    """Choices for a radio, select or checkbox field from (value, label) pairs or a mapping of value to label.
    WTForms 3.3 deprecates choices given as tuples; every field of ours gets them from here."""
    items = pairs.items() if isinstance(pairs, Mapping) else pairs
    return [SelectChoice(value, label) for value, label in items]


def offered(field) -> set[str]:
    """The values a choice field offers, as text, whichever way its choices were given."""
    return {str(choice.value) for choice in field.iter_choices()}


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes that tolerate values that are not among the choices by reporting an error, not crashing."""

    widget = GovCheckboxesInput()

    def pre_validate(self, form) -> None:
        values = offered(self)
        for item in self.data or []:
            if str(item) not in values:
                raise ValidationError("Select from the options shown")


def add_error(form: FlaskForm, error) -> None:
    """Attach a domain error's message to its field, or to the form when it names none."""
    field = getattr(form, error.field, None) if getattr(error, "field", None) else None
    if field is None:
        form.form_errors.append(error.message)
        return
    field.errors = list(field.errors) + [error.message]


def error_summary(form: FlaskForm) -> list[dict]:
    """Items for the GOV.UK error summary: each message links to its field."""
    items = [{"text": message, "href": "#main-content"} for message in form.form_errors]
    for field in form:
        for message in (field.errors if isinstance(field.errors, (list, tuple)) else []):
            if isinstance(message, str):
                items.append({"text": message, "href": f"#{field.id}"})
                break
    return items


# Money and dates -------------------------------------------------------------------------------------

MONEY_MAX = Decimal("100000000000")  # £100 billion: anything above is a typing slip


def parse_money(raw: str | None) -> Decimal | None:
    """'£1,234.50' -> Decimal('1234.50'); None for blank; ValueError with a message otherwise."""
    text = (raw or "").strip().replace(",", "").replace(" ", "")
    if text.startswith("£"):
        text = text[1:]
    if not text:
        return None
    if not re.fullmatch(r"-?\d+(\.\d{1,2})?", text):
        raise ValueError("must be an amount in pounds, like 125000 or 125,000.50")
    value = Decimal(text)
    if value < 0:
        raise ValueError("must be £0 or more")
    if value > MONEY_MAX:
        raise ValueError("is too large: check the number of zeros")
    return value.quantize(Decimal("0.01"))


class MoneyField(StringField):
    """An amount in pounds; `data` is a Decimal (or None when blank)."""

    widget = GovTextInput()

    def __init__(self, label=None, validators=None, allow_zero: bool = True, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.allow_zero = allow_zero
        self.raw_text = ""

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{self.data:,.2f}".replace(".00", "")

    def process_formdata(self, valuelist) -> None:
        self.raw_text = valuelist[0] if valuelist else ""
        try:
            self.data = parse_money(self.raw_text)
        except ValueError as error:
            self.data = None
            raise ValueError(f"{self.label.text} {error}") from None
        if self.data == 0 and not self.allow_zero:
            self.data = None
            raise ValueError(f"{self.label.text} must be more than £0")


class LondonDateTimeField(StringField):
    """A date (day, month, year) and a time in UK time; `data` is an aware UTC datetime.

    The template renders it with the `date_time_input` macro: inputs named <name>-day, -month, -year, -time.
    """

    def __init__(self, label=None, validators=None, default_time: str = "12:00", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.default_time = default_time
        self.parts: dict[str, str] = {}

    def process(self, formdata, data=unset_value, extra_filters=None):
        self.process_errors = []
        if formdata is not None and any(f"{self.name}-{p}" in formdata for p in ("day", "month", "year", "time")):
            self.parts = {p: (formdata.get(f"{self.name}-{p}") or "").strip() for p in ("day", "month", "year", "time")}
            self.raw_data = [self.parts]
            try:
                self.data = london_parts_to_utc(self.parts)
            except ValueError as error:
                self.data = None
                self.process_errors.append(f"{self.label.text} {error}")
            return
        self.data = data if data is not unset_value else self.default
        self.parts = utc_to_london_parts(self.data) if self.data else {}


def london_parts_to_utc(parts: dict[str, str]) -> datetime | None:
    from marketplace.timeutil import LONDON

    if not any(parts.get(p) for p in ("day", "month", "year")):
        return None
    try:
        day, month, year = int(parts["day"]), int(parts["month"]), int(parts["year"])
        hour, minute = (int(x) for x in (parts.get("time") or "12:00").replace(".", ":").split(":"))
        local = datetime(year, month, day, hour, minute, tzinfo=LONDON)
    except (ValueError, TypeError, OverflowError):  # OverflowError: a year of 20 digits
        raise ValueError("must be a real date and a time like 17:00") from None
    if not 2000 <= year <= 2100:
        raise ValueError("must have a 4-digit year, like 2027")
    return local.astimezone(timezone.utc)


def utc_to_london_parts(value: datetime) -> dict[str, str]:
    from marketplace.timeutil import london

    local = london(value)
    return {"day": str(local.day), "month": str(local.month), "year": str(local.year), "time": f"{local:%H:%M}"}


class UKDateField(Field):
    """A date typed as day, month and year (inputs <name>-day, -month, -year); `data` is a date or None.

    Render it with the `date_input` macro in templates/macros.html.
    """

    PARTS = ("day", "month", "year")

    def __init__(self, label=None, validators=None, required: str | None = None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.required = required
        self.parts: dict[str, str] = {}

    def process(self, formdata, data=unset_value, extra_filters=None):
        self.process_errors = []
        if formdata is not None and any(f"{self.name}-{part}" in formdata for part in self.PARTS):
            self.parts = {part: (formdata.get(f"{self.name}-{part}") or "").strip() for part in self.PARTS}
            self.raw_data = [self.parts]
            try:
                self.data = parse_uk_date(self.parts)
            except ValueError as error:
                self.data = None
                self.process_errors.append(f"{self.label.text} {error}")
            return
        self.data = data if data is not unset_value else self.default
        self.parts = ({"day": str(self.data.day), "month": str(self.data.month), "year": str(self.data.year)}
                      if self.data else {})

    def pre_validate(self, form) -> None:
        if self.data is None and self.required and not self.process_errors:
            raise StopValidation(self.required)


def parse_uk_date(parts: dict[str, str]) -> date | None:
    """{'day': '1', 'month': '4', 'year': '2027'} -> date(2027, 4, 1); None when all blank."""
    if not any(parts.values()):
        return None
    try:
        day, month, year = (int(parts[part]) for part in UKDateField.PARTS)
        value = date(year, month, day)
    except (ValueError, TypeError, KeyError, OverflowError):  # OverflowError: a year of 20 digits
        raise ValueError("must be a real date, like 27 3 2027") from None
    if not 2000 <= year <= 2100:
        raise ValueError("must have a 4-digit year, like 2027")
    return value
