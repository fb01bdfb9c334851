"""Forms for the conflicts assessment, the panel, conflict declarations, opening and compliance: shape and
field rules only (the business rules are in panel, opening and compliance)."""

from __future__ import annotations

from typing import Iterable, Sequence

from wtforms import Field, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, ValidationError

from marketplace.evaluation import panel_rules
from marketplace.evaluation.compliance import Answer, Item
from marketplace.forms import BaseForm, GovSelect, MultiCheckboxField, options, submit
from marketplace.opportunities.forms import one_of, optional_radios, radios, text_area
from marketplace.opportunities.models import REASON_MAX, TEXT_MAX

NOTE_MAX = 2000
CONFLICT_CHOICES = [("no", "No, I have no conflict of interest"), ("yes", "Yes, I have a conflict of interest")]
MET_CHOICES = [("yes", "Met"), ("no", "Not met")]
DECISION_CHOICES = [("compliant", "Compliant: it goes to the panel"), ("excluded", "Excluded")]
ASSESSMENT_HINTS = {
    "prepared_by": "The people who wrote the specification and the evaluation model, and anyone who advised them.",
    "interests": "Any link between those people and likely bidders: family, business, voluntary roles, past "
                 "employment. Say if there are none known.",
    "management": "For each interest, what is done about it: for example, the person takes no part in the "
                  "evaluation.",
}


def person_choices(people: Iterable) -> list[SelectChoice]:
    return options([("", "Choose a person")] + [(str(p.id), f"{p.full_name} ({p.email})") for p in people])


def person_field(label: str, message: str | None) -> SelectField:
    """A person from the list (choices set per request); blank is allowed when `message` is None."""
    validators = ([InputRequired(message=message)] if message else []) + [one_of("Choose a person from the list")]
    return SelectField(label, choices=[], validate_choice=False, validators=validators, widget=GovSelect())


def chosen_id(field: Field) -> int | None:
    return int(field.data) if field.data and str(field.data).isdigit() else None


class ButtonForm(BaseForm):
    """A POST button: the CSRF token only."""


class ConflictsAssessmentForm(BaseForm):
    prepared_by = text_area(panel_rules.ASSESSMENT_PARTS[0][1], TEXT_MAX, "Enter who prepared the opportunity",
                            ASSESSMENT_HINTS["prepared_by"])
    interests = text_area(panel_rules.ASSESSMENT_PARTS[1][1], TEXT_MAX, "Enter the interests known",
                          ASSESSMENT_HINTS["interests"])
    management = text_area(panel_rules.ASSESSMENT_PARTS[2][1], TEXT_MAX, "Enter how they are managed",
                           ASSESSMENT_HINTS["management"])
    submit = submit("Save the conflicts assessment")

    def parts(self) -> dict[str, str]:
        return {key: getattr(self, key).data or "" for key, _ in panel_rules.ASSESSMENT_PARTS}


class _PeopleForm(BaseForm):
    def __init__(self, *args, people: Sequence = (), **kwargs):
        super().__init__(*args, **kwargs)
        for field in self:
            if isinstance(field, SelectField) and not isinstance(field, MultiCheckboxField):
                field.choices = person_choices(people)


class EvaluatorForm(_PeopleForm):
    """Field names differ from ModeratorForm's: both forms are on the panel page."""

    evaluator = person_field("Evaluator", "Choose the evaluator")
    criteria = MultiCheckboxField("Criteria they score", description="They score these criteria on every "
                                                                       "compliant bid.")
    add_evaluator = submit("Add evaluator")

    def __init__(self, *args, criteria: Sequence[panel_rules.Scored] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria.choices = options((str(c.id), c.title) for c in criteria)
        if not self.is_submitted():
            self.criteria.data = [str(c.id) for c in criteria]  # every criterion unless the officer narrows it

    def validate_criteria(self, field) -> None:
        if field.choices and not field.data:
            raise ValidationError("Select at least one criterion for the evaluator to score")

    def chosen_criteria(self) -> tuple[int, ...]:
        return tuple(int(value) for value in self.criteria.data or [] if str(value).isdigit())


class ModeratorForm(_PeopleForm):
    moderator = person_field("Moderator", "Choose the moderator")
    set_moderator = submit("Set moderator")


class ReplaceForm(_PeopleForm):
    reason = text_area("Why are they leaving the panel?", REASON_MAX, "Enter why they are leaving the panel",
                       "Kept in the panel's record, for example ‘Declared a conflict with a bidder’.")
    replacement = person_field("Who replaces them? (optional)", None)
    submit = submit("Take them off the panel")


class DeclarationForm(BaseForm):
    conflict = radios("Do you have a conflict of interest?", CONFLICT_CHOICES,
                      "Select whether you have a conflict of interest",
                      hint="For example a family, business, voluntary or past employment link with a bidder, or "
                           "a personal interest in the outcome.")
    details = text_area("Details of the conflict", TEXT_MAX,
                        hint="If you answered yes: who is involved and how you are connected.")
    submit = submit("Make my declaration")

    @property
    def has_conflict(self) -> bool:
        return self.conflict.data == "yes"


class LaterConflictForm(BaseForm):
    details = text_area("Details of the conflict", TEXT_MAX, "Give details of the conflict of interest",
                        "Who is involved and how you are connected. You will not see the bids until a procurement "
                        "officer records how the conflict is managed.")
    submit = submit("Declare this conflict")


class MitigationForm(BaseForm):
    mitigation = text_area("How is the conflict managed?", TEXT_MAX, "Say how the conflict is managed",
                           "For example ‘The link ended in 2019; the evaluator scores no criterion where it could "
                           "matter’. The panel member is told this.")
    submit = submit("Record the mitigation")


# Compliance ---------------------------------------------------------------------------------------------

class _ComplianceForm(BaseForm):
    """Fields per item are added by compliance_form; the rules (every item answered, notes, reasons) are the
    service's, so every problem is reported at once."""

    items: Sequence[Item] = ()

    def answers(self) -> dict[str, Answer]:
        return {item.key: Answer(item.key, _yes_no(self[f"passed_{item.slug}"].data),
                                 self[f"note_{item.slug}"].data or "") for item in self.items}

    def compliant(self) -> bool | None:
        return {"compliant": True, "excluded": False}.get(self.decision.data)


def _yes_no(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value)


def compliance_form(items: Sequence[Item]) -> type[_ComplianceForm]:
    """A form class for these items: a met/not met choice and a note each, then the decision and its reason."""
    attributes = {"items": tuple(items)}
    for item in items:
        attributes[f"passed_{item.slug}"] = optional_radios(item.label, MET_CHOICES, "Select met or not met")
        attributes[f"note_{item.slug}"] = text_area(f"Note on ‘{item.label}’", NOTE_MAX,
                                                    hint="Required when it is not met.")
    attributes["decision"] = optional_radios("Decision", DECISION_CHOICES,
                                             "Select whether the bid is compliant or excluded")
    attributes["reason"] = text_area("Reason for excluding the bid", REASON_MAX,
                                     hint="Required when excluded. The bidder is told this reason.")
    attributes["submit"] = submit("Save the compliance decision")
    return type("ComplianceForm", (_ComplianceForm,), attributes)


def compliance_data(check) -> dict:
    """A recorded decision as the form's starting data."""
    if check is None:
        return {}
    data = {"decision": "compliant" if check.compliant else "excluded", "reason": check.reason}
    for entry in check.checks:
        slug = entry["key"].replace("-", "_")
        data[f"passed_{slug}"] = "yes" if entry["passed"] else "no"
        data[f"note_{slug}"] = entry.get("note", "")
    return data
