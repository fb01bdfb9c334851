"""Static security analysis: bandit over the application code (settings in .bandit) finds nothing. A finding is
fixed, or justified on its line with `# nosec <id> # reason`."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT


def bandit(*targets: str) -> dict:
    """bandit's JSON report on the targets, with the project's settings."""
    run = subprocess.run([sys.executable, "-m", "bandit", "--ini", str(ROOT / ".bandit"), "--format", "json",
                          "--quiet", "--recursive", *targets], cwd=ROOT, capture_output=True, text=True, check=False)
    assert run.stdout, f"bandit did not run: {run.stderr}"
    return json.loads(run.stdout)


def findings(report: dict) -> list[str]:
    return [f"{r['filename']}:{r['line_number']} {r['test_id']} ({r['issue_severity']}) {r['issue_text']}"
            for r in report["results"]]


def test_bandit_finds_nothing_in_the_application():
    report = bandit("marketplace")

    assert report["errors"] == []
    assert report["metrics"]["_totals"]["loc"] > 10_000, "bandit read too little of the application"
    assert findings(report) == [], "fix each finding, or justify it on its line: # nosec <id> # reason"


def test_bandit_would_report_a_finding(tmp_path):
    """The check above can fail: a shell command built from input is reported."""
    (tmp_path / "risky.py").write_text("import subprocess\n\n\ndef run(name):\n"
                                       "    return subprocess.call('ls ' + name, shell=True)\n")

    assert any(" B602 " in finding for finding in findings(bandit(str(tmp_path))))
