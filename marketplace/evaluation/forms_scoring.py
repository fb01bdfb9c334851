"""Forms for scoring and moderation: shape and field rules only (the rules about scales, justifications and who
may score live in moderation_rules and the services).

One form per bid holds, for each criterion, a score and its justification (an evaluator) or reason (the
moderator): fields `score_<criterion id>` and `justification_<criterion id>` / `reason_<criterion id>`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from wtforms import StringField, TextAreaField
from wtforms.validators import Length

from marketplace.evaluation import moderation_rules as rules
from marketplace.forms import BaseForm, GovTextArea, GovTextInput, no_control_characters, percent_safe

LABELS = {
    rules.JUSTIFICATION.field: ("Your score for ‘{title}’", "Your justification for ‘{title}’",
                                "Say what in the answer supports your score, against the descriptors."),
    rules.REASON.field: ("Consensus score for ‘{title}’", "Reason for the consensus score for ‘{title}’",
                         "Say why the panel settled on this score. The bidder may be told it in their feedback."),
}


def score_hint(scale_max: int) -> str:
    return (f"A number from 0 to {scale_max}. Use a decimal with up to 2 places, such as 3.5, when the answer falls "
            "between two descriptors.")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ScoreField(StringField):
    """A score typed as text: `data` is a Decimal, or None when blank; what was typed stays on the page."""

    widget = GovTextInput()

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{Decimal(self.data).normalize():f}"

    def process_formdata(self, valuelist) -> None:
        self.data = None
        try:
            self.data = rules.parse_score(valuelist[0] if valuelist else "")
        except ValueError as error:
            raise ValueError(f"{self.label.text} {error}") from None


class MarksForm(BaseForm):
    """A score and its text for each criterion of one bid; the fields are added by `marks_form`."""

    criterion_ids: tuple[int, ...] = ()
    text_field = rules.JUSTIFICATION.field

    def score(self, criterion_id: int) -> ScoreField:
        return self[f"score_{criterion_id}"]

    def text(self, criterion_id: int) -> TextAreaField:
        return self[f"{self.text_field}_{criterion_id}"]

    def entries(self) -> dict[int, rules.Entry]:
        return {cid: rules.Entry(self.score(cid).data, self.text(cid).data or "") for cid in self.criterion_ids}


def _form_class(criteria: Sequence[Any], wording: rules.Wording) -> type[MarksForm]:
    score_label, text_label, text_hint = LABELS[wording.field]
    fields: dict[str, Any] = {"criterion_ids": tuple(c.id for c in criteria), "text_field": wording.field}
    for criterion in criteria:
        fields[f"score_{criterion.id}"] = ScoreField(score_label.format(title=criterion.title),
                                                     description=score_hint(criterion.scale_max))
        label = text_label.format(title=criterion.title)
        fields[f"{wording.field}_{criterion.id}"] = TextAreaField(
            label, description=text_hint, filters=[_strip], widget=GovTextArea(),
            validators=[Length(max=rules.TEXT_MAX,
                               message=f"{percent_safe(label)} must be {rules.TEXT_MAX:,} characters or fewer"),
                        no_control_characters])
    return type("MarksForm", (MarksForm,), fields)


def marks_form(criteria: Sequence[Any], wording: rules.Wording, saved: Mapping[int, Any]) -> MarksForm:
    """The form for one bid. `saved`: criterion id -> the stored row (a Score or ModeratedScore) or None, shown
    when the page is first opened; a posted form shows what was typed."""
    data = {}
    for criterion in criteria:
        row = saved.get(criterion.id)
        data[f"score_{criterion.id}"] = None if row is None else row.score
        data[f"{wording.field}_{criterion.id}"] = "" if row is None else getattr(row, wording.field)
    return _form_class(criteria, wording)(data=data)


class ConfirmForm(BaseForm):
    """A button that changes something: the form carries only its CSRF token."""
