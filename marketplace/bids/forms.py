"""Bid preparation forms: shape and field rules only (the business rules are in bids.preparation)."""

from __future__ import annotations

from decimal import Decimal

from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount, GovCheckboxInput, GovFileInput, GovRadioInput
from wtforms import BooleanField, HiddenField, RadioField, SelectField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, StopValidation, ValidationError

from marketplace.bids import measures
from marketplace.bids import preparation as prep
from marketplace.forms import (
    BaseForm,
    GovSelect,
    GovSubmitInput,
    MoneyField,
    MultiCheckboxField,
    no_control_characters,
    optional_text,
    required_text,
)
from marketplace.opportunities.forms import NumberField, VersionedForm, required_when_blank
from marketplace.organisations.choices import ORGANISATION_TYPES, SIZES

YES_NO = [("yes", "Yes"), ("no", "No")]


def tidy_text(value):
    """Browsers send new lines as CRLF: store them as one, as the word and character counts see them."""
    return value.replace("\r\n", "\n").replace("\r", "\n").strip() if isinstance(value, str) else value


def more_than_zero(label: str):
    def check(form, field) -> None:
        if field.data is not None and field.data <= 0:
            raise ValidationError(f"{label} must be more than 0")

    return check


class Radios(RadioField):
    """GOV.UK radios; a value not among the choices (or none, when required) gets the field's own message."""

    def __init__(self, label, choices, message: str, required: bool = True, **kwargs):
        choices = list(choices)
        super().__init__(label, choices=[SelectChoice(value, text) for value, text in choices],
                         widget=GovRadioInput(), **kwargs)
        self.allowed = frozenset(value for value, _ in choices)
        self.message, self.required = message, required

    def pre_validate(self, form) -> None:
        if self.data in (None, "") and not self.required:
            return
        if self.data not in self.allowed:
            raise StopValidation(self.message)


def known_measure(form, field) -> None:
    if field.data and field.data not in measures.BY_CODE:
        raise ValidationError("Choose a measure from the list")


def long_text(label: str, max_length: int, hint: str | None = None, required: str | None = None):
    validators = [DataRequired(message=required)] if required else []
    return TextAreaField(label, description=hint, filters=[tidy_text], widget=GovCharacterCount(), validators=[
        *validators, Length(max=max_length, message=f"{label} must be {max_length:,} characters or fewer"),
        no_control_characters])


class SectionForm(VersionedForm):
    """A section page: the bid's version (the optimistic lock) and the two ways to save."""

    save_continue = SubmitField("Save and continue", widget=GovSubmitInput())
    save_return = SubmitField("Save and return to task list", widget=GovSubmitInput())
    stale = False  # set when a colleague saved the bid after this form was loaded

    @property
    def returning(self) -> bool:
        return bool(self.save_return.data)


class StartForm(BaseForm):
    """Start a bid: the CSRF token only."""


class LotsForm(SectionForm):
    lots = MultiCheckboxField("Which lots are you bidding for?", validate_choice=False,
                              description="Select all the lots you want to bid for.",
                              validators=[DataRequired(message="Select at least one lot")])

    def lot_ids(self) -> list[int]:
        return [int(value) for value in self.lots.data or [] if str(value).isdigit()]


def confirmations_form(asked: list, data: dict | None = None) -> SectionForm:
    """One yes/no question and an optional note for each pass or fail criterion; posted, or filled from data."""

    class ConfirmationsForm(SectionForm):
        pass

    for question in asked:
        setattr(ConfirmationsForm, f"confirm_{question.id}",
                Radios(question.label, YES_NO, "Select yes or no", required=False))
        setattr(ConfirmationsForm, f"note_{question.id}",
                long_text(f"Note about ‘{question.label}’ (optional)", prep.NOTE_MAX))
    form = ConfirmationsForm() if data is None else ConfirmationsForm(data=data)
    form.asked = asked
    return form


def confirmations_data(bid, asked: list) -> dict:
    answers = {answer.criterion_id: answer for answer in bid.answers}
    data: dict = {"version": bid.version}
    for question in asked:
        answer = answers.get(question.id)
        confirmed = answer.confirmed if answer is not None else None
        data[f"confirm_{question.id}"] = None if confirmed is None else ("yes" if confirmed else "no")
        data[f"note_{question.id}"] = answer.text if answer is not None else ""
    return data


def confirmations_of(form) -> dict[int, tuple[bool | None, str]]:
    values = {"yes": True, "no": False}
    return {q.id: (values.get(form[f"confirm_{q.id}"].data), form[f"note_{q.id}"].data or "") for q in form.asked}


class AnswerForm(SectionForm):
    text = long_text("Your answer", prep.ANSWER_MAX_CHARS, required="Enter your answer")


class PriceForm(SectionForm):
    total = MoneyField("Total price", allow_zero=False,
                       description="In pounds, for the whole contract, as in the specification",
                       validators=[required_when_blank("Enter your total price")])


class PriceLineForm(BaseForm):
    description = required_text("Description", 300, "Enter a description of the line")
    quantity = NumberField("Quantity", minimum=0, maximum=prep.QUANTITY_MAX, example="12",
                           validators=[required_when_blank("Enter the quantity"), more_than_zero("Quantity")])
    unit = optional_text("Unit (optional)", 40, hint="For example hours, weeks or sessions")
    unit_price = MoneyField("Unit price", allow_zero=False, validators=[required_when_blank("Enter the unit price")])
    add_line = SubmitField("Add line", widget=GovSubmitInput())

    def details(self) -> prep.PriceLineDetails:
        return prep.PriceLineDetails(self.description.data, self.quantity.data, self.unit.data or "",
                                     self.unit_price.data)


class CommitmentForm(BaseForm):
    measure = SelectField("Measure", choices=[SelectChoice(value, label) for value, label in
                                              [("", "Choose a measure")] + measures.MEASURE_CHOICES],
                          validate_choice=False, widget=GovSelect(),
                          validators=[DataRequired(message="Choose a measure"), known_measure])
    quantity = NumberField("Quantity", minimum=0, maximum=prep.QUANTITY_MAX, example="52",
                           description="In the measure's unit, for the whole contract",
                           validators=[required_when_blank("Enter the quantity"), more_than_zero("Quantity")])
    description = TextAreaField(
        "How you will deliver it", filters=[tidy_text], widget=GovCharacterCount(),
        description="For example: 3 apprentices recruited from Thanet, each for 52 weeks",
        validators=[DataRequired(message="Describe how you will deliver the commitment"),
                    Length(max=500, message="How you will deliver it must be 500 characters or fewer"),
                    no_control_characters])
    add_commitment = SubmitField("Add commitment", widget=GovSubmitInput())

    def details(self) -> prep.CommitmentDetails:
        return prep.CommitmentDetails(self.measure.data, self.quantity.data, self.description.data)


class LocalEconomyForm(SectionForm):
    kent_share = NumberField("Share of the contract value you will spend with Kent-based suppliers and "
                             "subcontractors", percent=True, places=4, minimum=0, maximum=100, example="40",
                             description="As a percentage, from 0 to 100",
                             validators=[required_when_blank("Enter the share of contract value spent in Kent")])
    kent_jobs = NumberField("Jobs for Kent residents", whole=True, minimum=0, maximum=prep.COUNT_MAX, example="6",
                            description="New or retained jobs held by people living in Kent, as a whole number",
                            validators=[required_when_blank("Enter the number of jobs for Kent residents")])
    kent_apprenticeships = NumberField(
        "Apprenticeships for Kent residents", whole=True, minimum=0, maximum=prep.COUNT_MAX, example="2",
        description="As a whole number; enter 0 if none",
        validators=[required_when_blank("Enter the number of apprenticeships for Kent residents")])
    notes = long_text("Notes (optional)", prep.NOTES_MAX, hint="How you will deliver and evidence these commitments")

    def details(self) -> prep.LocalEconomyDetails:
        return prep.LocalEconomyDetails(self.kent_share.data / 100, self.kent_jobs.data,
                                        self.kent_apprenticeships.data, self.notes.data or "")


class MemberForm(SectionForm):
    name = required_text("Organisation name", 160, "Enter the organisation's name")
    org_type = Radios("Type of organisation", ORGANISATION_TYPES.items(), "Select the type of organisation")
    size = Radios("Size", SIZES.items(), "Select the organisation's size")
    kent_based = Radios("Is it based in Kent?", YES_NO, "Select whether the organisation is based in Kent",
                                  description="It has staff, premises or services in Kent")
    role = Radios("Role", prep.MEMBER_ROLES.items(),
                            "Select whether it is a consortium member or a subcontractor")
    share = NumberField("Share of contract value", percent=True, places=4, minimum=0, maximum=100, example="15",
                        description="As a percentage, from 0 to 100",
                        validators=[required_when_blank("Enter its share of contract value"),
                                    more_than_zero("Share of contract value")])
    find = optional_text("Search registered organisations by legal name (optional)", 160,
                         hint="If it is registered on this service, link it to your bid")
    linked_organisation = HiddenField()
    search = SubmitField("Search", widget=GovSubmitInput())
    save_member = SubmitField("Save", widget=GovSubmitInput())

    def linked_id(self) -> int | None:
        value = (self.linked_organisation.data or "").strip()
        if value in ("", "none"):
            return None
        return int(value) if value.isdigit() else -1

    def details(self) -> prep.MemberDetails:
        return prep.MemberDetails(self.name.data, self.org_type.data, self.size.data, self.kent_based.data == "yes",
                                  self.role.data, self.share.data / 100, self.linked_id())


class DocumentForm(BaseForm):
    title = required_text("Title", 200, "Enter a title for the document",
                          hint="For example: Safeguarding policy, or Case study: Dover lunch club")
    file = FileField("Upload a file", widget=GovFileInput())
    upload = SubmitField("Upload document", widget=GovSubmitInput())

    def validate_file(self, field) -> None:
        if not getattr(field.data, "filename", None):
            raise ValidationError("Select a file")


class DeclarationsForm(SectionForm):
    conflicts = Radios("Do you have any conflicts of interest?", prep.CONFLICT_CHOICES.items(),
                                 "Select whether you have any conflicts of interest",
                                 description="For example, a family or business link with a council officer "
                                             "involved in this procurement")
    conflict_details = long_text("Details of any conflict", prep.NOTES_MAX,
                                 hint="If you answered yes: who is involved, and how you will manage the conflict")
    no_exclusion_grounds = BooleanField(
        "I confirm that none of the mandatory or discretionary exclusion grounds apply to our organisation or to "
        "any consortium member or subcontractor", widget=GovCheckboxInput())
    accurate = BooleanField("I confirm that the information in this bid is accurate and complete",
                            widget=GovCheckboxInput())

    def details(self) -> prep.DeclarationDetails:
        return prep.DeclarationDetails(self.conflicts.data, self.conflict_details.data or "",
                                       bool(self.no_exclusion_grounds.data), bool(self.accurate.data))

    def validate_conflict_details(self, field) -> None:
        if self.conflicts.data == "declared" and not (field.data or "").strip():
            raise ValidationError("Give details of the conflict of interest")


def percent_number(share: Decimal | None) -> Decimal | None:
    """A stored share (0..1) as the percentage the form shows."""
    return None if share is None else Decimal(share) * 100


def member_data(member) -> dict:
    return {"name": member.name, "org_type": member.org_type, "size": member.size,
            "kent_based": "yes" if member.kent_based else "no", "role": member.role,
            "share": percent_number(member.share),
            "linked_organisation": str(member.linked_organisation_id or "none")}


def link_choices(results: list[tuple[int, str]] | None, selected: int | None, names: dict[int, str]) -> list[dict]:
    """Radio items for linking a registered organisation: the search results, the one already chosen, and
    'do not link'. Only legal names are shown."""
    options = list(results or [])
    if selected in names and selected not in {i for i, _ in options}:
        options.insert(0, (selected, names[selected]))
    if not options:
        return []
    items = [{"value": str(i), "text": name, "checked": i == selected} for i, name in options]
    return items + [{"divider": "or"}, {"value": "none", "text": "Do not link a registered organisation",
                                        "checked": selected is None}]
