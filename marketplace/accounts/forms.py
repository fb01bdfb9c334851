"""Account forms: shape and field rules only."""

from __future__ import annotations

from wtforms import BooleanField, PasswordField
from wtforms.validators import EqualTo, InputRequired, ValidationError

from marketplace.accounts.models import NAME_MAX
from marketplace.accounts.roles import STAFF_ROLES
from marketplace.forms import (
    BaseForm,
    GovCheckboxesInput,
    GovPasswordInput,
    MultiCheckboxField,
    email_field,
    new_password_field,
    options,
    required_text,
    submit,
)
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput


def _full_name():
    return required_text("Full name", NAME_MAX, "Enter your full name", render_kw={"autocomplete": "name",
                                                                                  "spellcheck": "false"})


def _name_not_blank(form, field) -> None:
    """InputRequired reads the raw input, so "   " passed it and was stored as an empty name after stripping."""
    if not (field.data or "").strip():
        raise ValidationError(field.validators[0].message)


def _confirm():
    return PasswordField(
        "Confirm password",
        validators=[InputRequired(message="Confirm your password"),
                    EqualTo("password", message="Passwords do not match")],
        widget=GovPasswordInput(),
        render_kw={"autocomplete": "new-password"},
    )


class RegisterForm(BaseForm):
    full_name = _full_name()
    validate_full_name = _name_not_blank
    email = email_field(hint="We will send a link to confirm it. Use an address you can read.")
    password = new_password_field()
    confirm = _confirm()
    accept_terms = BooleanField(
        "I agree to the terms of use and have read the privacy notice",
        validators=[InputRequired(message="Agree to the terms of use to create an account")],
        widget=GovCheckboxInput(),
    )
    submit = submit("Create account")


class SignInForm(BaseForm):
    email = email_field()
    password = PasswordField("Password", validators=[InputRequired(message="Enter your password")],
                             widget=GovPasswordInput(), render_kw={"autocomplete": "current-password"})
    submit = submit("Sign in")


class EmailOnlyForm(BaseForm):
    email = email_field()
    submit = submit("Send link")


class NewPasswordForm(BaseForm):
    password = new_password_field("New password")
    confirm = _confirm()
    submit = submit("Save password")


class ChangePasswordForm(BaseForm):
    current_password = PasswordField("Current password", validators=[InputRequired(message="Enter your current password")],
                                     widget=GovPasswordInput(), render_kw={"autocomplete": "current-password"})
    password = new_password_field("New password")
    confirm = _confirm()
    submit = submit("Change password")


def _roles_field():
    return MultiCheckboxField(
        "Roles",
        description="Select all that apply. Sitting on an evaluation panel is set per opportunity.",
        choices=options(STAFF_ROLES),
        validators=[InputRequired(message="Select at least one role")],
        widget=GovCheckboxesInput(),
    )


class InviteStaffForm(BaseForm):
    full_name = required_text("Full name", NAME_MAX, "Enter the person's full name")
    validate_full_name = _name_not_blank
    email = email_field(hint="Their council email address. We will send them a link to set a password.")
    roles = _roles_field()
    submit = submit("Send invitation")


class StaffRolesForm(BaseForm):
    roles = _roles_field()
    submit = submit("Save roles")


class ConfirmForm(BaseForm):
    """A button that only carries the CSRF token."""

    submit = submit("Confirm")

