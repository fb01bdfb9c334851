"""Table tests for the pure Kent reference-data package (no Flask app)."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

from marketplace.kent import (
    COUNTY_WIDE,
    DISTRICTS,
    LOCALITY_CHOICES,
    MEDWAY_ONLY,
    OUTSIDE_KENT,
    OUTWARD_CODES,
    STRADDLING,
    ChoiceNeeded,
    InvalidChoice,
    InvalidPostcode,
    choices_for,
    district_by_slug,
    locality_name,
    lookup_postcode,
    normalise_postcode,
    outward_code,
    resolve_kent_status,
)

KENT_PACKAGE = Path(__file__).resolve().parents[2] / "marketplace" / "kent"
FORBIDDEN_IMPORTS = ("flask", "sqlalchemy", "flask_sqlalchemy", "marketplace.extensions")
NAMED_STRADDLING = ["TN3", "TN8", "TN16", "TN17", "TN18", "DA1", "DA5", "BR8",
                    "ME1", "ME3", "ME5", "ME7"]
DISTRICT_SLUGS = {d.slug for d in DISTRICTS}


# --- normalisation -------------------------------------------------------

@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ct1 2ab", "CT1 2AB"),
        ("CT1 2AB", "CT1 2AB"),
        ("ct12ab", "CT1 2AB"),
        ("  me15  6ab ", "ME15 6AB"),
        ("Me 15 6Ab", "ME15 6AB"),
        ("tn23\t1aa", "TN23 1AA"),
        ("sw1a1aa", "SW1A 1AA"),
        ("w1a 0ax", "W1A 0AX"),
        ("m1 1ae", "M1 1AE"),
        ("b33 8th", "B33 8TH"),
    ],
)
def test_normalise_postcode(raw: str, expected: str) -> None:
    assert normalise_postcode(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "HELLO", "CT1", "CT1 2A", "12345", "CT1 2CI", "CT1 2AK",
     "CT1 2MO", "CT1 2VA", "CTX1 2AB", "CT123 2AB", "CT1 2AB3", "CT1 2ABC",
     "ct1-2ab", "1CT 2AB", "C 2AB"],
)
def test_invalid_postcodes_are_rejected(raw: str) -> None:
    with pytest.raises(InvalidPostcode) as excinfo:
        normalise_postcode(raw)
    assert "real postcode" in str(excinfo.value)


def test_invalid_postcode_is_a_value_error() -> None:
    assert issubclass(InvalidPostcode, ValueError)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("ct1 2ab", "CT1"), ("me15 6ab", "ME15"), ("SW1A 1AA", "SW1A"), ("m1 1ae", "M1")],
)
def test_outward_code(raw: str, expected: str) -> None:
    assert outward_code(raw) == expected


# --- districts ------------------------------------------------------------

def test_twelve_districts() -> None:
    assert len(DISTRICTS) == 12


def test_district_slugs_unique_and_lower_case_hyphenated() -> None:
    slugs = [d.slug for d in DISTRICTS]
    assert len(set(slugs)) == len(slugs)
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", slug) for slug in slugs)


def test_ons_codes_unique_and_well_formed() -> None:
    codes = [d.ons_code for d in DISTRICTS]
    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"E070001\d\d", code) for code in codes)


@pytest.mark.parametrize(
    ("slug", "name", "ons_code"),
    [
        ("ashford", "Ashford", "E07000105"),
        ("canterbury", "Canterbury", "E07000106"),
        ("dartford", "Dartford", "E07000107"),
        ("dover", "Dover", "E07000108"),
        ("folkestone-hythe", "Folkestone & Hythe", "E07000112"),
        ("gravesham", "Gravesham", "E07000109"),
        ("maidstone", "Maidstone", "E07000110"),
        ("sevenoaks", "Sevenoaks", "E07000111"),
        ("swale", "Swale", "E07000113"),
        ("thanet", "Thanet", "E07000114"),
        ("tonbridge-malling", "Tonbridge & Malling", "E07000115"),
        ("tunbridge-wells", "Tunbridge Wells", "E07000116"),
    ],
)
def test_district_by_slug(slug: str, name: str, ons_code: str) -> None:
    district = district_by_slug(slug)
    assert (district.name, district.ons_code) == (name, ons_code)
    assert locality_name(slug) == name


def test_unknown_district_raises_key_error() -> None:
    with pytest.raises(KeyError):
        district_by_slug("medway")


def test_locality_choices_alphabetical_then_county_wide() -> None:
    assert LOCALITY_CHOICES[-1] == (COUNTY_WIDE, "County-wide")
    names = [name for _, name in LOCALITY_CHOICES[:-1]]
    assert names == sorted(names)
    assert {slug for slug, _ in LOCALITY_CHOICES[:-1]} == DISTRICT_SLUGS
    assert locality_name(COUNTY_WIDE) == "County-wide"


# --- outward-code tables --------------------------------------------------

def test_tables_only_name_real_districts() -> None:
    for outward, slugs in OUTWARD_CODES.items():
        assert slugs, outward
        assert len(set(slugs)) == len(slugs), outward
        assert set(slugs) <= DISTRICT_SLUGS, outward


def test_tables_are_consistent() -> None:
    assert STRADDLING <= set(OUTWARD_CODES)
    assert not MEDWAY_ONLY & set(OUTWARD_CODES)
    assert not MEDWAY_ONLY & STRADDLING


@pytest.mark.parametrize(
    ("postcode", "slug"),
    [
        ("TN23 1AA", "ashford"),
        ("CT1 2AB", "canterbury"),
        ("DA9 9AA", "dartford"),
        ("CT16 1AA", "dover"),
        ("CT20 1AA", "folkestone-hythe"),
        ("DA11 0AA", "gravesham"),
        ("ME15 6AB", "maidstone"),
        ("TN13 1AA", "sevenoaks"),
        ("ME10 4AA", "swale"),
        ("CT9 1AA", "thanet"),
        ("TN9 1AA", "tonbridge-malling"),
        ("TN1 1AA", "tunbridge-wells"),
    ],
)
def test_each_district_reachable_from_a_single_district_code(postcode: str, slug: str) -> None:
    lookup = lookup_postcode(postcode)
    assert (lookup.status, lookup.districts, lookup.needs_choice) == ("in_kent", (slug,), False)
    status = resolve_kent_status(postcode)
    assert (status.kent_based, status.district) == (True, slug)


def test_every_district_appears_in_the_table() -> None:
    mapped = {slug for slugs in OUTWARD_CODES.values() for slug in slugs}
    assert mapped == DISTRICT_SLUGS


def test_single_district_derivation() -> None:
    status = resolve_kent_status("ct1 2ab", choice="dover")  # choice ignored
    assert status.derivation == "From postcode CT1 2AB: outward code CT1 is in Canterbury."
    assert status.district == "canterbury"


@pytest.mark.parametrize("outward", NAMED_STRADDLING)
def test_named_straddling_codes_need_a_choice(outward: str) -> None:
    assert outward in STRADDLING
    lookup = lookup_postcode(f"{outward} 1AA")
    assert lookup.status == "straddles"
    assert lookup.needs_choice
    assert lookup.districts
    choices = choices_for(lookup)
    assert choices[-1] == (OUTSIDE_KENT, "Outside Kent")
    assert [slug for slug, _ in choices[:-1]] == list(lookup.districts)


@pytest.mark.parametrize("outward", sorted(STRADDLING))
def test_straddling_codes_can_resolve_to_outside_kent(outward: str) -> None:
    status = resolve_kent_status(f"{outward} 1AA", choice=OUTSIDE_KENT)
    assert (status.kent_based, status.district) == (False, None)
    assert status.derivation == (
        f"From postcode {outward} 1AA: outward code {outward} crosses the county "
        "boundary; the organisation chose outside Kent."
    )


@pytest.mark.parametrize("outward", ["ME2", "ME4", "ME8"])
def test_medway_codes_are_outside_kent(outward: str) -> None:
    assert outward in MEDWAY_ONLY
    postcode = f"{outward} 4AA"
    lookup = lookup_postcode(postcode)
    assert (lookup.status, lookup.districts, lookup.needs_choice) == ("medway", (), False)
    status = resolve_kent_status(postcode)
    assert (status.kent_based, status.district) == (False, None)
    assert status.derivation == (
        f"From postcode {postcode}: outward code {outward} is in Medway, "
        "a separate unitary council, so outside Kent."
    )


@pytest.mark.parametrize("postcode", ["SW1A 1AA", "BN1 1AA", "RH1 1AA", "ME99 1AA",
                                      "TN31 7AA", "DA6 7AA", "BR1 1AA", "W1A 0AX"])
def test_unknown_codes_are_outside_kent(postcode: str) -> None:
    lookup = lookup_postcode(postcode)
    assert (lookup.status, lookup.districts, lookup.needs_choice) == ("outside_kent", (), False)
    assert choices_for(lookup) == []
    status = resolve_kent_status(postcode)
    assert status == status.__class__(False, None, f"From postcode {postcode}: outside Kent.")


# --- choice resolution ----------------------------------------------------

@pytest.mark.parametrize(
    ("postcode", "choice", "derivation"),
    [
        ("tn3 0ab", "tunbridge-wells",
         "From postcode TN3 0AB: outward code TN3 crosses the county boundary; "
         "the organisation chose Tunbridge Wells."),
        ("DA1 1AA", "dartford",
         "From postcode DA1 1AA: outward code DA1 crosses the county boundary; "
         "the organisation chose Dartford."),
        ("ME1 3AA", "tonbridge-malling",
         "From postcode ME1 3AA: outward code ME1 crosses the county boundary; "
         "the organisation chose Tonbridge & Malling."),
        ("CT4 6AA", "folkestone-hythe",
         "From postcode CT4 6AA: outward code CT4 covers more than one Kent "
         "district; the organisation chose Folkestone & Hythe."),
        ("TN12 6AA", "maidstone",
         "From postcode TN12 6AA: outward code TN12 covers more than one Kent "
         "district; the organisation chose Maidstone."),
    ],
)
def test_valid_choice(postcode: str, choice: str, derivation: str) -> None:
    status = resolve_kent_status(postcode, choice)
    assert (status.kent_based, status.district, status.derivation) == (True, choice, derivation)


@pytest.mark.parametrize(
    ("postcode", "choice"),
    [
        ("TN3 0AB", "thanet"),  # a real district, but not a candidate
        ("TN3 0AB", "nonsense"),
        ("TN3 0AB", COUNTY_WIDE),
        ("CT4 6AA", OUTSIDE_KENT),  # wholly in Kent: outside is not offered
        ("TN12 6AA", "dover"),
    ],
)
def test_invalid_choice_raises(postcode: str, choice: str) -> None:
    with pytest.raises(InvalidChoice):
        resolve_kent_status(postcode, choice)


@pytest.mark.parametrize("postcode", ["TN3 0AB", "CT4 6AA", "ME5 9AA", "TN11 8AA"])
@pytest.mark.parametrize("choice", [None, ""])
def test_missing_choice_raises_choice_needed(postcode: str, choice: str | None) -> None:
    with pytest.raises(ChoiceNeeded) as excinfo:
        resolve_kent_status(postcode, choice)
    lookup = excinfo.value.lookup
    assert lookup.postcode == normalise_postcode(postcode)
    assert lookup.needs_choice


def test_multi_district_code_in_kent_offers_no_outside_option() -> None:
    lookup = lookup_postcode("CT4 6AA")
    assert lookup.status == "in_kent"
    assert lookup.needs_choice
    assert OUTSIDE_KENT not in dict(choices_for(lookup))


def test_invalid_postcode_raises_before_choice() -> None:
    with pytest.raises(InvalidPostcode):
        resolve_kent_status("HELLO", "canterbury")


# --- purity ---------------------------------------------------------------

def _imported_modules(path: Path) -> list[str]:
    """Absolute names of every module imported by a file in marketplace.kent."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.append(_absolute_from(node))
    return names


def _absolute_from(node: ast.ImportFrom) -> str:
    """Resolve a (possibly relative) `from X import` inside marketplace.kent."""
    if node.level == 0:
        return node.module or ""
    base = ["marketplace", "kent"][: 2 - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _kent_modules() -> list[Path]:
    modules = sorted(KENT_PACKAGE.rglob("*.py"))
    assert modules, KENT_PACKAGE
    return modules


@pytest.mark.parametrize("path", _kent_modules(), ids=lambda p: p.name)
def test_kent_package_imports_no_app_code(path: Path) -> None:
    for name in _imported_modules(path):
        for forbidden in FORBIDDEN_IMPORTS:
            assert name != forbidden and not name.startswith(forbidden + "."), (
                f"{path.name} imports {name}"
            )


@pytest.mark.parametrize("path", _kent_modules(), ids=lambda p: p.name)
def test_kent_package_uses_only_stdlib_and_itself(path: Path) -> None:
    for name in _imported_modules(path):
        root = name.split(".")[0]
        own = name == "marketplace.kent" or name.startswith("marketplace.kent.")
        assert own or root in sys.stdlib_module_names or root == "__future__", (
            f"{path.name} imports {name}"
        )
