"""Kent reference data: districts, localities and postcode lookups.

Pure Python (standard library only), so it can be used and tested without
the Flask app or the database.
"""

from .districts import (
    COUNTY_WIDE,
    DISTRICTS,
    LOCALITY_CHOICES,
    OUTSIDE_KENT,
    District,
    district_by_slug,
    is_district_slug,
    locality_name,
)
from .postcodes import (
    IN_KENT,
    MEDWAY,
    MEDWAY_ONLY,
    OUTSIDE,
    OUTWARD_CODES,
    STRADDLES,
    STRADDLING,
    ChoiceNeeded,
    InvalidChoice,
    InvalidPostcode,
    KentStatus,
    PostcodeLookup,
    choices_for,
    classify_outward,
    lookup_postcode,
    normalise_postcode,
    outward_code,
    resolve_kent_status,
)

__all__ = [
    "COUNTY_WIDE",
    "DISTRICTS",
    "IN_KENT",
    "LOCALITY_CHOICES",
    "MEDWAY",
    "MEDWAY_ONLY",
    "OUTSIDE",
    "OUTSIDE_KENT",
    "OUTWARD_CODES",
    "STRADDLES",
    "STRADDLING",
    "ChoiceNeeded",
    "District",
    "InvalidChoice",
    "InvalidPostcode",
    "KentStatus",
    "PostcodeLookup",
    "choices_for",
    "classify_outward",
    "district_by_slug",
    "is_district_slug",
    "locality_name",
    "lookup_postcode",
    "normalise_postcode",
    "outward_code",
    "resolve_kent_status",
]
