"""Staff forms for opportunities: shape and field rules only (the business rules are in services)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount, GovCheckboxInput, GovFileInput
from wtforms import BooleanField, EmailField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, ValidationError

from marketplace.evaluation import model_rules
from marketplace.evaluation.templates import TEMPLATE_CHOICES
from marketplace.forms import (
    BaseForm,
    GovRadioInput,
    GovSelect,
    GovTextArea,
    GovTextInput,
    LondonDateTimeField,
    UKDateField,
    MoneyField,
    MultiCheckboxField,
    no_control_characters,
    offered,
    optional_text,
    options,
    percent_safe,
    required_text,
    submit,
)
from marketplace.kent import LOCALITY_CHOICES
from marketplace.opportunities import services
from marketplace.opportunities.models import (
    DOCUMENT_KINDS,
    PROCEDURES,
    REASON_MAX,
    RESERVATION_NONE,
    RESERVATIONS,
    SUMMARY_MAX,
    TEXT_MAX,
    TITLE_MAX,
)
from marketplace.taxonomy import CATEGORY_CHOICES

OUTCOMES_MAX = 20
OUTCOME_MAX = 300
VALUE_MAX = Decimal("5000000000")  # £5 billion: several years of the council's whole budget


# Fields and validators ---------------------------------------------------------------------------------

def one_of(message: str):
    """Refuse values that are not among the field's choices (blank is left to InputRequired)."""

    def check(form, field) -> None:
        if field.data and str(field.data) not in offered(field):
            raise ValidationError(message)

    return check


def required_when_blank(message: str):
    """For fields whose blank input gives None without an error (dates): say it is needed."""

    def check(form, field) -> None:
        if field.data is None and not field.process_errors:
            raise ValidationError(message)

    return check


def at_most(limit: Decimal, message: str):
    def check(form, field) -> None:
        if field.data is not None and field.data > limit:
            raise ValidationError(message)

    return check


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _text_validators(label: str, max_length: int, required: str | None) -> list:
    """DataRequired (not InputRequired) so that spaces alone count as nothing typed."""
    validators = [DataRequired(message=required)] if required else []
    return validators + [Length(max=max_length, message=f"{percent_safe(label)} must be {max_length:,} characters "
                                                        "or fewer"),
                         no_control_characters]


def text_area(label: str, max_length: int, required: str | None = None, hint: str | None = None,
              counted: bool = False) -> TextAreaField:
    return TextAreaField(label, description=hint, validators=_text_validators(label, max_length, required),
                         filters=[_strip], widget=GovCharacterCount() if counted else GovTextArea())


class NumberField(StringField):
    """A number typed as text: `data` is an int (whole=True) or a Decimal, None when blank; what was typed is
    kept for the page after an error."""

    widget = GovTextInput()

    def __init__(self, label=None, validators=None, whole: bool = False, places: int = 2,
                 minimum: Decimal | int | None = None, maximum: Decimal | int | None = None, example: str = "",
                 percent: bool = False, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.whole, self.places, self.minimum, self.maximum = whole, places, minimum, maximum
        self.example, self.percent = example, percent

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if isinstance(self.data, Decimal):
            return f"{self.data.normalize():f}"
        return "" if self.data is None else str(self.data)

    def process_formdata(self, valuelist) -> None:
        text = (valuelist[0] if valuelist else "").strip().replace(",", "")
        if self.percent:
            text = text.removesuffix("%").strip()
        self.data = None
        if not text:
            return
        value = self._parse(text)
        if (self.minimum is not None and value < self.minimum) or (self.maximum is not None and value > self.maximum):
            raise ValueError(f"{self.label.text} must be between {self.minimum} and {self.maximum}")
        self.data = int(value) if self.whole else value

    def _parse(self, text: str) -> Decimal:
        kind = "a whole number" if self.whole else "a number"
        try:
            value = Decimal(text)
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite() or (self.whole and value != value.to_integral_value()):
            raise ValueError(f"{self.label.text} must be {kind}, like {self.example}")
        if not self.whole and value.as_tuple().exponent < -self.places:
            raise ValueError(f"{self.label.text} must have no more than {self.places} decimal places")
        return value


def radios(label: str, choices, message: str, hint: str | None = None, **kwargs) -> RadioField:
    return RadioField(label, choices=options(choices), validate_choice=False, description=hint,
                      validators=[InputRequired(message=message), one_of(message)], widget=GovRadioInput(), **kwargs)


def optional_radios(label: str, choices, message: str) -> RadioField:
    return RadioField(label, choices=options(choices), validate_choice=False, validators=[one_of(message)],
                      widget=GovRadioInput())


def lines_of(text: str | None) -> tuple[str, ...]:
    """Non-blank lines, trimmed."""
    return tuple(line.strip() for line in (text or "").splitlines() if line.strip())


class VersionedForm(BaseForm):
    """Carries the opportunity's version, so a stale edit is noticed rather than silently overwriting."""

    version = HiddenField()

    def version_value(self) -> int:
        return self.parse_version(self.version.data)

    @staticmethod
    def parse_version(value: Any) -> int:
        """The posted version, or -1 (matching no version, so the save is refused as out of date)."""
        try:
            return int(value)
        except (TypeError, ValueError):
            return -1


class VersionForm(VersionedForm):
    """A button that changes something: the CSRF token and the version."""


# Details ------------------------------------------------------------------------------------------------

class DetailsForm(VersionedForm):
    title = required_text("Title", TITLE_MAX, "Enter a title",
                          hint="Say what the service is and where, for example 'Community transport in Swale'")
    summary = text_area("Summary", SUMMARY_MAX, "Enter a summary", counted=True,
                        hint="What the service is for and who it helps, in plain English")
    outcomes = text_area("Outcomes sought", OUTCOMES_MAX * (OUTCOME_MAX + 2), "Enter at least one outcome",
                         hint=f"One outcome per line, up to {OUTCOMES_MAX}. For example: People stay independent "
                              "at home for longer.")
    category = SelectField("Category", choices=options([("", "Choose a category"), *CATEGORY_CHOICES]),
                           validate_choice=False,
                           validators=[InputRequired(message="Choose a category"),
                                       one_of("Choose a category from the list")], widget=GovSelect())
    localities = MultiCheckboxField("Where the service is delivered", choices=options(LOCALITY_CHOICES),
                                    description="Select county-wide, or one or more districts.",
                                    validators=[InputRequired(message="Select where the service is delivered")])
    estimated_value = MoneyField("Estimated total value", allow_zero=False,
                                 description="In pounds, including VAT, for the whole contract period",
                                 validators=[InputRequired(message="Enter the estimated total value"),
                                             at_most(VALUE_MAX, "Estimated total value must be £5 billion or less: "
                                                                "check the number of zeros")])
    contract_start = UKDateField("Contract start date",
                                 validators=[required_when_blank("Enter the contract start date")])
    contract_months = NumberField("Contract length in months", whole=True, minimum=1, maximum=240, example="36",
                                  validators=[InputRequired(message="Enter the contract length in months")])
    procedure = radios("Procedure", PROCEDURES.items(), "Select the procedure")
    reservation = radios("Reservation", RESERVATIONS.items(), "Select whether the opportunity is reserved",
                         default=RESERVATION_NONE,
                         hint="Only an opportunity below the procurement threshold can be reserved.")
    contact_name = required_text("Contact name", 120, "Enter the contact's name")
    contact_email = EmailField("Contact email address", widget=GovTextInput(), validators=[
        InputRequired(message="Enter the contact email address"),
        Length(max=254, message="Contact email address must be 254 characters or fewer"),
        Email(message="Enter an email address in the correct format, like name@kent.example",
              check_deliverability=False)], render_kw={"spellcheck": "false"})
    submit = submit("Save and continue")

    def validate_outcomes(self, field) -> None:
        outcomes = lines_of(field.data)
        if not outcomes:
            raise ValidationError("Enter at least one outcome")
        if len(outcomes) > OUTCOMES_MAX:
            raise ValidationError(f"Enter {OUTCOMES_MAX} outcomes or fewer, one per line")
        if any(len(outcome) > OUTCOME_MAX for outcome in outcomes):
            raise ValidationError(f"Each outcome must be {OUTCOME_MAX} characters or fewer")

    def details(self) -> services.Details:
        return services.Details(
            title=self.title.data, summary=self.summary.data.strip(), outcomes=lines_of(self.outcomes.data),
            category=self.category.data, localities=tuple(self.localities.data or ()),
            estimated_value=self.estimated_value.data, contract_start=self.contract_start.data,
            contract_months=self.contract_months.data, procedure=self.procedure.data,
            reservation=self.reservation.data, contact_name=self.contact_name.data,
            contact_email=self.contact_email.data.strip())


def details_form_for(opportunity) -> DetailsForm:
    """The form filled in from the stored opportunity (WTForms would prefer `obj` attributes over overrides)."""
    data = {name: getattr(opportunity, name) for name in services.Details.__dataclass_fields__}
    data.update(outcomes="\n".join(opportunity.outcomes or []), version=opportunity.version)
    return DetailsForm(data=data)


class TimetableForm(VersionedForm):
    publication_date = LondonDateTimeField("Publication date", default_time="09:00",
                                           validators=[required_when_blank("Enter the publication date")])
    clarification_deadline = LondonDateTimeField(
        "Clarification deadline", validators=[required_when_blank("Enter the clarification deadline")])
    submission_deadline = LondonDateTimeField(
        "Submission deadline", validators=[required_when_blank("Enter the submission deadline")])
    submit = submit("Save timetable")

    def timetable(self) -> services.Timetable:
        return services.Timetable(self.publication_date.data, self.clarification_deadline.data,
                                  self.submission_deadline.data)


# Lots and documents -------------------------------------------------------------------------------------

class LotForm(VersionedForm):
    number = NumberField("Lot number", whole=True, minimum=1, maximum=99, example="2",
                         validators=[InputRequired(message="Enter the lot number")])
    title = required_text("Lot title", TITLE_MAX, "Enter the lot's title")
    description = text_area("Description", TEXT_MAX, hint="What this lot covers (optional)")
    estimated_value = MoneyField("Estimated value of this lot", allow_zero=False, validators=[
        InputRequired(message="Enter the estimated value of this lot"),
        at_most(VALUE_MAX, "Estimated value of this lot must be £5 billion or less: check the number of zeros")])
    submit = submit("Save lot")

    def lot(self) -> services.LotDetails:
        return services.LotDetails(self.number.data, self.title.data, (self.description.data or "").strip(),
                                   self.estimated_value.data)


class DocumentForm(VersionedForm):
    kind = radios("Kind of document", DOCUMENT_KINDS.items(), "Select the kind of document")
    title = optional_text("Title (optional)", TITLE_MAX, hint="If you leave this blank we use the file's name")
    file = FileField("Upload a file", widget=GovFileInput(),
                     description="PDF, DOCX, XLSX, ODT or ODS, smaller than 15MB")
    submit = submit("Upload document")

    def validate_file(self, field) -> None:
        if not getattr(field.data, "filename", None):
            raise ValidationError("Select a file")


# The evaluation model -----------------------------------------------------------------------------------

class CriterionForm(VersionedForm):
    kind = radios("Kind of criterion", model_rules.KINDS.items(), "Select the kind of criterion")
    title = required_text("Title", 200, "Enter a title for the criterion")
    question = text_area("Question for bidders", TEXT_MAX, hint="What bidders must answer (optional)")
    guidance = text_area("Guidance", TEXT_MAX, hint="What evaluators look for, shared with bidders (optional)")
    weight = NumberField("Weight", maximum=Decimal("999.99"), minimum=0, example="20",
                         description="Percentage of the total marks. Leave blank for a pass or fail question.")
    scale_max = NumberField("Top of the scoring scale", whole=True, minimum=0, maximum=100, example="5", default=5,
                            validators=[InputRequired(message="Enter the top of the scoring scale")],
                            description="Scores run from 0 to this number; 5 unless you have a reason.")
    descriptors = text_area("Score descriptors", TEXT_MAX,
                            hint="One line per score, from 0 to the top of the scale. Leave blank for the standard "
                                 "0 to 5 descriptors.")
    min_score = NumberField("Minimum score (optional)", minimum=0, maximum=Decimal("99.99"), example="2",
                            description="A bid scoring below this on this criterion is excluded.")
    word_limit = NumberField("Word limit (optional)", whole=True, minimum=1, maximum=100000, example="750")
    price_method = optional_radios("How price is scored", model_rules.PRICE_METHODS.items(),
                                   "Choose how price is scored from the list")
    factor = NumberField("Deviation factor (optional)", minimum=0, maximum=1000, example="1",
                         description="For deviation from the lowest price. 1 unless you have a reason.")
    min_price = MoneyField("Minimum price", description="For linear scoring: this price or lower scores full marks")
    max_price = MoneyField("Maximum price", description="For linear scoring: this price or higher scores nothing")
    local_method = optional_radios("How the Kent local economy criterion is scored",
                                   model_rules.LOCAL_ECONOMY_METHODS.items(),
                                   "Choose how the Kent local economy criterion is scored from the list")
    target = NumberField("Target Kent share (%)", minimum=0, maximum=1000, example="50", percent=True,
                         description="For scoring against a target: the share of contract value to be spent with "
                                     "Kent-based suppliers and subcontractors")
    scores_location = BooleanField("This criterion scores where the bidder is based", widget=GovCheckboxInput(),
                                   description="Allowed only below the threshold when the opportunity is reserved to "
                                               "Kent-established suppliers.")
    submit = submit("Save criterion")

    def criterion(self) -> services.CriterionDetails:
        kind = self.kind.data
        method = {model_rules.PRICE: self.price_method.data,
                  model_rules.LOCAL_ECONOMY: self.local_method.data}.get(kind) or None
        return services.CriterionDetails(
            kind=kind, title=self.title.data, question=(self.question.data or "").strip(),
            guidance=(self.guidance.data or "").strip(), weight=self.weight.data,
            scale_max=self.scale_max.data if self.scale_max.data is not None else 5,
            descriptors=lines_of(self.descriptors.data), min_score=self.min_score.data,
            word_limit=self.word_limit.data, method=method, params=self._params(method),
            scores_location=bool(self.scores_location.data))

    def _params(self, method: str | None) -> dict:
        if method == "deviation_from_lowest" and self.factor.data is not None:
            return {"factor": str(self.factor.data)}
        if method == "linear_bounds":
            return {name: str(getattr(self, name).data) for name in ("min_price", "max_price")
                    if getattr(self, name).data is not None}
        if method == "target" and self.target.data is not None:
            return {"target": str(self.target.data / 100)}
        return {}


def criterion_form_for(criterion, version: int) -> CriterionForm:
    params = criterion.params or {}
    data = {name: getattr(criterion, name) for name in ("kind", "title", "question", "guidance", "weight",
                                                         "scale_max", "min_score", "word_limit", "scores_location")}
    data.update(
        descriptors="\n".join(criterion.descriptors or []), version=version,
        price_method=criterion.method if criterion.kind == model_rules.PRICE else None,
        local_method=criterion.method if criterion.kind == model_rules.LOCAL_ECONOMY else None,
        factor=_decimal(params.get("factor")), min_price=_decimal(params.get("min_price")),
        max_price=_decimal(params.get("max_price")),
        target=(_decimal(params["target"]) * 100).normalize() if params.get("target") else None)
    return CriterionForm(data=data)


def _decimal(value) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def new_criterion_form(version: int) -> CriterionForm:
    form = CriterionForm(descriptors="\n".join(model_rules.DEFAULT_DESCRIPTORS))
    form.version.data = version
    return form


class PublicValueReasonForm(VersionedForm):
    reason = text_area("Why public value is weighted under 10%", REASON_MAX, "Enter the reason")
    submit = submit("Save reason")


class TemplateForm(VersionedForm):
    template = radios("Start from a template", TEMPLATE_CHOICES, "Choose a template")
    confirm = HiddenField()
    submit = submit("Use this template")


# Lifecycle ----------------------------------------------------------------------------------------------

class ReturnForm(VersionedForm):
    reason = text_area("Why are you returning it to draft?", REASON_MAX, "Enter the reason for returning it to draft",
                       hint="The commissioner sees this and gets it by email.")
    submit = submit("Return to draft")


def _cancel_reasons() -> list[SelectChoice]:
    from marketplace.awards.rules import CANCEL_REASONS  # here: the awards package imports this one

    return options(CANCEL_REASONS)


class CancelForm(VersionedForm):
    category = RadioField("Why are you cancelling it?", choices=_cancel_reasons, validate_choice=False,
                          validators=[InputRequired(message="Select why you are cancelling it"),
                                      one_of("Select why you are cancelling it")], widget=GovRadioInput())
    reason = text_area("Details", REASON_MAX,
                       hint="Needed if you chose another reason. Once published, bidders and the public see the "
                            "reason and these details; organisations that submitted bids are emailed.")
    submit = submit("Cancel the opportunity")

    def validate_reason(self, field) -> None:
        if self.category.data == "other" and not field.data:
            raise ValidationError("Enter the reason for cancelling")


class AmendmentForm(VersionedForm):
    summary = text_area("Summary of the change", SUMMARY_MAX, "Describe the change", counted=True,
                        hint="Bidders and the public see this notice.")
    changes_requirements = radios("Does it change what bidders must do?", [("yes", "Yes"), ("no", "No")],
                                  "Select whether it changes what bidders must do",
                                  hint="If it does, the submission deadline moves to give bidders time.")
    new_deadline = LondonDateTimeField("New submission deadline (optional)")
    submit = submit("Publish amendment")

    def amendment(self) -> services.AmendmentDetails:
        return services.AmendmentDetails(self.summary.data, self.changes_requirements.data == "yes",
                                         self.new_deadline.data)
