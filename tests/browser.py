"""Debian's Chromium, headless, driven by Playwright: for tests that need a real browser.

The browser is the distribution's /usr/bin/chromium (Debian package `chromium`), never one
that Playwright downloads. Tests skip with the reason when it or Playwright is missing, and
fail instead when GEOSERVICE_REQUIRE_CHROMIUM=1 (as in CI).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
REQUIRED = os.environ.get("GEOSERVICE_REQUIRE_CHROMIUM") == "1"
# WebGL without a GPU: ANGLE on SwiftShader, Chromium's software renderer. Chromium is
# removing its automatic fall-back to SwiftShader for WebGL; --enable-unsafe-swiftshader keeps
# it (Playwright adds that flag today; it is named here so the tests do not depend on that).
# No first-run, update, proxy or background traffic: every request the page makes goes
# straight to the server under test.
CHROMIUM_ARGS = [
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--no-proxy-server",
]


def _missing(message: str) -> None:
    if REQUIRED:
        pytest.fail(f"{message}, but GEOSERVICE_REQUIRE_CHROMIUM=1")
    pytest.skip(message)


def require_chromium():
    """Return Playwright's sync API; skip (or fail where required) without it or Chromium."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        _missing(f"{CHROMIUM} is missing (Debian package chromium)")
    try:
        from playwright import sync_api
    except ImportError:
        _missing("Playwright is not installed (pip install -e '.[test]')")
    return sync_api


def launch_chromium(playwright):
    """Launch Debian's headless Chromium with WebGL (software) and no background traffic."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                      args=CHROMIUM_ARGS, timeout=60_000)
