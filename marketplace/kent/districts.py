"""The twelve district councils in the Kent County Council (KCC) area.

Pure reference data: standard library only. Medway is a separate unitary
council and is deliberately not listed here.
"""

from __future__ import annotations

from dataclasses import dataclass

COUNTY_WIDE = "county-wide"
"""Locality slug for work that covers the whole KCC area."""

OUTSIDE_KENT = "outside-kent"
"""Sentinel chosen by a user whose address is outside the KCC area."""

COUNTY_WIDE_NAME = "County-wide"
OUTSIDE_KENT_NAME = "Outside Kent"


@dataclass(frozen=True)
class District:
    """One district council area within Kent County Council."""

    slug: str
    name: str
    ons_code: str


DISTRICTS: tuple[District, ...] = (
    District("ashford", "Ashford", "E07000105"),
    District("canterbury", "Canterbury", "E07000106"),
    District("dartford", "Dartford", "E07000107"),
    District("dover", "Dover", "E07000108"),
    District("folkestone-hythe", "Folkestone & Hythe", "E07000112"),
    District("gravesham", "Gravesham", "E07000109"),
    District("maidstone", "Maidstone", "E07000110"),
    District("sevenoaks", "Sevenoaks", "E07000111"),
    District("swale", "Swale", "E07000113"),
    District("thanet", "Thanet", "E07000114"),
    District("tonbridge-malling", "Tonbridge & Malling", "E07000115"),
    District("tunbridge-wells", "Tunbridge Wells", "E07000116"),
)

_BY_SLUG: dict[str, District] = {district.slug: district for district in DISTRICTS}

LOCALITY_CHOICES: list[tuple[str, str]] = [
    *sorted(((d.slug, d.name) for d in DISTRICTS), key=lambda pair: pair[1]),
    (COUNTY_WIDE, COUNTY_WIDE_NAME),
]
"""(slug, name) pairs for a locality picker: districts A-Z, then county-wide."""


def district_by_slug(slug: str) -> District:
    """Return the district with this slug; raise KeyError if there is none."""
    try:
        return _BY_SLUG[slug]
    except KeyError:
        raise KeyError(f"Unknown Kent district: {slug!r}") from None


def is_district_slug(slug: str) -> bool:
    """Tell whether the slug names one of the twelve districts."""
    return slug in _BY_SLUG


def locality_name(slug: str) -> str:
    """Display name for a district slug, county-wide or outside-kent."""
    if slug == COUNTY_WIDE:
        return COUNTY_WIDE_NAME
    if slug == OUTSIDE_KENT:
        return OUTSIDE_KENT_NAME
    return district_by_slug(slug).name
