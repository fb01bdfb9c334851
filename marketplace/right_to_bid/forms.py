"""Right-to-bid forms: shape and field rules; the business rules come from rules.py, shared with the services."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount, GovCheckboxInput, GovRadioInput, GovSelect
from wtforms import BooleanField, RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, StopValidation

from marketplace.forms import (
    BaseForm, MoneyField, UKDateField, no_control_characters, optional_text, required_text, submit,
)
from marketplace.kent import LOCALITY_CHOICES
from marketplace.right_to_bid import rules
from marketplace.right_to_bid.models import (
    CASE_MAX,
    DESCRIPTION_MAX,
    EMPLOYEE_FIELD_MAX,
    MODIFICATION_MAX,
    NAME_MAX,
    OUTCOMES_MAX,
    REASONS_MAX,
)
from marketplace.taxonomy import CATEGORY_CHOICES

STAFF_ROWS = 6


# Field helpers ------------------------------------------------------------------------------------------

def _tidy(value):
    """Browsers send new lines as CRLF; count and store them as one character, as the character count does."""
    return value.replace("\r\n", "\n").replace("\r", "\n").strip() if isinstance(value, str) else value


class CharacterCount(GovCharacterCount):
    """The GOV.UK character count, told the field's limit so templates need not repeat it."""

    def __init__(self, max_length: int):
        self.max_length = max_length

    def map_gov_params(self, field, **kwargs):
        params = super().map_gov_params(field, **kwargs)
        params.setdefault("maxlength", self.max_length)
        return params


def long_text(label: str, max_length: int, message: str | None = None, hint: str | None = None) -> TextAreaField:
    """A text box with a character count; required when `message` is given."""
    validators = [DataRequired(message=message)] if message else []
    validators += [Length(max=max_length, message=f"{label} must be {max_length:,} characters or fewer"),
                   no_control_characters]
    return TextAreaField(label, description=hint, filters=[_tidy], validators=validators,
                         widget=CharacterCount(max_length))


class ChoiceField:
    """Mixin: a value not among the choices gets a plain message, not WTForms' generic one. A blank value is left
    to the field's validators (or to the rules)."""

    message = "Select from the options shown"

    def pre_validate(self, form) -> None:
        if self.data in (None, ""):
            return
        if str(self.data) not in {str(choice.value) for choice in self.iter_choices()}:
            raise StopValidation(self.message)


class ChoiceRadioField(ChoiceField, RadioField):
    """Radios; `choices` is a dict of value to label."""

    def __init__(self, label, choices=None, message: str = ChoiceField.message, required: str | None = None, **kw):
        validators = [InputRequired(message=required)] if required else []
        super().__init__(label, choices=dict(choices or {}), validators=validators, widget=GovRadioInput(), **kw)
        self.message = message


class ChoiceSelectField(ChoiceField, SelectField):
    """A select box; `choices` is a dict of value to label, the first a blank prompt."""

    def __init__(self, label, choices=None, message: str = ChoiceField.message, required: str | None = None, **kw):
        validators = [InputRequired(message=required)] if required else []
        super().__init__(label, choices=dict(choices or {}), validators=validators, widget=GovSelect(), **kw)
        self.message = message


def attach_problems(form: BaseForm, problems: list[rules.Problem]) -> bool:
    """Put each rule's message next to its field (unless that field already has one); False if any."""
    for field_name, message in problems:
        field = getattr(form, field_name)
        if not field.errors:
            field.errors = list(field.errors) + [message]
    return not problems


# The catalogue ------------------------------------------------------------------------------------------

class ServiceForm(BaseForm):
    name = required_text("Service name", NAME_MAX, "Enter the name of the service")
    description = long_text("Description", DESCRIPTION_MAX, "Enter a description of the service",
                            hint="What the service does, for whom, and where.")
    annual_cost = MoneyField("Current annual cost", allow_zero=False,
                             validators=[InputRequired(message="Enter the current annual cost")],
                             description="In pounds, for example 250,000")
    category = ChoiceSelectField("Category", {"": "Select a category", **dict(CATEGORY_CHOICES)},
                                 required="Select the category of the service")
    locality = ChoiceSelectField("Locality", {"": "Select a locality", **dict(LOCALITY_CHOICES)},
                                 required="Select where the service is provided")
    window_opens = UKDateField("Window opens", required="Enter the date the window opens")
    window_closes = UKDateField("Window closes", required="Enter the date the window closes")
    next_window_opens = UKDateField("Next window opens (optional)")
    next_window_closes = UKDateField("Next window closes (optional)")
    submit = submit("Save service")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        return attach_problems(self, rules.catalogue_problems(
            self.annual_cost.data, self.window_opens.data, self.window_closes.data,
            self.next_window_opens.data, self.next_window_closes.data)) and valid


# Expressions of interest --------------------------------------------------------------------------------

class ProposalForm(BaseForm):
    proposer_type = ChoiceRadioField("Who is making the proposal?", message="Select from the options shown",
                                     required="Select who is making the proposal",
                                     description="The options depend on how your organisation is registered.")
    effect_on_employees = long_text(
        "Effect on other council employees (groups of employees only)", CASE_MAX,
        hint="How the change would affect council employees who are not in the group, including any transfer "
             "of their employment.")
    # Rows for the employees in a staff group, declared here so they keep their place in the error summary.
    for _row in range(1, STAFF_ROWS + 1):
        locals()[f"member_{_row}_name"] = optional_text(f"Employee {_row}: full name", EMPLOYEE_FIELD_MAX)
        locals()[f"member_{_row}_job"] = optional_text(f"Employee {_row}: job title", EMPLOYEE_FIELD_MAX)
    del _row
    outcomes = long_text(
        "Outcomes the service would improve", OUTCOMES_MAX, "Enter the outcomes the service would improve",
        hint="What would be better for the people who use the service, and how you would know. This is "
             "published with the decision.")
    cost_and_savings = long_text("Cost and savings", CASE_MAX, "Enter the cost and savings",
                                 hint="What running the service would cost, and any savings to the council.")
    staffing = long_text("Staffing", CASE_MAX, "Enter how the service would be staffed",
                         hint="Who would deliver the service, and how staff would be recruited and trained.")
    social_value = long_text("Social value", CASE_MAX, "Enter the social value the proposal would bring",
                             hint="The social, economic and environmental well-being of the area.")
    capacity = long_text("Capacity", CASE_MAX, "Enter your capacity to take on the service",
                         hint="How you would cope with the size of the service and changes in demand.")
    evidence = long_text("Evidence (optional)", CASE_MAX,
                         hint="For example, results from services you run now, or what service users have told you.")
    financial_resources = long_text("Financial resources", CASE_MAX,
                                    "Enter the financial resources you have to run the service",
                                    hint="Your income, reserves and any funding you could draw on.")
    capability = long_text("Capability", CASE_MAX, "Enter your capability to run the service",
                           hint="Your experience of running similar services, and the skills you have.")
    submit = submit("Submit expression of interest")

    def set_proposer_types(self, kinds: list[str]) -> None:
        self.proposer_type.choices = {kind: rules.PROPOSER_TYPES[kind] for kind in kinds}

    def proposer_items(self) -> list[dict]:
        """Radio item hints, in the order of the choices."""
        return [{"hint": {"text": rules.PROPOSER_HINTS[choice.value]}} for choice in self.proposer_type.iter_choices()]

    def staff_rows(self) -> list[tuple]:
        return [(getattr(self, f"member_{i}_name"), getattr(self, f"member_{i}_job"))
                for i in range(1, STAFF_ROWS + 1)]

    def staff_members(self) -> list[tuple[str, str]]:
        return [(name.data or "", job.data or "") for name, job in self.staff_rows()]

    def half_filled_rows(self) -> list[rules.Problem]:
        """An employee row with a name but no job title, or the other way round."""
        problems = []
        for number, (name, job) in enumerate(self.staff_rows(), start=1):
            if name.data and not job.data:
                problems.append((job.name, f"Enter the job title of employee {number}"))
            elif job.data and not name.data:
                problems.append((name.name, f"Enter the name of employee {number}"))
        return problems

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.proposer_type.data != rules.STAFF_GROUP:
            return valid
        problems = self.half_filled_rows() + rules.staff_group_problems(self.staff_members(),
                                                                         self.effect_on_employees.data)
        return attach_problems(self, problems) and valid


# Decisions ----------------------------------------------------------------------------------------------

class DecisionForm(BaseForm):
    decision = ChoiceRadioField("Decision", rules.DECISIONS,
                                required="Select whether to accept or reject the proposal")
    modification = long_text("The agreed modification", MODIFICATION_MAX,
                             hint="What will change from the proposal. This is published with the decision.")
    modification_agreed = BooleanField("The proposer has agreed this modification", widget=GovCheckboxInput(),
                                       description="Accept with a modification only when the proposer has agreed "
                                                   "it.")
    ground = ChoiceRadioField("Ground for rejecting", rules.REJECTION_GROUNDS,
                              message="Select a ground from the list",
                              description="The ground is published with the reasons.")
    lead_commissioner = ChoiceSelectField(
        "Commissioner who will lead the procurement",
        message="Select a commissioner from the list",
        description="Only if you accept. They will own the draft opportunity created from the proposal.")
    reasons = long_text("Reasons for the decision", REASONS_MAX,
                        hint="These are emailed to the proposer and published on the register of decisions.")
    submit = submit("Record decision")

    def set_commissioners(self, commissioners: list[tuple[int, str]]) -> None:
        self.lead_commissioner.choices = {"": "Select a commissioner",
                                          **{str(user_id): name for user_id, name in commissioners}}

    def lead_commissioner_id(self) -> int | None:
        value = self.lead_commissioner.data
        return int(value) if value and str(value).isdigit() else None

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        return attach_problems(self, rules.decision_problems(
            self.decision.data, self.ground.data, self.reasons.data, self.modification.data,
            bool(self.modification_agreed.data), self.lead_commissioner_id() is not None)) and valid

