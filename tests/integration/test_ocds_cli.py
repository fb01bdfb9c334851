"""flask ocds-export writes one release package of every release; flask ocds-validate checks a package against
the OCDS schema offline and lists each problem."""

from __future__ import annotations

import json

import pytest

from tests.builders import closed_with_bids, make_opportunity
from tests.staff_fixtures import author, request_context  # noqa: F401 (fixtures)

BASE = "https://marketplace.kent.example"


def test_an_export_holds_every_release_and_passes_validation(runner, author, tmp_path):
    open_one = make_opportunity(author)
    closed, _ = closed_with_bids(author)
    make_opportunity(author, status="draft", published_at=None)
    target = tmp_path / "releases.json"
    exported = runner.invoke(args=["ocds-export", str(target), "--base-url", BASE])
    assert exported.exit_code == 0, exported.output
    assert "3 releases written to" in exported.stderr
    package = json.loads(target.read_text())
    assert [r["tag"] for r in package["releases"]] == [["tender"], ["tender"], ["tenderUpdate"]]
    assert {r["tender"]["id"] for r in package["releases"]} == {open_one.reference, closed.reference}
    assert package["releases"][0]["tender"]["documents"][0]["url"].startswith(f"{BASE}/opportunities/")
    checked = runner.invoke(args=["ocds-validate", str(target)])
    assert checked.exit_code == 0, checked.output
    assert f"{target} is a valid OCDS 1.1 release package of 3 releases." in checked.stdout


def test_the_export_goes_to_standard_output_with_a_dash(runner, author):
    opportunity = make_opportunity(author)
    exported = runner.invoke(args=["ocds-export", "-", "--base-url", BASE])
    assert exported.exit_code == 0, exported.output
    package = json.loads(exported.stdout)
    assert [r["tender"]["id"] for r in package["releases"]] == [opportunity.reference]


def test_the_export_needs_the_service_s_address_for_its_links(runner, tmp_path):
    exported = runner.invoke(args=["ocds-export", str(tmp_path / "out.json")])
    assert exported.exit_code == 2
    assert "Give --base-url" in exported.output
    assert not (tmp_path / "out.json").exists()


@pytest.mark.parametrize("app_overrides", [{"BASE_URL": BASE}])
def test_the_export_links_to_base_url_without_the_option(runner, author):
    opportunity = make_opportunity(author)
    exported = runner.invoke(args=["ocds-export", "-"])
    assert exported.exit_code == 0, exported.output
    [release] = json.loads(exported.stdout)["releases"]
    assert release["tender"]["documents"][0]["url"].startswith(f"{BASE}/opportunities/{opportunity.id}")


def test_validation_lists_each_problem_and_fails(runner, author, tmp_path):
    make_opportunity(author)
    target = tmp_path / "releases.json"
    runner.invoke(args=["ocds-export", str(target), "--base-url", BASE])
    package = json.loads(target.read_text())
    package["releases"][0]["tag"] = ["rumour"]
    del package["releases"][0]["ocid"]
    target.write_text(json.dumps(package))
    checked = runner.invoke(args=["ocds-validate", str(target)])
    assert checked.exit_code == 1
    assert "releases/0: 'ocid' is a required property" in checked.stderr
    assert "releases/0/tag/0: 'rumour' is not one of" in checked.stderr
    assert "2 problems in" in checked.stderr


def test_validation_of_a_file_that_is_not_json_says_so(runner, tmp_path):
    target = tmp_path / "broken.json"
    target.write_text("{not json")
    checked = runner.invoke(args=["ocds-validate", str(target)])
    assert checked.exit_code == 1
    assert f"{target} is not JSON" in checked.stderr
