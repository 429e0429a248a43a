"""The pictures of docs/map.md, taken from the running service on the national instance.

``.venv/bin/python -m bench.map_screenshots`` serves a copy of ``instance/`` (gunicorn,
production settings), opens the map in Debian's Chromium and writes docs/images/map-*.png:
the national view (provinces rolled up, names, both archipelagos), a province with its
communes and the data table, the split view of two years, and a phone.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench import measure

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"
VIEWS = {
    "map-national.png": ("/map#5/15.8/108.2", (1440, 900), None),
    "map-province.png": ("/map#9/22.35/105.25&unit=province:08", (1440, 900), "table"),
    "map-compare.png": ("/map#8/22.3/105.2", (1440, 900), "compare"),
    "map-phone.png": ("/map#6/16.0/106.5", (390, 844), None),
}


def take(base: str) -> list[Path]:
    """Each view once it is complete (``window.geoMap.idle()``)."""
    from playwright.sync_api import sync_playwright

    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                    args=["--disable-background-networking"])
        for name, (path, (width, height), action) in VIEWS.items():
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(base + path, wait_until="load")
            page.wait_for_function("() => window.geoMap && window.geoMap.idle()",
                                   timeout=180000, polling=200)
            if action == "table":
                page.locator("#table-show").click()
            elif action == "compare":
                page.locator("#compare-on").check()
            page.wait_for_timeout(1500)
            page.wait_for_function("() => window.geoMap.idle()", timeout=180000, polling=200)
            page.wait_for_load_state("networkidle", timeout=180000)  # the second map's tiles
            page.screenshot(path=str(IMAGES / name))
            written.append(IMAGES / name)
            page.close()
        browser.close()
    return written


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        copy = measure.copy_instance(ROOT / "instance", Path(tmp) / "instance")
        with measure.server(copy, tile_cache="", port=5091) as base:
            for path in take(base):
                print(path)
