"""Work out whether a UK postcode lies in the Kent County Council area.

Pure reference data and logic: standard library only.

The lookup works on the outward code (the part before the space). An outward
code is either wholly in one Kent district, wholly in Kent but spread over
several districts, part in Kent and part outside (it "straddles" the county
boundary), wholly in Medway (a separate unitary council, not KCC), or outside
Kent altogether. Where the outward code alone cannot decide, the organisation
is asked to choose, and the choice is recorded in a plain-English derivation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .districts import OUTSIDE_KENT, OUTSIDE_KENT_NAME, district_by_slug

IN_KENT = "in_kent"
STRADDLES = "straddles"
MEDWAY = "medway"
OUTSIDE = "outside_kent"

# Outward code: A9, A99, AA9, AA99, A9A or AA9A. Inward code: 9AA, where the
# letters are never C, I, K, M, O or V.
_POSTCODE_RE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][ABD-HJLNP-UW-Z]{2}$")

# Short names for the table below.
_ASH = "ashford"
_CAN = "canterbury"
_DAR = "dartford"
_DOV = "dover"
_FOL = "folkestone-hythe"
_GRA = "gravesham"
_MAI = "maidstone"
_SEV = "sevenoaks"
_SWA = "swale"
_THA = "thanet"
_TON = "tonbridge-malling"
_TUN = "tunbridge-wells"

OUTWARD_CODES: dict[str, tuple[str, ...]] = {
    # CT: Canterbury post town and east Kent.
    "CT1": (_CAN,),  # Canterbury city
    "CT2": (_CAN,),  # Canterbury north and west, Sturry, Blean
    "CT3": (_CAN, _DOV),  # Littlebourne, Hersden (Canterbury); Ash, Wingham, Aylesham (Dover)
    "CT4": (_CAN, _ASH, _FOL, _DOV),  # Bridge, Chartham; Chilham; Elham; Denton
    "CT5": (_CAN,),  # Whitstable
    "CT6": (_CAN,),  # Herne Bay
    "CT7": (_THA,),  # Birchington
    "CT8": (_THA,),  # Westgate-on-Sea
    "CT9": (_THA,),  # Margate
    "CT10": (_THA,),  # Broadstairs
    "CT11": (_THA,),  # Ramsgate
    "CT12": (_THA,),  # Ramsgate west, Minster, Monkton
    "CT13": (_DOV,),  # Sandwich, Eastry
    "CT14": (_DOV,),  # Deal, Walmer
    "CT15": (_DOV, _FOL),  # Dover villages; Swingfield (Folkestone & Hythe)
    "CT16": (_DOV,),  # Dover north, River, Whitfield
    "CT17": (_DOV,),  # Dover west
    "CT18": (_FOL,),  # Hawkinge, Capel-le-Ferne, Lyminge
    "CT19": (_FOL,),  # Folkestone north and east
    "CT20": (_FOL,),  # Folkestone central and west
    "CT21": (_FOL,),  # Hythe, Saltwood, Lympne
    # ME: Medway towns, Maidstone and Swale (Kent parts only).
    "ME1": (_TON,),  # Rochester (Medway); Wouldham, Burham (Tonbridge & Malling)
    "ME3": (_GRA,),  # Hoo peninsula (Medway); Higham (Gravesham)
    "ME5": (_TON, _MAI),  # Chatham (Medway); Blue Bell Hill, Walderslade Woods
    "ME6": (_TON,),  # Snodland
    "ME7": (_MAI,),  # Gillingham (Medway); Bredhurst (Maidstone)
    "ME9": (_SWA, _MAI),  # Sittingbourne villages; Stockbury, Bicknor (Maidstone)
    "ME10": (_SWA,),  # Sittingbourne
    "ME11": (_SWA,),  # Queenborough
    "ME12": (_SWA,),  # Sheerness, Isle of Sheppey
    "ME13": (_SWA,),  # Faversham
    "ME14": (_MAI,),  # Maidstone north and east, Boxley, Bearsted
    "ME15": (_MAI,),  # Maidstone south, Loose, Shepway
    "ME16": (_MAI,),  # Maidstone west, Allington, Barming
    "ME17": (_MAI,),  # Lenham, Harrietsham, Sutton Valence, Coxheath
    "ME18": (_MAI, _TON),  # Yalding, Teston; Wateringbury, Mereworth
    "ME19": (_TON,),  # West Malling, Kings Hill, Leybourne
    "ME20": (_TON,),  # Aylesford, Larkfield, Ditton
    # TN: Tonbridge post town, west and south Kent (Kent parts only).
    "TN1": (_TUN,),  # Tunbridge Wells central
    "TN2": (_TUN,),  # Tunbridge Wells east, Pembury
    "TN3": (_TUN, _SEV),  # Langton Green, Lamberhurst; Fordcombe (+ Groombridge/Frant, E Sussex)
    "TN4": (_TUN,),  # Southborough, Rusthall, St John's
    "TN8": (_SEV,),  # Edenbridge, Cowden (+ Surrey and East Sussex edges)
    "TN9": (_TON,),  # Tonbridge central
    "TN10": (_TON,),  # Tonbridge north
    "TN11": (_TON, _SEV, _TUN),  # Hildenborough, Hadlow; Leigh, Penshurst; Tudeley
    "TN12": (_TUN, _MAI, _TON),  # Paddock Wood; Marden, Staplehurst; East Peckham
    "TN13": (_SEV,),  # Sevenoaks town, Riverhead, Dunton Green
    "TN14": (_SEV,),  # Otford, Shoreham, Halstead, Knockholt (+ Cudham, Bromley)
    "TN15": (_SEV, _TON),  # Kemsing, Seal, West Kingsdown; Borough Green, Wrotham
    "TN16": (_SEV,),  # Westerham, Brasted (+ Biggin Hill, Bromley; Tatsfield, Surrey)
    "TN17": (_TUN, _ASH),  # Cranbrook, Goudhurst; Rolvenden (Ashford)
    "TN18": (_TUN, _ASH),  # Hawkhurst, Sandhurst; Newenden (Ashford)
    "TN23": (_ASH,),  # Ashford south and west
    "TN24": (_ASH,),  # Ashford north and east, Kennington, Willesborough
    "TN25": (_ASH, _FOL),  # Wye, Mersham, Aldington; Sellindge, Stowting
    "TN26": (_ASH,),  # Hamstreet, Woodchurch, Bethersden, Appledore
    "TN27": (_ASH, _MAI),  # Charing, Smarden, Biddenden; Headcorn (Maidstone)
    "TN28": (_FOL,),  # New Romney
    "TN29": (_FOL,),  # Romney Marsh, Lydd, Dymchurch
    "TN30": (_ASH,),  # Tenterden, Wittersham
    # DA: Dartford post town (Kent parts only; DA6-DA8, DA14-DA18 are London).
    "DA1": (_DAR,),  # Dartford (+ Crayford, Bexley)
    "DA2": (_DAR,),  # Wilmington, Stone, Darenth, Bean
    "DA3": (_DAR, _SEV),  # Longfield, New Barn; Hartley, New Ash Green, Fawkham
    "DA4": (_SEV, _DAR),  # Farningham, Eynsford, South Darenth; Sutton-at-Hone
    "DA5": (_DAR,),  # Bexley (London); Joyden's Wood (Dartford)
    "DA9": (_DAR,),  # Greenhithe
    "DA10": (_DAR,),  # Swanscombe
    "DA11": (_GRA,),  # Gravesend west, Northfleet
    "DA12": (_GRA,),  # Gravesend east, Chalk, Shorne, Cobham
    "DA13": (_GRA, _DAR),  # Meopham, Istead Rise; Southfleet (Dartford)
    # BR: Bromley post town (Kent part only).
    "BR8": (_SEV,),  # Swanley, Hextable (+ edges in Bromley)
}
"""Outward code -> the Kent districts it touches, main district first."""

STRADDLING: frozenset[str] = frozenset(
    {
        "TN3",  # Groombridge and Frant, East Sussex
        "TN8",  # Surrey and East Sussex edges
        "TN14",  # Cudham, London Borough of Bromley
        "TN16",  # Biggin Hill (Bromley), Tatsfield (Surrey)
        "TN17",  # edges in East Sussex
        "TN18",  # edges in East Sussex
        "DA1",  # Crayford, London Borough of Bexley
        "DA5",  # Bexley
        "BR8",  # edges in Bromley
        "ME1",  # Medway
        "ME3",  # Medway
        "ME5",  # Medway
        "ME7",  # Medway
    }
)
"""Outward codes that are partly in Kent and partly outside it."""

MEDWAY_ONLY: frozenset[str] = frozenset({"ME2", "ME4", "ME8"})
"""Outward codes wholly in Medway, a unitary council that is not KCC.

ME99 is a non-geographic code and so counts as unknown (outside Kent).
"""

DERIVATION_PREFIX = "From postcode {postcode}: "


class InvalidPostcode(ValueError):
    """The text given is not in the format of a UK postcode."""

    def __init__(self, message: str = "Enter a real postcode, like CT1 2AB") -> None:
        super().__init__(message)


@dataclass(frozen=True)
class PostcodeLookup:
    """What the outward code of a postcode tells us about Kent."""

    postcode: str
    outward: str
    status: str  # one of IN_KENT, STRADDLES, MEDWAY, OUTSIDE
    districts: tuple[str, ...]  # candidate Kent district slugs

    @property
    def needs_choice(self) -> bool:
        """True when the organisation must pick a district (or outside Kent)."""
        return self.status == STRADDLES or len(self.districts) > 1


@dataclass(frozen=True)
class KentStatus:
    """Whether an organisation is Kent-based, and how that was worked out."""

    kent_based: bool
    district: str | None
    derivation: str


class ChoiceNeeded(ValueError):
    """The postcode does not settle the district: the user must choose."""

    def __init__(self, lookup: PostcodeLookup) -> None:
        super().__init__(f"Choose where in Kent {lookup.postcode} is, or outside Kent")
        self.lookup = lookup


class InvalidChoice(ValueError):
    """The chosen value is not one of the choices offered for the postcode."""

    def __init__(self, lookup: PostcodeLookup, choice: str) -> None:
        super().__init__(f"Choose one of the options for {lookup.postcode}")
        self.lookup = lookup
        self.choice = choice


def normalise_postcode(raw: str) -> str:
    """Return the postcode upper-cased with one space; raise InvalidPostcode."""
    if not isinstance(raw, str):
        raise InvalidPostcode()
    compact = "".join(raw.split()).upper()
    candidate = f"{compact[:-3]} {compact[-3:]}"
    if not _POSTCODE_RE.match(candidate):
        raise InvalidPostcode()
    return candidate


def outward_code(postcode: str) -> str:
    """Return the outward code (the part before the space) of a postcode."""
    return normalise_postcode(postcode).split(" ")[0]


def classify_outward(outward: str) -> tuple[str, tuple[str, ...]]:
    """Return (status, candidate districts) for an outward code."""
    if outward in MEDWAY_ONLY:
        return MEDWAY, ()
    districts = OUTWARD_CODES.get(outward)
    if districts is None:
        return OUTSIDE, ()
    return (STRADDLES if outward in STRADDLING else IN_KENT), districts


def lookup_postcode(raw: str) -> PostcodeLookup:
    """Normalise a postcode and look up its outward code."""
    postcode = normalise_postcode(raw)
    outward = postcode.split(" ")[0]
    status, districts = classify_outward(outward)
    return PostcodeLookup(postcode, outward, status, districts)


def choices_for(lookup: PostcodeLookup) -> list[tuple[str, str]]:
    """(slug, label) pairs for a radio list of the lookup's candidates."""
    choices = [(slug, district_by_slug(slug).name) for slug in lookup.districts]
    if lookup.status == STRADDLES:
        choices.append((OUTSIDE_KENT, OUTSIDE_KENT_NAME))
    return choices


def resolve_kent_status(raw_postcode: str, choice: str | None = None) -> KentStatus:
    """Decide Kent status from a postcode and, where needed, the user's choice."""
    lookup = lookup_postcode(raw_postcode)
    if lookup.status == MEDWAY:
        detail = (
            f"outward code {lookup.outward} is in Medway, "
            "a separate unitary council, so outside Kent."
        )
        return _outside(lookup, detail)
    if lookup.status == OUTSIDE:
        return _outside(lookup, "outside Kent.")
    if not lookup.needs_choice:
        slug = lookup.districts[0]
        detail = f"outward code {lookup.outward} is in {district_by_slug(slug).name}."
        return _inside(lookup, slug, detail)
    return _resolve_choice(lookup, choice)


def _resolve_choice(lookup: PostcodeLookup, choice: str | None) -> KentStatus:
    """Apply the user's choice to a lookup that needs one."""
    if not choice:
        raise ChoiceNeeded(lookup)
    if choice not in dict(choices_for(lookup)):
        raise InvalidChoice(lookup, choice)
    reason = _choice_reason(lookup)
    if choice == OUTSIDE_KENT:
        return _outside(lookup, f"{reason}; the organisation chose outside Kent.")
    name = district_by_slug(choice).name
    return _inside(lookup, choice, f"{reason}; the organisation chose {name}.")


def _choice_reason(lookup: PostcodeLookup) -> str:
    """Why a choice was asked for, as a clause for the derivation."""
    if lookup.status == STRADDLES:
        return f"outward code {lookup.outward} crosses the county boundary"
    return f"outward code {lookup.outward} covers more than one Kent district"


def _inside(lookup: PostcodeLookup, slug: str, detail: str) -> KentStatus:
    """A Kent-based status in the given district."""
    prefix = DERIVATION_PREFIX.format(postcode=lookup.postcode)
    return KentStatus(kent_based=True, district=slug, derivation=prefix + detail)


def _outside(lookup: PostcodeLookup, detail: str) -> KentStatus:
    """A not-Kent-based status."""
    prefix = DERIVATION_PREFIX.format(postcode=lookup.postcode)
    return KentStatus(kent_based=False, district=None, derivation=prefix + detail)
