"""Award forms: shape and field rules only; the business rules are in awards.rules, applied by the services.

Built from the shared pieces in marketplace.forms (not the opportunity forms' helpers: the opportunities package
reaches into this one when an opportunity is cancelled, so importing its forms here would go round in a circle).
"""

from __future__ import annotations

from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from marketplace.forms import (
    BaseForm,
    GovRadioInput,
    GovTextArea,
    LondonDateTimeField,
    no_control_characters,
    offered,
    options,
    submit,
)

TEXT_MAX = 4000


def _tidy(value):
    return value.strip() if isinstance(value, str) else value


def text(label: str, message: str | None = None, hint: str | None = None) -> TextAreaField:
    """A text box; required when `message` is given (spaces alone count as nothing)."""
    validators = [DataRequired(message=message)] if message else []
    validators += [Length(max=TEXT_MAX, message=f"{label} must be {TEXT_MAX:,} characters or fewer"),
                   no_control_characters]
    return TextAreaField(label, description=hint, filters=[_tidy], validators=validators, widget=GovTextArea())


def _one_of(message: str):
    def check(form, field) -> None:
        if field.data and str(field.data) not in offered(field):
            raise ValidationError(message)

    return check


def choice(label: str, choices, message: str | None, hint: str | None = None) -> RadioField:
    """Radios; a value not among the choices is refused with `message`; required unless `message` is None."""
    required = [InputRequired(message=message)] if message else [Optional()]
    return RadioField(label, choices=options(choices), validate_choice=False, description=hint,
                      validators=[*required, _one_of(message or "Select from the options shown")],
                      widget=GovRadioInput())


class VersionForm(BaseForm):
    """A button that changes the award: the CSRF token and the award's version as the page showed it."""

    version = HiddenField()

    def version_value(self) -> int | None:
        value = (self.version.data or "").strip()
        return int(value) if value.isdigit() else None


class RecommendForm(BaseForm):
    bid_id = choice("Which of the tied bids do you recommend?", [], None)
    tie_decision = text("How was the tie decided?",
                        hint="For example, a further clarification, or another stated rule. This is kept with the "
                             "recommendation.")
    reasons = text("Reasons for the recommendation", "Enter the reasons for the recommendation",
                   hint="The approver reads these with the ranking.")
    submit = submit("Recommend the award")

    def set_tied(self, tied: list[tuple[str, str]]) -> None:
        self.bid_id.choices = options(tied)


class PriceReviewForm(BaseForm):
    explanation = text("The bidder's explanation", "Enter the bidder's explanation",
                       hint="As the bidder gave it in reply to your request to explain the price.")
    decision = choice("Do you accept the price?", [("accept", "Accept: the bid stays in the evaluation"),
                                                   ("reject", "Reject: the bid is excluded")],
                      "Select whether you accept the price")
    reason = text("Reason for your decision", "Enter the reason for your decision",
                  hint="If you reject the price, the bidder is told this reason.")
    submit = submit("Record the answer")

    @property
    def accepted(self) -> bool | None:
        return {"accept": True, "reject": False}.get(self.decision.data)


class DecisionForm(VersionForm):
    decision = choice("Your decision", [("approve", "Approve: publish the award notice and start standstill"),
                                        ("return", "Return the recommendation to evaluation with a note")],
                      "Select whether you approve the recommendation or return it")
    note = text("Note", hint="Needed if you return it: say what must change.")
    submit = submit("Record the decision")

    def validate_note(self, field) -> None:
        if self.decision.data == "return" and not field.data:
            raise ValidationError("Enter a note saying why you are returning the recommendation")


class ChallengeForm(BaseForm):
    organisation_id = choice("Which bidder made the challenge?", [], "Select the bidder who made the challenge")
    received_at = LondonDateTimeField("When was it received?")
    summary = text("Summary of the challenge", "Enter a summary of the challenge")
    submit = submit("Record the challenge")

    def set_bidders(self, bidders: list[tuple[int, str]]) -> None:
        self.organisation_id.choices = options((str(org_id), name) for org_id, name in bidders)

    def validate_received_at(self, field) -> None:
        if field.data is None and not field.process_errors:
            raise ValidationError("Enter when the challenge was received")

    @property
    def organisation(self) -> int | None:
        value = self.organisation_id.data or ""
        return int(value) if value.isdigit() else None


class ResolveForm(BaseForm):
    outcome = choice("Outcome", [("dismissed", "Dismissed: the award resumes"),
                                 ("upheld", "Upheld: the award cannot go ahead as it stands")],
                     "Select whether the challenge is dismissed or upheld")
    resolution = text("Reasons for the outcome", "Enter the reasons for the outcome")
    submit = submit("Record the outcome")
