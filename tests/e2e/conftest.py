"""Browser tests: the real studio (``streamlit run studio/app.py``) on a free loopback port, driven by Playwright.

Playwright's Python package only drives Debian's ``chromium`` (``.ci/run``
installs it with apt; ``playwright install`` is never used). Without that
binary, or without Playwright (a dev extra), every test here is skipped, saying why
(``pytest_collection_modifyitems`` below marks them all, so no module repeats it). The studio gets its own
``PIPECANVAS_HOME`` per test module; whatever its runs leave behind (a run still going, an
endpoint) is stopped when the session ends. Each test gets a fresh browser
context, so a fresh Streamlit session with a blank canvas.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from studio.serve import StudioDidNotStart, serve_studio

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
VIEWPORT = {"width": 1800, "height": 1400}


_HERE = Path(__file__).resolve().parent
_WHY_SKIPPED = (
    "the browser tests drive Debian's chromium (/usr/bin/chromium): `apt-get install chromium` (.ci/run does)"
    if not CHROMIUM.exists() else
    "Playwright's Python package is a dev extra: pip install -e '.[dev]'"
    if importlib.util.find_spec("playwright") is None else None
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every browser test is slow, and skipped (saying why) where chromium or Playwright is missing."""
    for item in items:
        if item.path.is_relative_to(_HERE):
            item.add_marker(pytest.mark.slow)
            if _WHY_SKIPPED:
                item.add_marker(pytest.mark.skip(reason=_WHY_SKIPPED))


@pytest.fixture(scope="module")
def studio_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("studio") / "home"


@pytest.fixture(scope="module")
def studio_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the module's studio writes its server log (a test can check it holds no traceback)."""
    return tmp_path_factory.mktemp("studio-log") / "streamlit.log"


@pytest.fixture(scope="module")
def studio_url(studio_home: Path, studio_log: Path) -> Iterator[str]:
    """The studio's address; started once per test module (its runs and cache stay the module's own), stopped
    with everything it started."""
    try:
        with serve_studio(studio_home, studio_log) as url:
            try:
                yield url
            finally:
                _stop_what_the_studio_started(studio_home)
    except StudioDidNotStart as exc:
        pytest.fail(str(exc))


def _stop_what_the_studio_started(home: Path) -> None:
    """Cancel runs still going and undeploy endpoints still serving from the studio's home."""
    if not (home / "store.db").exists():
        return
    from runtime.endpoint_registry import refresh_endpoints, undeploy
    from runtime.run_store import open_store
    from runtime.runs import RunError, cancel_run, wait_for_run

    store = open_store(home)
    try:
        for endpoint in refresh_endpoints(store):
            undeploy(store, endpoint.name)
        for run in store.list_runs(limit=100):
            if not run.finished:
                try:
                    cancel_run(run.id, store=store)
                except RunError:
                    continue
                wait_for_run(store, run.id, timeout=20)
    finally:
        store.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:
    """Keep each phase's report on the test, so ``page`` can tell at teardown whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def page(browser, studio_url: str, request: pytest.FixtureRequest) -> Iterator[object]:
    """A new browser session on the studio's Build page, its canvas drawn.

    When the test fails, the page as it was and the browser console land in tests/e2e/artifacts/.
    """
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(30_000)
    tab = context.new_page()
    console: list[str] = []
    tab.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    tab.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    tab.goto(studio_url)
    tab.get_by_test_id("palette-data.sample").wait_for()
    yield tab
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = _artifact_name(request)
        tab.screenshot(path=str(ARTIFACTS / f"{name}-failed.png"), full_page=True)
        (ARTIFACTS / f"{name}-console.log").write_text("\n".join(console), encoding="utf-8")
    context.close()


def _artifact_name(request: pytest.FixtureRequest) -> str:
    return re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-").removeprefix("test-")


@pytest.fixture
def shot(page, request: pytest.FixtureRequest) -> Callable[[str], Path]:
    """``shot("stage")`` saves a full-page screenshot as tests/e2e/artifacts/<test>-<n>-<stage>.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    test = _artifact_name(request)
    count = iter(range(1, 100))

    def take(stage: str) -> Path:
        path = ARTIFACTS / f"{test}-{next(count):02d}-{stage}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
