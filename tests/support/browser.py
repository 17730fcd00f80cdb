"""The shared headless chromium (Playwright) for the browser tests: the `browser` fixture
(tests/conftest.py) launches it. Without `CHROMIUM` the browser tests (marked `browser`) are
left out of the run and the session says so in one line (tests/conftest.py): nothing in
`make test` installs system packages (CI's .ci/run installs chromium)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from django.conf import settings as django_settings

# Debian's, or the one CHROMIUM names.
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Why the browser tests cannot run here, or None.
MISSING = None if shutil.which(CHROMIUM) else (
    f"{CHROMIUM} is not installed (Debian: apt-get install chromium)")
SHOTS = Path(django_settings.VAR_DIR) / "screenshots"
# Resolves once the page has drawn two frames: after a change of its window's size, its resize
# handlers and observers have run.
_TWO_FRAMES = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def launched_chromium():
    """Yield a headless chromium (the `browser` fixture, tests/conftest.py), closed after."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; the test's ORM calls
    # are still plain synchronous code, so Django's async guard must let them through. Only
    # for these tests: the variable must not leak into other tests' subprocesses.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as pw:
            chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def resize(page, viewport: dict) -> None:
    """The page's window set to `viewport` and the page laid out again at it (a window resized
    to a width lays a page out as one opened at it)."""
    page.set_viewport_size(viewport)
    page.evaluate(_TWO_FRAMES)
    assert page.evaluate("innerWidth") == viewport["width"]
