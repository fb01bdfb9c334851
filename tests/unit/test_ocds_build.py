"""OCDS releases from hand-built facts (no app, no database): one release per state change, each a snapshot of
what was public then; nothing about any bid before the deadline, only statistics until the award notice."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from marketplace.transparency import ocds_build as build
from marketplace.transparency.ocds_validate import merge_patch, validate_package
from tests.unit.test_pure_imports import violations

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = str(ROOT.parent / "shared" / "ocds")
PREFIX = "ocds-kcc001"
NOW = datetime(2027, 6, 1, 12, 0, tzinfo=timezone.utc)
PUBLISHED = NOW - timedelta(days=60)
DEADLINE = NOW - timedelta(days=30)
NOTICE = NOW - timedelta(days=20)
CONFIRMED = NOW - timedelta(days=5)

CHARITY = build.Organisation(1, "Thanet Befrienders", "charity", "small", None, "1100001")
MUTUAL = build.Organisation(2, "Kent Care Mutual CIC", "staff_mutual", "medium", "09876543")
LARGE = build.Organisation(3, "Big Care plc", "private_company", "large", "01234567")


def tender(**changes) -> build.Tender:
    facts = build.Tender(
        reference="KCC-2027-0007", title="Befriending for older people", summary="Weekly visits.",
        category="adult-social-care", category_name="Adult social care", estimated_value=Decimal("300000.00"),
        procedure="light_touch", procedure_name="Light-touch regime", published_at=PUBLISHED,
        submission_deadline=DEADLINE, url="https://marketplace.example/opportunities/7",
        clarification_deadline=DEADLINE - timedelta(days=5), contract_start=date(2027, 9, 1),
        contract_end=date(2029, 8, 31), contract_months=24, award_criteria="Quality 60%; Price 40%",
        above_threshold=True, contact_name="Commissioning team", contact_email="team@kent.example",
        lots=(build.Lot(1, "North Kent", "Dartford and Gravesham", Decimal("150000")),
              build.Lot(2, "East Kent", "Thanet and Dover", Decimal("150000"))),
        documents=(build.Document(5, "specification", "Service specification", "https://marketplace.example/d/5",
                                  "application/pdf", PUBLISHED - timedelta(days=2)),))
    return replace(facts, **changes)


BIDS = (
    build.Bid(11, CHARITY, DEADLINE - timedelta(days=1), "successful", Decimal("120000.50"), (1,)),
    build.Bid(12, MUTUAL, DEADLINE - timedelta(days=2), "unsuccessful", Decimal("135000.00"), (1, 2)),
    build.Bid(13, LARGE, DEADLINE - timedelta(days=3), "excluded", Decimal("90000.00"), (2,)),
)
PENDING = build.Award(4, 11, "approved", NOTICE, date(2027, 5, 25))
ACTIVE = replace(PENDING, status="confirmed", confirmed_at=CONFIRMED)
CONTRACT = build.Contract(9, "KCC-2027-0007-C1", 4, "Befriending for older people", Decimal("120000.50"),
                          date(2027, 9, 1), date(2029, 8, 31), "Weekly visits.")


def releases(process: build.Process, now: datetime = NOW) -> list[dict]:
    return build.releases(process, PREFIX, now)


def by_tag(found: list[dict]) -> dict[str, dict]:
    return {"+".join(r["tag"]): r for r in found}


def party_ids(release: dict) -> list[str]:
    return [p["id"] for p in release["parties"]]


def assert_valid(found: list[dict]) -> None:
    package = build.package(found, "https://marketplace.example/data/ocds/releases.json", NOW)
    assert validate_package(package, SCHEMA_DIR) == []


# Tender ---------------------------------------------------------------------------------------------------

def test_an_open_opportunity_has_one_tender_release_dated_at_its_publication():
    [release] = releases(build.Process(tender()), now=DEADLINE - timedelta(days=1))
    assert release["ocid"] == "ocds-kcc001-KCC-2027-0007"
    assert release["id"] == "ocds-kcc001-KCC-2027-0007-tender"
    assert release["tag"] == ["tender"]
    assert release["date"] == build.stamp(PUBLISHED)
    tender_ = release["tender"]
    assert tender_["status"] == "active"
    assert tender_["value"] == {"amount": 300000, "currency": "GBP"}
    assert tender_["procurementMethod"] == "open" and tender_["specialRegime"] == ["lightTouch"]
    assert tender_["tenderPeriod"] == {"startDate": build.stamp(PUBLISHED), "endDate": build.stamp(DEADLINE)}
    assert [lot["id"] for lot in tender_["lots"]] == ["1", "2"]
    assert tender_["items"][0]["classification"] == {"scheme": "CPV", "id": "85300000",
                                                      "description": "Social work and related services"}
    assert tender_["items"][0]["additionalClassifications"][0]["id"] == "adult-social-care"
    assert [d["documentType"] for d in tender_["documents"]] == ["tenderNotice", "technicalSpecifications"]
    assert party_ids(release) == ["GB-LAE-KEN"]
    assert release["parties"][0]["roles"] == ["buyer", "procuringEntity"]


def test_before_the_deadline_nothing_about_any_bid_appears_not_even_a_count():
    found = releases(build.Process(tender(), BIDS), now=DEADLINE - timedelta(minutes=1))
    text = json.dumps(found)
    assert len(found) == 1
    assert "bids" not in found[0] and "numberOfTenderers" not in found[0]["tender"]
    for bidder in (CHARITY, MUTUAL, LARGE):
        assert bidder.name not in text
    assert "120000.5" not in text and "tenderers" not in text


def test_an_amendment_makes_a_tender_amendment_release_and_the_tender_release_keeps_the_old_deadline():
    old_deadline = DEADLINE - timedelta(days=7)
    amendment = build.Amendment(3, PUBLISHED + timedelta(days=5), "More time to bid", old_deadline, DEADLINE)
    found = releases(build.Process(tender(amendments=(amendment,))), now=DEADLINE - timedelta(days=1))
    first, second = found
    assert first["tender"]["tenderPeriod"]["endDate"] == build.stamp(old_deadline)
    assert "amendments" not in first["tender"]
    assert second["tag"] == ["tenderAmendment"]
    assert second["id"] == "ocds-kcc001-KCC-2027-0007-amendment-3"
    assert second["date"] == build.stamp(amendment.published_at)
    assert second["tender"]["tenderPeriod"]["endDate"] == build.stamp(DEADLINE)
    assert second["tender"]["amendments"] == [{
        "id": "3", "date": build.stamp(amendment.published_at), "description": "More time to bid",
        "rationale": f"The submission deadline moved from {build.stamp(old_deadline)} to {build.stamp(DEADLINE)}.",
        "amendsReleaseID": first["id"], "releaseID": second["id"]}]
    assert_valid(found)


def test_a_cancellation_before_the_deadline_never_publishes_bid_statistics():
    cancelled = tender(cancelled_at=DEADLINE - timedelta(days=3), cancel_reason="The service is no longer needed")
    found = releases(build.Process(cancelled, BIDS))
    assert [r["tag"] for r in found] == [["tender"], ["tenderCancellation"]]
    last = found[-1]
    assert last["tender"]["status"] == "cancelled"
    assert last["tender"]["finalStatusDate"] == build.stamp(cancelled.cancelled_at)
    assert last["tender"]["documents"][-1]["description"] == "The service is no longer needed"
    assert "bids" not in last and "numberOfTenderers" not in last["tender"]
    assert_valid(found)


# After the deadline -------------------------------------------------------------------------------------

def test_at_the_deadline_a_tender_update_publishes_only_statistics():
    found = releases(build.Process(tender(), BIDS), now=NOTICE - timedelta(days=1))
    update = by_tag(found)["tenderUpdate"]
    assert update["date"] == build.stamp(DEADLINE)
    statistics = {(s["measure"], s.get("relatedLot")): s["value"] for s in update["bids"]["statistics"]}
    assert statistics == {("bids", None): 3, ("smeBids", None): 2, ("vcseBids", None): 2,
                          ("bids", "1"): 2, ("bids", "2"): 2}
    assert update["tender"]["numberOfTenderers"] == 3
    assert "details" not in update["bids"] and "tenderers" not in update["tender"]
    assert party_ids(update) == ["GB-LAE-KEN"]
    assert "120000.5" not in json.dumps(update)
    assert_valid(found)


def test_the_award_notice_publishes_a_pending_award_with_its_standstill_and_the_bid_details():
    found = releases(build.Process(tender(), BIDS, (PENDING,)), now=CONFIRMED)
    award_release = by_tag(found)["award"]
    assert award_release["id"] == "ocds-kcc001-KCC-2027-0007-award-4"
    assert award_release["date"] == build.stamp(NOTICE)
    [award] = award_release["awards"]
    assert award["status"] == "pending"
    assert award["value"] == {"amount": 120000.5, "currency": "GBP"}
    assert award["suppliers"] == [{"id": "GB-CHC-1100001", "name": "Thanet Befrienders"}]
    assert award["relatedBid"] == "11"
    assert award["standstillPeriod"] == {"startDate": build.stamp(NOTICE), "endDate": "2027-05-25T23:59:59+01:00"}
    details = {d["id"]: (d["status"], d["value"]["amount"]) for d in award_release["bids"]["details"]}
    assert details == {"11": ("valid", 120000.5), "12": ("valid", 135000), "13": ("disqualified", 90000)}
    measures = {s["measure"]: s["value"] for s in award_release["bids"]["statistics"] if "relatedLot" not in s}
    assert measures["finalStageBids"] == 2 and measures["smeFinalStageBids"] == 2
    assert measures["vcseFinalStageBids"] == 2
    assert_valid(found)


def test_parties_after_the_award_carry_registrations_and_the_uk_vcse_and_mutual_flags():
    release = by_tag(releases(build.Process(tender(), BIDS, (PENDING,)), now=CONFIRMED))["award"]
    parties = {p["id"]: p for p in release["parties"]}
    assert set(parties) == {"GB-LAE-KEN", "GB-CHC-1100001", "GB-COH-09876543", "GB-COH-01234567"}
    assert parties["GB-CHC-1100001"]["roles"] == ["tenderer", "supplier"]
    assert parties["GB-CHC-1100001"]["details"] == {"vcse": True, "publicServiceMissionOrganization": False}
    assert parties["GB-COH-09876543"]["details"] == {"vcse": True, "publicServiceMissionOrganization": True}
    assert parties["GB-COH-01234567"]["roles"] == ["tenderer"]
    assert parties["GB-COH-01234567"]["details"]["vcse"] is False
    assert parties["GB-COH-01234567"]["identifier"] == {"scheme": "GB-COH", "id": "01234567",
                                                         "legalName": "Big Care plc"}


def test_confirmation_publishes_the_contract_and_the_award_becomes_active_while_the_award_release_stays_pending():
    found = releases(build.Process(tender(), BIDS, (ACTIVE,), (CONTRACT,)))
    assert [r["tag"] for r in found] == [["tender"], ["tenderUpdate"], ["award"], ["awardUpdate", "contract"]]
    award_release, contract_release = found[2], found[3]
    assert award_release["awards"][0]["status"] == "pending" and "contracts" not in award_release
    assert contract_release["id"] == "ocds-kcc001-KCC-2027-0007-contract-9"
    assert contract_release["date"] == build.stamp(CONFIRMED)
    assert contract_release["awards"][0]["status"] == "active"
    assert contract_release["tender"]["status"] == "complete"
    [contract] = contract_release["contracts"]
    assert contract["id"] == "KCC-2027-0007-C1" and contract["awardID"] == "4"
    assert contract["value"] == {"amount": 120000.5, "currency": "GBP"}
    assert contract["period"] == {"startDate": "2027-09-01T00:00:00+01:00", "endDate": "2029-08-31T23:59:59+01:00"}
    assert_valid(found)


def test_a_release_dated_after_now_is_not_published_yet():
    found = releases(build.Process(tender(), BIDS, (ACTIVE,), (CONTRACT,)), now=NOTICE - timedelta(seconds=1))
    assert [r["tag"] for r in found] == [["tender"], ["tenderUpdate"]]


def test_cancelling_during_standstill_cancels_the_award_too():
    cancelled_at = NOTICE + timedelta(days=2)
    process = build.Process(tender(cancelled_at=cancelled_at, cancel_reason="A challenge was upheld"), BIDS,
                            (replace(PENDING, status="cancelled", cancelled_at=cancelled_at),))
    found = releases(process)
    last = found[-1]
    assert last["tag"] == ["tenderCancellation", "awardCancellation"]
    assert last["awards"][0]["status"] == "cancelled"
    assert last["awards"][0]["finalStatusDate"] == build.stamp(cancelled_at)
    assert [p["roles"] for p in last["parties"][1:]] == [["tenderer"]] * 3
    assert by_tag(found)["award"]["awards"][0]["status"] == "pending"
    assert_valid(found)


def test_release_ids_are_unique_and_releases_come_oldest_first():
    amendment = build.Amendment(3, PUBLISHED + timedelta(days=5), "More time", DEADLINE - timedelta(days=7), DEADLINE)
    found = releases(build.Process(tender(amendments=(amendment,)), BIDS, (ACTIVE,), (CONTRACT,)))
    assert len({r["id"] for r in found}) == len(found) == 5
    assert [r["date"] for r in found] == sorted(r["date"] for r in found)


# Packages and small conversions --------------------------------------------------------------------------

def test_a_package_names_the_extensions_and_is_dated_by_its_newest_release():
    found = releases(build.Process(tender(), BIDS, (ACTIVE,), (CONTRACT,)))
    package = build.package(found, "https://marketplace.example/p", NOW, {"next": "https://marketplace.example/2"})
    assert package["version"] == "1.1"
    assert package["publishedDate"] == build.stamp(CONFIRMED)
    assert len(package["extensions"]) == 3 and package["links"] == {"next": "https://marketplace.example/2"}
    assert package["publisher"] == {"name": "Kent County Council", "scheme": "GB-LAE", "uid": "KEN"}


@pytest.mark.parametrize("value, expected", [(Decimal("300000.00"), 300000), (Decimal("1234.56"), 1234.56),
                                             (Decimal("0.10"), 0.1)])
def test_money_becomes_a_json_number_keeping_the_pence(value, expected):
    assert build.amount(value) == expected
    assert json.dumps(build.amount(value)) == json.dumps(expected)


def test_an_organisation_without_a_registration_gets_the_marketplace_s_own_party_id():
    unregistered = build.Organisation(42, "Margate Men's Shed", "voluntary_community", "micro")
    assert build.party_id(unregistered) == "KCC-ORG-42"
    assert "identifier" not in build.supplier_party(unregistered, ["tenderer"])


def test_the_release_builder_imports_nothing_from_flask_or_the_database():
    assert violations(ROOT / "marketplace" / "transparency" / "ocds_build.py") == []


# Validation ---------------------------------------------------------------------------------------------

def test_merge_patch_follows_rfc_7386():
    target = {"a": "b", "c": {"d": "e", "f": "g"}, "list": [1, 2]}
    patch = {"a": "z", "c": {"f": None}, "list": [3], "new": {"x": 1}}
    assert merge_patch(target, patch) == {"a": "z", "c": {"d": "e"}, "list": [3], "new": {"x": 1}}
    assert target["c"] == {"d": "e", "f": "g"}


def test_validation_reports_each_schema_error_with_its_path():
    found = releases(build.Process(tender(), BIDS, (PENDING,)))
    package = build.package(found, "https://marketplace.example/p", NOW)
    package["releases"][0]["tender"]["value"]["amount"] = "300000"
    package["releases"][-1]["bids"]["details"][0]["status"] = "winner"
    package["releases"][-1]["awards"][0]["standstillPeriod"]["endDate"] = "next week"
    problems = validate_package(package, SCHEMA_DIR)
    assert problems == [
        "releases/0/tender/value/amount: '300000' is not of type 'number', 'null'",
        "releases/2/awards/0/standstillPeriod/endDate: 'next week' is not a 'date-time'",
        "releases/2/bids/details/0/status: 'winner' is not one of "
        "['invited', 'pending', 'valid', 'disqualified', 'withdrawn', None]",
    ]


def test_validation_refuses_an_extension_it_cannot_check_offline_and_repeated_release_ids():
    found = releases(build.Process(tender()))
    package = build.package(found + found, "https://marketplace.example/p", NOW)
    package["extensions"].append("https://example.org/ocds_unknown_extension/extension.json")
    problems = validate_package(package, SCHEMA_DIR)
    assert "extensions: https://example.org/ocds_unknown_extension/extension.json is not in " \
           f"{SCHEMA_DIR}, so it cannot be checked offline" in problems
    assert "Release id 'ocds-kcc001-KCC-2027-0007-tender' appears 2 times for ocid 'ocds-kcc001-KCC-2027-0007'" \
        in problems


def test_without_the_schema_directory_validation_asks_libcoveocds(monkeypatch, tmp_path):
    import libcoveocds.api

    seen = {}

    def fake_cove(output_dir, file=None, schema_version=None, **kwargs):
        seen.update(kwargs, schema_version=schema_version)
        return {"validation_errors": [{"path": "releases/0/date", "description": "'x' is not a 'date-time'"}],
                "extensions": {"invalid_extensions": [["https://example.org/e.json", "404: not found"]]}}

    monkeypatch.setattr(libcoveocds.api, "ocds_json_output", fake_cove)
    package = {"uri": "u", "releases": []}
    problems = validate_package(package, str(tmp_path / "absent"))
    assert seen["json_data"] is package and seen["schema_version"] == "1.1"
    assert problems == ["releases/0/date: 'x' is not a 'date-time'",
                        "extensions: https://example.org/e.json: 404: not found"]
