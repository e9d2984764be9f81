"""A page on another site cannot drive the studio through DNS rebinding.

Chromium is told that ``rebind.test`` resolves to 127.0.0.1 — what a rebinding
attacker's DNS does — and opens the studio under that name. The studio must not
run a page for it (no palette, no pipeline), while 127.0.0.1 works as before.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.serve import _free_port, _stop, _wait_healthy

from .conftest import CHROMIUM, CHROMIUM_ARGS, REPO_ROOT, VIEWPORT


REBIND_NAME = "rebind.test"


@pytest.fixture(scope="module")
def rebinding_browser(browser) -> Iterator[object]:
    """A second chromium from the session's Playwright (one sync Playwright per process), resolving the name."""
    args = [*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {REBIND_NAME} 127.0.0.1"]
    chromium = browser.browser_type.launch(executable_path=str(CHROMIUM), headless=True, args=args)
    yield chromium
    chromium.close()


def _open(browser, url: str):
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(30_000)
    tab = context.new_page()
    tab.goto(url)
    return context, tab


def test_the_studio_answers_its_own_address_only(rebinding_browser, studio_url: str) -> None:
    port = studio_url.rsplit(":", 1)[1]
    context, tab = _open(rebinding_browser, studio_url)
    tab.get_by_test_id("palette-data.sample").wait_for()  # the real address still works
    context.close()

    context = rebinding_browser.new_context(viewport=VIEWPORT)
    tab = context.new_page()
    refused, frames = [], []

    def watch(socket) -> None:
        socket.on("framereceived", lambda frame: frames.append(frame))
        socket.on("socketerror", lambda error: refused.append(error))
        socket.on("close", lambda _socket: refused.append("closed"))

    tab.on("websocket", watch)
    tab.goto(f"http://{REBIND_NAME}:{port}/")
    # Streamlit refuses the WebSocket, so no page script ever runs for this name.
    tab.wait_for_function("() => true")  # the static page itself loads
    deadline_ms = 45_000
    while not refused and deadline_ms > 0:
        tab.wait_for_timeout(250)
        deadline_ms -= 250
    assert refused, "the studio accepted a WebSocket for a foreign Host"
    assert not frames, "the studio sent page data to a foreign Host"
    assert tab.get_by_test_id("palette-data.sample").count() == 0
    context.close()


def test_a_studio_started_without_the_launcher_still_refuses_the_page(rebinding_browser, tmp_path: Path) -> None:
    """A plain ``streamlit run studio/app.py`` sets no allowed hosts; the page guard holds it to loopback names."""
    port = _free_port()
    argv = [sys.executable, "-m", "streamlit", "run", "studio/app.py", "--server.address", "127.0.0.1",
            "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    log = tmp_path / "streamlit.log"
    env = {**os.environ, "PIPECANVAS_HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1"}
    with open(log, "wb") as out:
        server = subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", server, log, 60)
        context, tab = _open(rebinding_browser, f"http://{REBIND_NAME}:{port}/")
        tab.get_by_text("This studio does not answer to the address").wait_for(timeout=45_000)
        assert tab.get_by_test_id("palette-data.sample").count() == 0
        context.close()
    finally:
        _stop(server)
