"""The map page's clusters, "computing" notice, data table with its CSV, map download, print,
labels overlay and year comparison, in Debian's headless Chromium against the service's real
routes (a test skips, naming the route, only where the service lacks it).
"""

from __future__ import annotations

import csv
import io
from urllib.parse import urlencode, urlsplit
from urllib.request import Request, urlopen

import pypdf
import pytest
from PIL import Image

from geoservice import create_app
from geoservice.layers.catalog import load_catalog
from geoservice.store import FeatureQuery
from geoservice.store.records import RecordQuery
from tests.web import test_map_page as map_page
from tests.web import test_tiles
from tests.web.test_map_page import READY_MS, assert_clean, paths_of, wait_idle
from tests.web.test_map_ui import fetch_json, national_headers, query_of

# The map page tests' fixtures: this module's own server and store (module scope), and pages.
demo_db, server, store, open_map = (test_tiles.demo_db, map_page.server, map_page.store,
                                    map_page.open_map)
CATALOG = load_catalog()


@pytest.fixture(scope="module")
def routes(tmp_path_factory) -> set[str]:
    app = create_app({"INSTANCE_PATH": str(tmp_path_factory.mktemp("routes"))})
    return {rule.rule for rule in app.url_map.iter_rules()}


def require_route(routes, rule: str):
    if rule not in routes:
        pytest.skip(f"the service has no route {rule} yet")


def fetch(server, path: str, headers=None) -> tuple[bytes, str]:
    with urlopen(Request(server.url + path, headers=headers or {}), timeout=120) as answer:
        return answer.read(), answer.headers.get_content_type()


def show_province(page, name: str):
    page.fill("#search-input", name)
    page.wait_for_selector("#search-results li")
    page.press("#search-input", "Enter")
    page.wait_for_function("() => document.querySelectorAll('#breadcrumb li').length === 2",
                           timeout=READY_MS)
    wait_idle(page)


# --- clusters: totals equal the features API's numberMatched --------------------------------

def test_incident_clusters_add_up_to_the_matching_incidents(open_map, server, store, routes):
    require_route(routes, "/collections/<collection_id>/clusters")
    headers = national_headers(store)
    page, log = open_map(headers=headers)
    page.check("#layer-incidents")
    page.fill("#period-from", "1900-01-01")
    page.dispatch_event("#period-from", "change")
    _code, _props, geometry = store.get("provinces", "08")
    centre = geometry.representative_point()
    page.evaluate("([lat, lon]) => window.geoMap.map.setView([lat, lon], 8, {animate: false})",
                  [centre.y, centre.x])
    wait_idle(page, "window.geoMap.pointTotal('incidents') > 0")
    asked = [u for u in paths_of(log, "/collections/incidents/clusters") if "zoom=8" in u][-1]
    values = {k: v for k, v in query_of(asked).items() if k != "zoom"}
    items = fetch_json(server, "/collections/incidents/items?" + urlencode({**values,
                                                                            "limit": 1}),
                       headers)
    total = page.evaluate("() => window.geoMap.pointTotal('incidents')")
    assert total == items["numberMatched"] > 0
    circles = page.locator(".cluster").count()
    assert circles > 0 and total > circles  # numbered circles, not one marker per incident
    note = page.inner_text("#legend [data-layer=incidents]")
    assert f"{total:,}".replace(",", ".") + " vụ" in note
    everything = store.query_records("incidents", RecordQuery(limit=1)).number_matched
    assert total <= everything
    assert_clean(page, log, server)


# --- an analysis being computed: "Đang tính toán…", then the layer ------------------------

def test_an_analysis_layer_says_computing_then_draws(open_map, server, store):
    headers = national_headers(store)
    page, log = open_map(headers=headers)
    page.evaluate("""() => { window.sawComputing = false; new MutationObserver(() => {
        if (document.querySelector('#legend .computing')) { window.sawComputing = true; }
      }).observe(document.getElementById('legend'), {childList: true, subtree: true}); }""")
    page.check("#layer-hotspots-gistar")
    page.wait_for_function("() => window.geoMap.tileUrls()['hotspots-gistar']",
                           timeout=READY_MS)
    wait_idle(page)
    busy = [(u, s) for u, s in log.responses if "/collections/hotspots-gistar/items" in u
            and s == 503]
    if busy:  # the first request started the analysis: the page said so and waited
        assert page.evaluate("() => window.sawComputing")
    assert not page.locator("#legend .computing").count()
    assert paths_of(log, "/tiles/hotspots-gistar/")
    assert [r for r in log.responses if r[1] >= 400 and r not in busy] == []
    assert page.evaluate("() => window.geoMap.errors") == []
    assert [e for e in log.errors if not (busy and "status of 503" in e)] == []


# --- the data table: sortable, and its CSV holds exactly its rows ---------------------------

def test_the_data_table_sorts_and_its_csv_is_what_it_shows(open_map, server, store, routes):
    page, log = open_map()
    show_province(page, "Tuyên Quang")
    page.click("#table-show")
    page.wait_for_selector("#data-table-rows tbody tr")
    wait_idle(page)
    shown = page.evaluate("""() => [...document.querySelectorAll('#data-table-rows tbody tr')]
        .map(tr => [...tr.children].map(c => c.textContent))""")
    communes = store.query("communes", FeatureQuery(province_code="08", limit=1)).number_matched
    assert len(shown) == communes > 0
    asked = [u for u in paths_of(log, "/collections/certification-rate/items")
             if "province_code=08" in u][-1]
    link = page.get_attribute("#table-csv", "href")
    assert query_of(link) == {**query_of(asked), "f": "csv"}
    assert query_of(page.get_attribute("#table-xlsx", "href")) == {**query_of(asked),
                                                                    "f": "xlsx"}
    rate = next(c for c in query_of(asked) if c == "group")
    prop = f"certification_rate_{query_of(asked)[rate]}"

    header = page.locator(f"#data-table-rows thead button[data-column={prop}]")
    header.click()
    values = _column(page, 2)
    assert values == sorted(values)
    header.click()
    assert _column(page, 2) == sorted(values, reverse=True)

    if "csv" not in _formats(server):
        pytest.skip("the features API answers no f=csv yet")
    with page.expect_download() as download:
        page.click("#table-csv")
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8-sig")
                                           .read())))
    fmt = page.evaluate("(v) => v.map(x => window.geoMap.format.value('certification-rate', "
                        f"'{prop}', x))", [_number(r[prop]) for r in rows])
    from_csv = sorted([r["full_name"], r["province_name"], text] for r, text in zip(rows, fmt))
    assert from_csv == sorted(shown)
    assert_clean(page, log, server)


def _number(text: str):
    return float(text) if text not in ("", None) else None


def _column(page, index: int) -> list:
    texts = page.evaluate(f"""() => [...document.querySelectorAll(
        '#data-table-rows tbody tr')].map(tr => tr.children[{index}].textContent)""")
    return [float(t.rstrip("%").replace(",", ".")) for t in texts if t.endswith("%")]


def _formats(server) -> set[str]:
    try:
        fetch(server, "/collections/provinces/items?f=csv&limit=1")
    except Exception:  # noqa: BLE001 - an unknown format is a 400
        return set()
    return {"csv"}


# --- download the map; printing keeps the legend ----------------------------------------------

def test_download_the_map_as_png_and_pdf_and_print_keeps_the_legend(open_map, server, routes):
    require_route(routes, "/map/image.png")
    page, log = open_map()
    show_province(page, "Tuyên Quang")
    page.hover("#download-png")  # the link follows the view as the pointer reaches it
    href = page.get_attribute("#download-png", "href")
    values = query_of(href)
    drawn = page.evaluate("() => window.geoMap.indicatorLayer().id")
    title = page.inner_text(f"#legend [data-layer={drawn}] h3")
    assert values["title"] == title and values["lang"] == "vi"
    assert drawn in values["layer"].split(",")
    west, south, east, north = (float(v) for v in values["bbox"].split(","))
    view = [float(v) for v in page.evaluate(
        "() => window.geoMap.map.getBounds().toBBoxString()").split(",")]
    assert max(abs(a - b) for a, b in zip((west, south, east, north), view)) < 1e-3
    data, kind = fetch(server, urlsplit(href).path + "?" + urlsplit(href).query)
    image = Image.open(io.BytesIO(data))
    assert kind == "image/png" and image.size == (int(values["width"]), int(values["height"]))
    assert len(image.convert("RGB").getcolors(maxcolors=1 << 20) or []) > 20  # drawn
    if "/map/image.pdf" in routes:
        pdf = page.get_attribute("#download-pdf", "href")
        data, kind = fetch(server, urlsplit(pdf).path + "?" + urlsplit(pdf).query)
        text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)
        assert kind == "application/pdf" and " ".join(title.split()[:3]) in " ".join(
            text.split())
    page.emulate_media(media="print")
    assert page.is_visible("#legend .legend-layer")
    assert page.is_hidden(".leaflet-control-zoom") and page.is_hidden("#search-form")
    assert_clean(page, log, server)


# --- labels above the layers; the national frame holds both archipelagos -----------------

def test_place_labels_overlay_and_the_national_frame(open_map, server, store):
    page, log = open_map()
    bounds = page.evaluate("() => window.geoMap.config.bounds")
    for code in ("20333", "22736"):
        found = store.get("communes", code)
        if found and found[2] is not None:
            w, s, e, n = found[2].bounds
            assert bounds[0] <= w and bounds[1] <= s and e <= bounds[2] and n <= bounds[3]
    if "labels" not in CATALOG:
        pytest.skip("the service has no layer `labels` yet")
    tiles = [u for u in paths_of(log, "/tiles/labels/") if u.split("?")[0].endswith(".png")]
    assert tiles and all(query_of(u).get("lang") == "vi" for u in tiles)
    assert page.locator("#layer-labels").count() == 0  # an overlay, not a thematic layer
    assert_clean(page, log, server)


# --- compare years: a timeline and two years side by side ---------------------------------

def test_the_timeline_plays_through_the_years(open_map, server, store):
    page, log = open_map()
    years = store.record_years("certification")
    if page.is_visible("#level"):  # communes at every zoom: the tiles named below
        page.select_option("#level", "commune")
    page.click("#timeline-play")
    page.wait_for_function(f"() => window.geoMap.state.year === {years[-1]} && "
                           "document.querySelector('#timeline-play').getAttribute("
                           "'aria-pressed') === 'false'", timeout=READY_MS * 2)
    wait_idle(page)
    drawn = {query_of(u).get("year") for u in paths_of(log, "/tiles/certification-rate/")}
    assert {str(y) for y in years} <= drawn
    assert f"year={years[-1]}" in page.evaluate("() => window.location.hash")
    assert_clean(page, log, server)


def test_two_years_side_by_side_in_step(open_map, server, store):
    page, log = open_map()
    years = store.record_years("certification")
    page.check("#compare-on")
    page.select_option("#compare-year", str(years[0]))
    page.evaluate("() => window.geoMap.map.setView([22.5, 105.0], 8, {animate: false})")
    wait_idle(page, "window.geoMap.compare && window.geoMap.compare.layers.some(l => l._url"
                    f".includes('/certification-rate/') && l._url.includes('year={years[0]}'))")
    page.wait_for_timeout(300)
    wait_idle(page)
    left = page.locator(".folium-map").bounding_box()
    right = page.locator("#compare-map").bounding_box()
    assert abs(left["x"] + left["width"] - right["x"]) < 3 and right["width"] > 100
    asked = {query_of(u).get("year") for u in paths_of(log, "/tiles/certification-rate/")
             if "/8/" in u}
    assert {str(years[0]), str(years[-1])} <= asked
    centres = page.evaluate("""() => [window.geoMap.map.getCenter(),
        window.geoMap.compare.map.getCenter(), window.geoMap.map.getZoom(),
        window.geoMap.compare.map.getZoom()]""")
    assert abs(centres[0]["lat"] - centres[1]["lat"]) < 1e-6 and centres[2] == centres[3]
    assert page.inner_text("#compare-map .year-label") == str(years[0])
    page.uncheck("#compare-on")
    assert page.locator("#compare-map").count() == 0
    assert_clean(page, log, server)
