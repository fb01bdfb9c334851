"""Clarification forms: shape and field rules only."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount, GovCheckboxInput, GovRadioInput
from wtforms import BooleanField, RadioField, TextAreaField
from wtforms.validators import DataRequired, Length, StopValidation

from marketplace.clarifications.models import ANSWER_MAX, PRIVATE, PUBLIC, QUESTION_MAX
from marketplace.forms import BaseForm, no_control_characters, options, submit


def _tidy(value):
    """Browsers send new lines as CRLF; count and store them as one character, as the character count does."""
    return value.replace("\r\n", "\n").replace("\r", "\n").strip() if isinstance(value, str) else value


def long_text(label: str, max_length: int, message: str, hint: str | None = None) -> TextAreaField:
    return TextAreaField(
        label,
        description=hint,
        filters=[_tidy],
        validators=[
            DataRequired(message=message),
            Length(max=max_length, message=f"{label} must be {max_length:,} characters or fewer"),
            no_control_characters,
        ],
        widget=GovCharacterCount(),
    )


class ChoiceRadioField(RadioField):
    """Radios that answer a value not among the choices with a message, not WTForms' generic one."""

    def __init__(self, label, choices, message: str, **kwargs):
        offered = options(choices)
        super().__init__(label, choices=offered, widget=GovRadioInput(), **kwargs)
        self.allowed = frozenset(choice.value for choice in offered)
        self.message = message

    def pre_validate(self, form) -> None:
        if self.data not in self.allowed:
            raise StopValidation(self.message)


class QuestionForm(BaseForm):
    text = long_text("Your question", QUESTION_MAX, "Enter your question",
                     hint="Do not include your organisation's name or details that identify it: the answer and "
                          "the question are published to everyone.")
    submit = submit("Send question")


class AnswerForm(BaseForm):
    published_text = long_text(
        "Question as it will be published", QUESTION_MAX, "Enter the question as it will be published",
        hint="Edit the wording to remove anything that identifies who asked. The original wording is kept.")
    answer = long_text("Answer", ANSWER_MAX, "Enter the answer")
    visibility = ChoiceRadioField(
        "Who should see the answer?",
        [(PUBLIC, "Publish to everyone"), (PRIVATE, "Answer privately to the asking organisation only")],
        "Select whether to publish the answer or send it privately",
        default=PUBLIC,
    )
    confirm_private = BooleanField(
        "I confirm that publishing this answer would reveal the asking organisation's own solution",
        widget=GovCheckboxInput(),
    )
    submit = submit("Send answer")
