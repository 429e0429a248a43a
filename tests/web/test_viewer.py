"""The MapLibre viewer's layer switcher, legends, first view and place names, in Debian's
Chromium: a few sources at first (not every layer), a switcher that hides and shows a
layer, the legend of every layer shown, and the place-name PNG tiles drawn over it."""

from __future__ import annotations

import io
import urllib.request
from urllib.parse import urlsplit

import numpy as np
from PIL import Image

from geoservice.render.labels import LOOKS
from tests.web import test_maplibre
from tests.web.helpers import decode
from tests.web.test_maplibre import assert_clean

# The MapLibre tests' fixtures: the fixture store served on a loopback port, the page.
server, open_viewer = test_maplibre.server, test_maplibre.open_viewer
viewer_client = test_maplibre.viewer_client

VISIBLE_SOURCES = """() => {
    const style = window.map.getStyle();
    return [...new Set(style.layers.filter(l => l.source
        && (l.layout || {}).visibility !== 'none').map(l => l.source))];
}"""


def _layer_visibility(page, owner: str) -> set[str]:
    return set(page.evaluate("""(owner) => window.map.getStyle().layers
        .filter(l => l.metadata && l.metadata['geoservice:layer'] === owner)
        .map(l => (l.layout || {}).visibility || 'visible')""", owner))


def test_first_view_shows_the_basemap_one_layer_and_the_names(open_viewer, server):
    page, log = open_viewer()
    assert_clean(page, log, server)
    sources = page.evaluate(VISIBLE_SOURCES)
    assert len(sources) <= 4, sources
    assert "labels" in sources and "certification-rate-province" in sources
    tiles = [url for url, status in log.responses if status == 200
             and urlsplit(url).path.startswith("/tiles/")
             and urlsplit(url).path.endswith((".mvt", ".png"))]
    requested = {urlsplit(url).path.split("/")[2] for url in tiles}
    assert requested <= set(sources), requested
    print(f"first view: {len(tiles)} tile requests from {len(requested)} sources "
          f"({', '.join(sorted(requested))})")
    # the place names: PNG tiles of the view, one of them at least showing a name
    names = [url for url in tiles if urlsplit(url).path.startswith("/tiles/labels/")]
    assert names
    inked = 0
    for url in names:
        with urllib.request.urlopen(url) as response:
            pixels = np.asarray(Image.open(io.BytesIO(response.read())).convert("RGBA"))
        rgb = pixels[..., :3].astype(int)
        ink = np.abs(rgb - np.array(LOOKS["province"][2][:3])).sum(axis=2) < 40
        inked += int((ink & (pixels[..., 3] > 200)).sum())
    assert inked > 50


def test_switcher_hides_and_shows_a_layer_and_its_legend(open_viewer, server):
    page, _log = open_viewer()
    layer = "certification-rate-province"
    box = page.locator(f"#switcher input[value='{layer}']")
    assert box.is_checked()
    assert _layer_visibility(page, layer) == {"visible"}
    legend = page.locator(f"#legend .legend-layer[data-layer='{layer}']")
    assert legend.count() == 1
    title = legend.locator(".legend-title").inner_text()
    assert "đạt chuẩn" in title  # the layer's legend JSON, in Vietnamese
    assert legend.locator(".legend-entry").count() >= 5  # classes and 'no data'
    box.uncheck()
    assert _layer_visibility(page, layer) == {"none"}
    assert legend.count() == 0
    communes = page.locator("#switcher input[value='communes']")
    assert not communes.is_checked()
    communes.check()
    assert _layer_visibility(page, "communes") == {"visible"}
    assert page.locator("#legend .legend-layer[data-layer='communes']").count() == 1
    box.check()
    assert _layer_visibility(page, layer) == {"visible"}
    # the names are a layer of the switcher too
    assert page.locator("#switcher input[value='labels']").is_checked()


def test_viewer_style_hides_all_but_the_first_view(viewer_client):
    style = decode(viewer_client.get("/viewer/style.json?lang=en"))
    shown = {layer["source"] for layer in style["layers"]
             if layer.get("source") and layer["layout"]["visibility"] == "visible"}
    themes = {"sea", "countries", "certification-rate-province", "labels"}
    assert shown == themes
    assert style["sources"]["labels"]["type"] == "raster"
    assert style["sources"]["labels"]["tiles"][0].endswith(
        "/tiles/labels/{z}/{x}/{y}.png?lang=en")
    assert "glyphs" not in style
    chosen = decode(viewer_client.get("/viewer/style.json?layers=communes"))
    assert {layer["layout"].get("visibility", "visible") for layer in chosen["layers"]
            if layer.get("source")} == {"visible"}


def test_first_view_frames_the_mainland_and_both_archipelagos(viewer_client):
    import json
    import re

    page = viewer_client.get("/viewer").get_data(as_text=True)
    settings = json.loads(re.search(r"var settings = (\{.*?\});", page).group(1))
    west, south, east, north = settings["bounds"]
    for lon, lat in ((112.3, 16.8), (111.6, 16.5), (114.3, 11.4), (114.4, 10.2),
                     (112.9, 7.9)):  # islands of Hoàng Sa and Trường Sa
        assert west < lon < east and south < lat < north, (lon, lat)
    assert west < 103 and north > 23  # and the mainland: Điện Biên to Lũng Cú
    assert settings["text"]["layers"] == "Lớp bản đồ"
