"""Browser tests: the real studio (``streamlit run studio/app.py``) on a free loopback port, driven by Playwright.

Playwright's Python package only drives Debian's ``chromium`` (``.ci/run``
installs it with apt; ``playwright install`` is never used). Without that
binary the test modules skip themselves, saying why. The studio gets its own
``PIPECANVAS_HOME``; whatever its runs leave behind (a run still going, an
endpoint) is stopped when the session ends. Each test gets a fresh browser
context, so a fresh Streamlit session with a blank canvas.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
VIEWPORT = {"width": 1800, "height": 1400}
_START_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the studio exited with {server.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"the studio did not answer on {url} in {_START_TIMEOUT:.0f}s:\n{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture(scope="session")
def studio_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("studio") / "home"


@pytest.fixture(scope="session")
def studio_url(studio_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The studio's address; started once for the session, stopped with everything it started."""
    port = _free_port()
    log = tmp_path_factory.mktemp("studio-log") / "streamlit.log"
    argv = [
        sys.executable, "-m", "streamlit", "run", "studio/app.py", "--server.address", "127.0.0.1",
        "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
    ]
    env = {**os.environ, "PIPECANVAS_HOME": str(studio_home), "PYTHONUNBUFFERED": "1"}
    with open(log, "wb") as out:
        server = subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, server, log)
        yield url
    finally:
        _stop_what_the_studio_started(studio_home)
        _stop(server)


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=5)


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
