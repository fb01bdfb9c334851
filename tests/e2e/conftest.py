"""End-to-end fixtures: the app served over HTTP on loopback, driven by a real headless Chromium.

Every test under tests/e2e is marked `e2e`. Chromium must be installed at CHROMIUM (Debian's package);
if it is missing or cannot start, the tests FAIL with a message saying so: they are never skipped.
"""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path
from urllib.parse import urlencode

import pytest
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[2]
E2E_DIR = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if E2E_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


# The application over HTTP ---------------------------------------------------------------------------

@pytest.fixture()
def live_server(app):
    """Serve the `app` fixture's application on 127.0.0.1 (a free port) in a thread; yields the base URL.

    Each request runs in the server thread with its own app context, so it gets its own database session
    (Flask-SQLAlchemy scopes sessions per app context); the test's own session stays in the test thread.
    """
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# The browser -----------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: the end-to-end tests need it "
            "(apt-get install chromium, or set E2E_CHROMIUM to its path). Do not run `playwright install`.",
            pytrace=False,
        )
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except PlaywrightError as error:
        playwright.stop()
        pytest.fail(f"Chromium at {CHROMIUM} did not start: {error}", pytrace=False)
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture()
def page(browser, live_server):
    """A page in a fresh browser context (no cookies, no cache) whose relative URLs go to the live server.

    axe-core is loaded into every document of the context up front (it only defines `window.axe`), which
    is quicker than sending the 550 kB script for each check; axe_check adds it itself if it is missing.
    """
    context = browser.new_context(base_url=live_server)
    context.add_init_script(path=str(AXE_SCRIPT))
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def block_scripts(page) -> None:
    """Act as a browser where the service's JavaScript did not load (it has no inline scripts).

    Chromium's own "JavaScript disabled" switch would also stop axe from running, so the service's
    scripts are refused at the network instead; axe comes from Playwright, not the network, and still runs.
    """
    page.route("**/*.js", lambda route: route.abort())
    page.route("**/*.mjs", lambda route: route.abort())


# Accessibility ---------------------------------------------------------------------------------------

# Beyond the WCAG tags: landmark structure (axe "best-practice") and duplicate ids, which axe 4.11 tags
# as obsolete for WCAG 2.2 (4.1.1 Parsing was removed) but which still break labels and aria references.
EXTRA_RULES = [
    "region", "landmark-one-main", "landmark-unique", "landmark-no-duplicate-banner",
    "landmark-no-duplicate-contentinfo", "landmark-no-duplicate-main", "landmark-banner-is-top-level",
    "landmark-contentinfo-is-top-level", "landmark-main-is-top-level", "page-has-heading-one",
    "duplicate-id", "duplicate-id-active",
]
# Results axe can only flag for review ("incomplete") that are failures here: an id that a label or an
# aria attribute points at must be unique.
INCOMPLETE_IS_FAILURE = {"duplicate-id-aria"}
AXE_RUN = """async ([tags, extra]) => await axe.run(document, {
    runOnly: {type: 'tag', values: tags},
    rules: Object.fromEntries(extra.map((id) => [id, {enabled: true}])),
    resultTypes: ['violations', 'incomplete'],
})"""


def _describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"[{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})")
        for node in violation["nodes"]:
            lines.append(f"    at {json.dumps(node['target'])}")
            lines.append(f"       {node['html'][:300]}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"       {summary[:400]}")
    return "\n".join(lines)


def axe_check(page) -> None:
    """Run axe-core (WCAG 2.0-2.2 A and AA rules, plus landmarks and duplicate ids) on the page;
    fail with a readable list of the violations: rule id, help, and each failing node's target and HTML."""
    assert AXE_SCRIPT.is_file(), f"axe-core is not installed at {AXE_SCRIPT}: run `npm ci`"
    page.wait_for_load_state()
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    results = page.evaluate(AXE_RUN, [AXE_TAGS, EXTRA_RULES])
    violations = results["violations"] + [r for r in results["incomplete"] if r["id"] in INCOMPLETE_IS_FAILURE]
    for review in results["incomplete"]:
        if review["id"] not in INCOMPLETE_IS_FAILURE:
            print(f"axe could not decide {review['id']} on {page.url} for {[n['target'] for n in review['nodes']]}")
    if violations:
        report = _describe(violations)
        print(f"axe violations on {page.url}:\n{report}")
        pytest.fail(f"{len(violations)} accessibility violation(s) on {page.url}:\n{report}", pytrace=False)


@pytest.fixture(name="block_scripts")
def block_scripts_fixture():
    return block_scripts


@pytest.fixture(name="axe_check")
def axe_check_fixture():
    """The axe_check(page) helper, as a fixture so tests need not import from a conftest."""
    return axe_check


@pytest.fixture()
def sign_in():
    """Sign in through the real form: sign_in(page, email[, password][, next=path]) -> the page after sign-in
    (the home page, or `next`, which the sign-in form goes on to as it does after a "Sign in to see this page")."""
    from playwright.sync_api import expect

    from tests.factories import PASSWORD

    def _sign_in(page, email: str, password: str = PASSWORD, next: str | None = None):
        page.goto("/sign-in" + (f"?{urlencode({'next': next})}" if next else ""))
        page.get_by_label("Email address").fill(email)
        page.get_by_label("Password", exact=True).fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        if next:
            expect(page).to_have_url(re.compile(re.escape(next.split("?")[0]) + r"(\?.*)?$"))
        return page

    return _sign_in
