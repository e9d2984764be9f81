"""Prove that the install a new user gets (``pip install .``, no extras) runs the product.

``make test`` installs the dev extras, which can hide a module the product
imports but the base dependencies do not bring (this is how a fresh clone's
``make studio`` once showed only ``No module named 'httpx'``). From a separate
venv holding the base install alone, this script:

1. imports every module of nodes/, compiler/, runtime/ and studio/;
2. runs ``pipecanvas --help``, ``validate`` and ``run`` of the iris example (then undeploys its endpoint);
3. starts the studio and loads Build, Runs and Endpoints in chromium, failing
   on any Streamlit exception element or a traceback in the server's log.

Usage (from the repo root, with the dev venv, which has Playwright):
``.venv/bin/python .ci/base_install_check.py``. Exits non-zero on the first
failure, saying what failed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from studio.serve import serve_studio  # noqa: E402 (after the path set-up above)

PACKAGES = ("nodes", "compiler", "runtime", "studio")
OPTIONAL = {"torch"}  # the `gpu` extra: modules may import it only inside functions
PAGES = {"build": "Runs use the local executor", "runs": "Runs", "endpoints": "Endpoints"}  # page → text it shows
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

_IMPORT_ALL = """
import importlib, pkgutil, sys
failed = []
for package in sys.argv[1:]:
    root = importlib.import_module(package)
    for info in pkgutil.walk_packages(root.__path__, prefix=package + "."):
        try:
            importlib.import_module(info.name)
        except Exception as exc:
            failed.append(f"{info.name}: {type(exc).__name__}: {exc}")
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def _step(title: str) -> None:
    print(f"base install: {title}", flush=True)


def _run(argv: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        sys.exit(f"base install: `{' '.join(argv)}` exited {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result.stdout


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="pipecanvas-base-") as folder:
        work = Path(folder)
        venv = work / "venv"
        python = str(venv / "bin" / "python")
        _step("pip install . into a new venv (no extras)")
        _run([sys.executable, "-m", "venv", str(venv)], cwd=work)
        _run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", str(REPO)], cwd=work)

        _step("import every module from the installed package")
        _run([python, "-c", _IMPORT_ALL, *PACKAGES], cwd=work)  # a neutral folder: the installed copy is imported

        _step("pipecanvas --help, validate and run the iris example")
        env = {**os.environ, "PIPECANVAS_HOME": str(work / "home")}
        pipecanvas = str(venv / "bin" / "pipecanvas")
        example = str(REPO / "examples" / "iris-classifier.yaml")
        _run([pipecanvas, "--help"], cwd=work, env=env)
        _run([pipecanvas, "validate", example], cwd=work, env=env)
        _run([pipecanvas, "run", example], cwd=work, env=env)
        try:
            _step("the studio's pages in chromium (with the run and its endpoint in the store)")
            _check_pages(python, work)
        finally:
            subprocess.run([pipecanvas, "undeploy", "iris"], cwd=work, env=env, capture_output=True)
    print("base install: OK", flush=True)


def _check_pages(python: str, work: Path) -> None:
    from playwright.sync_api import sync_playwright

    log = work / "streamlit.log"
    problems: list[str] = []
    with serve_studio(work / "home", log, python=python) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        for page_name, marker in PAGES.items():
            tab = browser.new_page(viewport={"width": 1600, "height": 1000})
            tab.set_default_timeout(60_000)
            tab.goto(f"{url}/{page_name}")
            if page_name == "build":
                tab.get_by_text(marker, exact=False).first.wait_for()
            else:  # the page's own title (the navigation names every page)
                tab.get_by_role("heading", name=marker, exact=True).first.wait_for()
            tab.wait_for_load_state("networkidle")
            errors = tab.locator('[data-testid="stException"]')
            if errors.count():
                problems.append(f"page '{page_name}' shows an exception: {errors.first.inner_text()[:2000]}")
            tab.close()
        browser.close()
    server_log = log.read_text(errors="replace")
    if "Traceback" in server_log:
        problems.append(f"the studio's log has a traceback:\n{server_log[-4000:]}")
    if problems:
        sys.exit("base install: " + "\n".join(problems))


if __name__ == "__main__":
    main()
