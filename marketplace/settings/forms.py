"""The settings form: one text box per setting in settings.defaults.SPECS (the values are checked by
settings.services.update, which knows each setting's type and range)."""

from __future__ import annotations

from marketplace.forms import BaseForm, required_text, submit
from marketplace.settings.defaults import SPECS

VALUE_MAX = 30


def _settings_form_class() -> type[BaseForm]:
    fields = {spec.key: required_text(spec.label, VALUE_MAX, f"Enter the {spec.label[0].lower()}{spec.label[1:]}",
                                      hint=spec.hint) for spec in SPECS}
    fields["submit"] = submit("Save settings")
    return type("SettingsForm", (BaseForm,), fields)


SettingsForm = _settings_form_class()


def settings_form(current: dict) -> BaseForm:
    """The form filled in with the current values."""
    return SettingsForm(data={key: str(value) for key, value in current.items()})


def typed_values(form: BaseForm) -> dict[str, str]:
    return {spec.key: form[spec.key].data for spec in SPECS}
