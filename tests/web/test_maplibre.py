"""A real client: MapLibre GL JS in Debian's headless Chromium draws our styles and tiles.

The app runs on a loopback port (the fixture's provinces 08 and 11 loaded); /viewer loads
MapLibre from our own server and draws /styles/geoservice.json, or a style of chosen layers.
The browser must have asked nothing of any other host, met no error, drawn the communes with
their Vietnamese names, and painted more than a blank canvas.
"""

from __future__ import annotations

import io
import unicodedata
from urllib.parse import urlsplit

import pytest
from PIL import Image, ImageColor

from tests.conftest import NODE_MODULES
from tests.web.helpers import assert_error, decode, serving

# Both provinces of the fixture (08 and 11), about 104 E 22.2 N; MapLibre's hash: zoom/lat/lon.
FIXTURE_VIEW = "#7.3/22.2/104.0"
READY_TIMEOUT_MS = 90_000


@pytest.fixture
def viewer_client(make_app):
    return make_app(None, NODE_MODULES=str(NODE_MODULES)).test_client()


@pytest.fixture(scope="module")
def server(loaded_db, tmp_path_factory):
    with serving(loaded_db, tmp_path_factory.mktemp("maplibre-instance"),
                 NODE_MODULES=str(NODE_MODULES)) as running:
        yield running


class PageLog:
    """Everything a page did on the network and in its console."""

    def __init__(self, context):
        self.requests, self.responses, self.failed, self.errors = [], [], [], []
        context.on("request", lambda r: self.requests.append(r.url))
        context.on("response", lambda r: self.responses.append((r.url, r.status)))
        context.on("requestfailed", lambda r: self.failed.append((r.url, r.failure)))

    def watch(self, page):
        def console(message):
            if message.type == "error":
                self.errors.append(message.text)

        page.on("console", console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def foreign(self, origin: str) -> list[str]:
        """Requests to anywhere but `origin` (a blob: URL carries its page's origin)."""
        def host(url: str) -> str:
            parts = urlsplit(url[len("blob:"):] if url.startswith("blob:") else url)
            return f"{parts.scheme}://{parts.netloc}"

        return [url for url in self.requests if not url.startswith("data:")
                and host(url) != origin]


@pytest.fixture
def open_viewer(browser, server):
    """Open /viewer{query} on the fixture area; return (page, log) once the map is idle."""
    contexts = []

    def opener(query: str = ""):
        context = browser.new_context(viewport={"width": 800, "height": 600},
                                      service_workers="block")
        contexts.append(context)
        log = PageLog(context)
        page = context.new_page()
        log.watch(page)
        server.clear()
        page.goto(f"{server.url}/viewer{query}{FIXTURE_VIEW}")
        # Stop at the first error: a map whose tiles fail may never become idle.
        page.wait_for_function("() => window.mapReady === true || window.mapErrors.length > 0",
                               timeout=READY_TIMEOUT_MS)
        errors = page.evaluate("() => window.mapErrors")
        assert not errors, f"the map met errors: {errors[:5]}"
        return page, log

    yield opener
    for context in contexts:
        context.close()


def rendered_features(page) -> list[dict]:
    return page.evaluate("""() => window.map.queryRenderedFeatures().map(f => ({
        layer: f.layer.id, sourceLayer: f.sourceLayer,
        name: f.properties.name, code: f.properties.code}))""")


def assert_clean(page, log, server):
    assert page.evaluate("() => window.mapErrors") == []
    assert log.errors == [], log.errors
    assert log.failed == [], log.failed
    assert [r for r in log.responses if r[1] >= 400] == []
    assert server.failures() == []
    assert log.foreign(server.url) == []
    tiles = [r for r in log.responses if urlsplit(r[0]).path.endswith(".mvt")]
    assert tiles and all(status == 200 for _url, status in tiles), tiles
    served = [r for r in server.requests if r[1].endswith(".mvt") and r[3] == 200]
    assert served, "the server answered no vector tile"


def assert_vietnamese_names(features: list[dict], source_layer: str) -> set[str]:
    names = {f["name"] for f in features if f["sourceLayer"] == source_layer}
    assert names, f"no {source_layer} drawn: {sorted({f['layer'] for f in features})}"
    assert all(name == unicodedata.normalize("NFC", name) for name in names)
    assert any(not name.isascii() for name in names), names
    return names


def map_colours(page) -> tuple[dict, int]:
    """The map's screenshot without its controls: {colour: pixel count}, pixel count."""
    page.evaluate("() => { for (const c of document.querySelectorAll("
                  "'.maplibregl-control-container')) c.style.display = 'none'; }")
    image = Image.open(io.BytesIO(page.locator("#map").screenshot())).convert("RGB")
    colours = {colour: count for count, colour in image.getcolors(maxcolors=1 << 20)}
    return colours, image.width * image.height


def assert_not_blank(page) -> dict:
    """The map has many colours and none of them fills it; return {colour: share}."""
    colours, pixels = map_colours(page)
    assert len(colours) >= 8, f"only {len(colours)} colours: is the map drawn?"
    share = {colour: count / pixels for colour, count in colours.items()}
    assert max(share.values()) < 0.9, "one colour fills the map"
    return share


def paint(page, layer_id: str, name: str):
    """A paint property of a layer, as the style gave it."""
    return page.evaluate("([id, name]) => window.map.getStyle().layers"
                         ".find(layer => layer.id === id).paint[name]", [layer_id, name])


def test_maplibre_draws_the_default_view(open_viewer, server):
    page, log = open_viewer()
    assert_clean(page, log, server)
    assert any(r[1] == "/viewer/style.json" for r in server.requests)
    assert any(urlsplit(url).path == "/vendor/maplibre-gl/maplibre-gl.js"
               for url, status in log.responses if status == 200)
    features = rendered_features(page)
    assert_vietnamese_names(features, "certification-rate-province")
    assert "communes" not in {f["sourceLayer"] for f in features}  # a click away
    page.locator("#switcher input[value=communes]").check()
    page.wait_for_function("() => window.map.queryRenderedFeatures()"
                           ".some(f => f.sourceLayer === 'communes')", timeout=READY_TIMEOUT_MS)
    communes = assert_vietnamese_names(rendered_features(page), "communes")
    assert "Lũng Cú" in communes
    assert_not_blank(page)


def test_maplibre_draws_chosen_layers_in_english(open_viewer, server):
    page, log = open_viewer("?layers=provinces,communes&lang=en")
    assert_clean(page, log, server)
    styles = [r for r in server.requests if r[1] == "/viewer/style.json"]
    assert [r[2] for r in styles] == [{"layers": ["provinces,communes"], "lang": ["en"]}]
    features = rendered_features(page)
    assert {f["sourceLayer"] for f in features} == {"provinces", "communes"}
    assert_vietnamese_names(features, "communes")
    assert page.evaluate("() => document.documentElement.lang") == "en"
    share = assert_not_blank(page)
    fill = paint(page, "provinces-fill", "fill-color")
    assert 0.05 < share.get(ImageColor.getrgb(fill), 0) < 0.9, f"provinces' fill {fill}"


# --- the page and its files, without a browser -------------------------------------------

def test_viewer_page_loads_maplibre_from_our_server(viewer_client):
    response = viewer_client.get("/viewer?lang=en")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert '<script src="/vendor/maplibre-gl/maplibre-gl.js">' in page
    assert '"/viewer/style.json?lang=en"' in page
    assert "http://" not in page and "https://" not in page
    script = viewer_client.get("/vendor/maplibre-gl/maplibre-gl.js")
    assert script.status_code == 200 and b"maplibregl" in script.data[:5000]
    assert viewer_client.get("/vendor/maplibre-gl/maplibre-gl.css").mimetype == "text/css"


@pytest.mark.parametrize("path", ["../package.json", "..%2fpackage.json",
                                  "%2e%2e/%2e%2e/world-atlas/package.json", "nothing.js"])
def test_vendor_route_serves_only_maplibre_dist(viewer_client, path):
    response = viewer_client.get(f"/vendor/maplibre-gl/{path}")
    assert response.status_code == 404
    assert_error(decode(response, 404), 404)


def test_viewer_style_of_chosen_layers(viewer_client):
    style = decode(viewer_client.get("/viewer/style.json?layers=communes,provinces&lang=en"))
    assert list(style["sources"]) == ["communes", "provinces", "labels"]
    assert style["metadata"]["geoservice:lang"] == "en"
    everything = decode(viewer_client.get("/viewer/style.json"))
    combined = decode(viewer_client.get("/styles/geoservice.json"))
    # the same layers, the place names drawn from their PNG tiles on top
    assert list(everything["sources"]) == [s for s in combined["sources"] if s != "labels"] \
        + ["labels"]
    assert [layer["id"] for layer in everything["layers"]] == [
        layer["id"] for layer in combined["layers"]
        if layer.get("metadata", {}).get("geoservice:layer") != "labels"] + ["labels"]
    assert everything["sources"]["labels"]["type"] == "raster"


@pytest.mark.parametrize("query, status, parameter", [
    ("?layers=nowhere", 404, "layer"), ("?layers=communes,,provinces", 400, "layers"),
    ("?layers=communes,communes", 400, "layers"), ("?lang=fr", 400, "lang"),
    ("?zoom=3", 400, "zoom"), ("?layers=incidents", 401, None)])
def test_viewer_errors(viewer_client, query, status, parameter):
    page = viewer_client.get(f"/viewer{query}")
    assert page.status_code == status and page.mimetype == "text/html"
    assert "maplibre-gl.js" not in page.get_data(as_text=True)
    body = decode(viewer_client.get(f"/viewer/style.json{query}"), status)
    assert_error(body, status, parameter=parameter)


def test_viewer_says_when_maplibre_is_not_installed(make_app, tmp_path):
    client = make_app(None, NODE_MODULES=str(tmp_path)).test_client()
    page = client.get("/viewer")
    assert page.status_code == 500
    assert "npm ci" in page.get_data(as_text=True)
