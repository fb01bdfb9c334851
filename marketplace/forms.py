"""Shared form pieces: GOV.UK widgets, length limits, and checks used by several forms."""

from __future__ import annotations

import re

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
from wtforms import EmailField, PasswordField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import Email, InputRequired, Length, ValidationError

__all__ = [
    "BaseForm", "GovCheckboxesInput", "GovRadioInput", "GovSelect", "GovSubmitInput", "GovTextArea",
    "GovTextInput", "email_field", "new_password_field", "required_text", "optional_text", "submit",
    "MultiCheckboxField", "no_control_characters",
]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


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
            InputRequired(message=message),
            Length(max=max_length, message=f"{label} must be {max_length} characters or fewer"),
            no_control_characters,
        ],
        widget=GovTextInput(),
        **kwargs,
    )


def optional_text(label: str, max_length: int, hint: str | None = None, **kwargs) -> StringField:
    return StringField(
        label,
        description=hint,
        validators=[Length(max=max_length, message=f"{label} must be {max_length} characters or fewer"),
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


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes that tolerate values that are not among the choices by reporting an error, not crashing."""

    widget = GovCheckboxesInput()

    def pre_validate(self, form) -> None:
        values = {str(value) for value, _ in self.choices}
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
