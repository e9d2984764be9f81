"""The studio page as the browser tests drive it: the canvas (mouse, keys and its read-only test hooks) and
the Streamlit widgets around it.
"""

from __future__ import annotations

import re
import time
from typing import Any


class Canvas:
    """The pipeline canvas on a studio page, as the mouse and the canvas's read-only test hooks see it."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.pane = page.locator(".react-flow__pane").first

    # -- reading ---------------------------------------------------------------------------------------

    def nodes(self) -> list[dict[str, Any]]:
        return self.page.evaluate("window.__pipecanvas.getNodes()")

    def positions(self) -> dict[str, tuple[float, float]]:
        return {n["id"]: (n["position"]["x"], n["position"]["y"]) for n in self.nodes()}

    def edges(self) -> set[tuple[str, str]]:
        return {(e["from"], e["to"]) for e in self.page.evaluate("window.__pipecanvas.getEdges()")}

    def viewport(self) -> dict[str, float]:
        return self.page.evaluate("window.__pipecanvas.getViewport()")

    def highlighted(self) -> set[str]:
        """The cards drawn as selected (what the analyst sees), by node id."""
        cards = self.page.locator(".pc-node--selected")  # Playwright's locators reach into the shadow root
        return {cards.nth(i).get_attribute("data-testid").removeprefix("node-") for i in range(cards.count())}

    def card(self, node_id: str) -> Any:
        return self.page.get_by_test_id(f"node-{node_id}")

    def status(self, node_id: str) -> str | None:
        badge = self.page.get_by_test_id(f"status-{node_id}")
        return badge.get_attribute("data-state") if badge.count() else None

    def status_once(self, node_id: str, state: str, timeout: float = 10.0) -> str | None:
        """The node's badge once it shows ``state``, or what it still shows after ``timeout`` seconds.

        The run line above the canvas and the badges are drawn by one rerun, but the line reaches the page
        first: a badge read the moment the line changes can still show the state before.
        """
        deadline = time.monotonic() + timeout
        while (shown := self.status(node_id)) != state and time.monotonic() < deadline:
            self.page.wait_for_timeout(50)
        return shown

    def settled(self, timeout: float = 10.0) -> dict[str, float]:
        """The viewport once the app has finished its rerun and nothing moves any more; returns the viewport.

        A rerun can shift the page (a warning appears above the canvas) and a fit-view animates, so
        pointer positions are only measured after this.
        """
        self.page.wait_for_timeout(150)  # let a rerun the last action asked for begin
        self.page.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for()
        deadline = time.monotonic() + timeout
        before = (self.viewport(), self.pane.bounding_box())
        while time.monotonic() < deadline:
            self.page.wait_for_timeout(250)
            now = (self.viewport(), self.pane.bounding_box())
            if now == before:
                return now[0]
            before = now
        return before[0]

    # -- doing -----------------------------------------------------------------------------------------

    def point(self, spot: tuple[float, float]) -> tuple[float, float]:
        box = self.pane.bounding_box()
        return box["x"] + spot[0], box["y"] + spot[1]

    def drop(self, node_type: str, spot: tuple[float, float]) -> str:
        """Drag ``node_type`` from the palette and drop it at ``spot``; returns the new node's id."""
        before = {n["id"] for n in self.nodes()}
        self.page.get_by_test_id(f"palette-{node_type}").drag_to(self.pane, target_position=dict(zip("xy", spot)))
        self.page.wait_for_function(f"window.__pipecanvas.getNodes().length === {len(before) + 1}")
        (added,) = {n["id"] for n in self.nodes()} - before
        self.card(added).wait_for()
        self.settled()
        return added

    def under(self, node_id: str, spot: tuple[float, float]) -> bool:
        """Whether the card's header is under ``spot`` (where its palette item was let go)."""
        x, y = self.point(spot)
        box = self.card(node_id).bounding_box()
        return box["x"] <= x <= box["x"] + box["width"] and box["y"] <= y <= box["y"] + 60

    def move(self, node_id: str, spot: tuple[float, float]) -> None:
        """Drag a card by its header so that it lies as if it had been dropped at ``spot``."""
        box = self.card(node_id).bounding_box()
        zoom = self.viewport()["zoom"]
        # A drop puts the card's top-left corner 110 x 24 canvas units up and left of the pointer.
        self._drag((box["x"] + 110 * zoom, box["y"] + 24 * zoom), self.point(spot))

    def connect(self, source: str, target: str) -> None:
        """Drag from the output handle ``node.port`` to the input handle ``node.port``."""
        self._drag(self.handle(source, "out"), self.handle(target, "in"))

    def handle(self, ref: str, direction: str) -> tuple[float, float]:
        """The centre of a node's ``in`` or ``out`` handle for port ``ref`` (``node.port``)."""
        node, port = ref.rsplit(".", 1)
        box = self.page.get_by_test_id(f"handle-{node}-{direction}-{port}").bounding_box()
        return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    def _drag(self, start: tuple[float, float], end: tuple[float, float]) -> None:
        self.page.mouse.move(*start)
        self.page.mouse.down()
        self.page.mouse.move(*end, steps=15)
        self.page.mouse.up()

    def wait_for_edge(self, source: str, target: str) -> None:
        self.page.wait_for_function(
            "([s, t]) => window.__pipecanvas.getEdges().some(e => e.from === s && e.to === t)", arg=[source, target])
        self.settled()


def wait_until(check: Any, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out after {timeout:.0f}s waiting for {what}"
        time.sleep(0.2)


def run_line(page: Any, state: str) -> Any:
    """The line beside the Run button that says the run's state."""
    return page.get_by_test_id("stAlert").filter(has_text=re.compile(rf"Run \S+: {state}"))


def open_example(page: Any, name: str) -> None:
    """Replace the canvas with a gallery example, as the sidebar's "Create" button does."""
    page.get_by_label("New from the gallery").click()
    page.get_by_role("option", name=name).click()
    page.get_by_role("button", name="Create", exact=True).click()


def form_node(page: Any) -> str | None:
    """The id of the node whose properties form is shown (its heading reads "**Title** · `id`"), or None."""
    shown = page.get_by_test_id("stTabs").get_by_test_id("stMarkdown").locator("code").all_inner_texts()
    return shown[0] if shown else None  # read at once: the form may go away while it is being read
