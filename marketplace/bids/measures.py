"""Social value measures bidders commit to (pure reference data), after the National TOMs themes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Measure:
    code: str
    theme: str
    label: str
    unit: str


THEMES = {
    "jobs": "Jobs and skills",
    "growth": "Supporting local business and the VCSE sector",
    "communities": "Healthier, safer communities",
    "environment": "Protecting the environment",
}

MEASURES: tuple[Measure, ...] = (
    Measure("local_jobs", "jobs", "Jobs for Kent residents (full-time equivalent)", "FTE"),
    Measure("apprenticeships", "jobs", "Apprenticeships created", "weeks"),
    Measure("work_placements", "jobs", "Work placements for young people or care leavers", "weeks"),
    Measure("training_hours", "jobs", "Training and skills hours for residents", "hours"),
    Measure("spend_kent_vcse", "growth", "Spend with Kent VCSEs", "£"),
    Measure("spend_kent_sme", "growth", "Spend with Kent SMEs", "£"),
    Measure("volunteering_hours", "communities", "Staff volunteering hours in Kent communities", "hours"),
    Measure("community_fund", "communities", "Contribution to a community fund", "£"),
    Measure("carbon_reduction", "environment", "Carbon emissions avoided", "tonnes CO2e"),
    Measure("low_emission_miles", "environment", "Miles driven in zero-emission vehicles", "miles"),
)

BY_CODE = {m.code: m for m in MEASURES}
MEASURE_CHOICES = [(m.code, f"{m.label} ({m.unit})") for m in MEASURES]


def describe(code: str, quantity, unit: str | None = None) -> str:
    """'Apprenticeships created: 156 weeks', 'Spend with Kent VCSEs: £40,000'."""
    measure = BY_CODE.get(code)
    label, unit = (measure.label, unit or measure.unit) if measure else (code, unit or "")
    if unit == "£":
        return f"{label}: £{quantity:,.0f}" if float(quantity).is_integer() else f"{label}: £{quantity:,.2f}"
    amount = f"{quantity:,.0f}" if float(quantity).is_integer() else f"{quantity:,}"
    return f"{label}: {amount} {unit}"
