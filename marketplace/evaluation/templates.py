"""Evaluation model templates for common service types (pure data)."""

from __future__ import annotations

from decimal import Decimal

from marketplace.evaluation.model_rules import (
    LOCAL_ECONOMY,
    PASS_FAIL,
    PRICE,
    QUALITY,
    SOCIAL_VALUE,
    CriterionSpec,
)

D = Decimal

TEMPLATES: dict[str, tuple[str, tuple[CriterionSpec, ...]]] = {
    "social_care": ("Adult or children's social care", (
        CriterionSpec(PASS_FAIL, "CQC or Ofsted registration in good standing"),
        CriterionSpec(PASS_FAIL, "Safeguarding policy and DBS checks"),
        CriterionSpec(QUALITY, "Outcomes for the people you support", D(25), min_score=D(2), word_limit=1000),
        CriterionSpec(QUALITY, "Workforce, training and continuity of care", D(15), min_score=D(2), word_limit=750),
        CriterionSpec(QUALITY, "Safeguarding and quality assurance", D(10), min_score=D(2), word_limit=750),
        CriterionSpec(SOCIAL_VALUE, "Public value: local jobs, volunteering and community links", D(10), word_limit=750),
        CriterionSpec(LOCAL_ECONOMY, "Spend with Kent-based suppliers and subcontractors", D(10),
                      method="relative_highest"),
        CriterionSpec(PRICE, "Price", D(30), method="relative_lowest"),
    )),
    "community_services": ("Community services (libraries, youth, wellbeing)", (
        CriterionSpec(PASS_FAIL, "Insurance and safeguarding"),
        CriterionSpec(QUALITY, "How you will achieve the outcomes", D(30), min_score=D(2), word_limit=1000),
        CriterionSpec(QUALITY, "Reaching and involving local people", D(15), min_score=D(2), word_limit=750),
        CriterionSpec(SOCIAL_VALUE, "Public value: volunteering, skills and wellbeing", D(15), word_limit=750),
        CriterionSpec(LOCAL_ECONOMY, "Kent-resident jobs and apprenticeships", D(10), method="panel", word_limit=500),
        CriterionSpec(PRICE, "Price", D(30), method="relative_lowest"),
    )),
    "works": ("Works (highways, buildings, maintenance)", (
        CriterionSpec(PASS_FAIL, "Health and safety accreditation"),
        CriterionSpec(QUALITY, "Method statement and programme", D(25), min_score=D(2), word_limit=1500),
        CriterionSpec(QUALITY, "Managing disruption to residents", D(10), min_score=D(2), word_limit=750),
        CriterionSpec(SOCIAL_VALUE, "Public value: carbon reduction and local training", D(10), word_limit=750),
        CriterionSpec(LOCAL_ECONOMY, "Share of contract value spent with Kent-based subcontractors", D(10),
                      method="target", params={"target": "0.5"}),
        CriterionSpec(PRICE, "Price", D(45), method="deviation_from_lowest", params={"factor": "1"}),
    )),
}

TEMPLATE_CHOICES: list[tuple[str, str]] = [(key, label) for key, (label, _) in TEMPLATES.items()]


def template_criteria(key: str) -> tuple[CriterionSpec, ...]:
    """The criteria of a template; KeyError for an unknown key."""
    return TEMPLATES[key][1]
