"""The category-management taxonomy (pure reference data)."""

from __future__ import annotations

CATEGORIES: dict[str, str] = {
    "adult-social-care": "Adult social care",
    "children-and-families": "Children and families",
    "education-and-skills": "Education and skills",
    "public-health": "Public health",
    "community-and-libraries": "Community and libraries",
    "highways-and-transport": "Highways and transport",
    "environment-and-waste": "Environment and waste",
    "property-and-facilities": "Property and facilities",
    "ict-and-digital": "ICT and digital",
    "professional-services": "Professional services",
    "housing-and-homelessness": "Housing and homelessness",
    "culture-heritage-and-sport": "Culture, heritage and sport",
}

CATEGORY_CHOICES: list[tuple[str, str]] = list(CATEGORIES.items())


def category_name(slug: str) -> str:
    return CATEGORIES.get(slug, slug)
