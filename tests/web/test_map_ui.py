"""The map page's client in Debian's headless Chromium, on the fixture (provinces 08 and 11):
every control combination draws what its title and legend say, "no indicator" hides nothing,
popups stay open while read, the whole view lives in the URL (Back/Forward, shared links,
language), words instead of codes, the signed-in user with a sign-out and their province,
counts behind the rates, the level by zoom with class counts, and the phone layout.
"""

from __future__ import annotations

import io
import json
import re
from urllib.parse import parse_qs, urlsplit
from urllib.request import Request, urlopen

import pytest
from PIL import Image

from geoservice.auth import create_key
from geoservice.indicators import published
from geoservice.layers.catalog import load_catalog
from geoservice.layers.params import with_params
from geoservice.store import FeatureQuery
from geoservice.store.records import RecordQuery
from geoservice.users import create_user
from tests.web import test_map_page as map_page
from tests.web import test_tiles
from tests.web.test_map_page import (
    _close,
    _over,
    _rgba,
    assert_clean,
    legend_titles,
    paths_of,
    percent_vi,
    wait_idle,
)

# The map page tests' fixtures: this module's own server and store (module scope), and pages.
demo_db, server, store, open_map = (test_tiles.demo_db, map_page.server, map_page.store,
                                    map_page.open_map)
CATALOG = load_catalog()
PASSWORD = "Đèo-Mã-Pí-Lèng-2025"


def fetch_json(server, path: str, headers=None) -> dict:
    """GET a JSON document of the server, as a program would."""
    with urlopen(Request(server.url + path, headers=headers or {}), timeout=60) as answer:
        return json.loads(answer.read().decode("utf-8"))


def query_of(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def national_headers(store) -> dict:
    return {"X-API-Key": create_key(store, "map-ui", "viewer", "national")[1]}


def indicator_options(page) -> list[str]:
    return page.evaluate("() => [...document.querySelectorAll('#indicator option')]"
                         ".map(o => o.value).filter(Boolean)")


# --- item 1: correct state ------------------------------------------------------------------

def test_every_indicator_group_and_year_draws_what_its_title_says(open_map, server, store):
    page, log = open_map()
    years = store.record_years("certification")
    groups = page.evaluate("() => window.geoMap.config.groups.map(g => g.value)")
    indicators = [i for i in indicator_options(page) if "group" in CATALOG[i].params]
    assert len(indicators) >= 2 and len(groups) >= 5 and len(years) >= 2
    walked = 0
    for indicator in indicators:
        page.select_option("#indicator", indicator)
        for group in groups:
            if page.is_visible("#group"):
                page.select_option("#group", group)
            for year in (years[0], years[-1]):
                page.select_option("#year", str(year))
                wait_idle(page)
                walked += 1
                _assert_drawn_as_titled(page, log, server, indicator, group, year)
    assert walked == len(indicators) * len(groups) * 2
    assert_clean(page, log, server)


def _assert_drawn_as_titled(page, log, server, indicator, group, year):
    urls = page.evaluate("() => window.geoMap.tileUrls()")
    drawn = [i for i in urls if i == indicator or CATALOG[i].id == f"{indicator}-province"]
    assert len(drawn) == 1, urls
    layer = CATALOG[drawn[0]]
    free = "{group_label}" in (CATALOG[indicator].templates[3].get("vi") or "")
    shown_group = group if free else CATALOG[indicator].params["group"]
    assert page.is_visible("#group") == free
    tile_query = query_of(urls[layer.id])
    assert tile_query == {"year": str(year), "group": shown_group}, (indicator, tile_query)
    expected = with_params(layer, year, group=shown_group)
    legend_url = page.evaluate("id => window.geoMap.legendUrl(id)", layer.id)
    assert query_of(legend_url).get("group") == shown_group
    assert query_of(legend_url).get("year") == str(year)
    # Asked by the page, or given in it (the first view's legends come with the page).
    given = page.evaluate("() => Object.keys(JSON.parse("
                          "document.getElementById('map-config').textContent).legends)")
    asked = [urlsplit(u) for u in paths_of(log, f"/tiles/{layer.id}/legend.json")]
    assert legend_url in given or legend_url in [f"{u.path}?{u.query}" for u in asked], \
        f"no legend asked for {layer.id} {shown_group} {year}"
    legend = fetch_json(server, legend_url)
    assert legend["property"] == expected.indicator_property == f"certification_rate_{shown_group}"
    assert legend_titles(page)[layer.id] == f"{expected.title('vi')} ({year})"


def test_no_indicator_leaves_the_other_layers_visible(open_map, server, store):
    page, log = open_map()
    code, props, geometry = next(iter(store.query("communes", FeatureQuery(
        border_neighbor="CN", limit=1)).features))
    point = geometry.representative_point()
    page.check("#layer-border-communes")
    page.select_option("#indicator", "")
    page.evaluate("([lat, lon]) => window.geoMap.map.setView([lat, lon], 10, {animate: false})",
                  [point.y, point.x])
    wait_idle(page)
    page.wait_for_timeout(400)
    image = Image.open(io.BytesIO(page.locator(".folium-map").screenshot())).convert("RGB")
    colours = {colour for count, colour in image.getcolors(maxcolors=1 << 20) if count > 30}
    beneath = _rgba(CATALOG["provinces"].legend()["entries"][0]["fill"])
    border = [e for e in CATALOG["border-communes"].legend()["entries"] if e.get("fill")]
    seen = [e["label"] for e in border
            if any(_close(c, _over(_rgba(e["fill"]), beneath), 6) for c in colours)]
    assert seen, "the border communes are hidden under the provinces' fill"
    assert "certification-rate" not in legend_titles(page)
    assert_clean(page, log, server)


def test_a_point_popup_stays_open_while_the_map_moves_and_shows_words(open_map, server, store):
    headers = national_headers(store)
    page, log = open_map(headers=headers)
    incident = store.query_records("incidents", RecordQuery(limit=1)).features[0]
    page.check("#layer-incidents")
    page.fill("#period-from", "1900-01-01")
    page.dispatch_event("#period-from", "change")
    page.evaluate("([lat, lon]) => window.geoMap.map.setView([lat, lon], 16, {animate: false})",
                  [incident[2].y, incident[2].x])
    wait_idle(page, "document.querySelectorAll('path.leaflet-interactive').length > 0")
    page.evaluate("""() => { const g = window.geoMap.map; let opened = false;
        g.eachLayer(l => { if (!opened && l.getPopup && l.getPopup() && l.feature === undefined
                              && l.openPopup && l.getLatLng) { l.openPopup(); opened = true; }});
        return opened; }""")
    page.wait_for_selector(".leaflet-popup")
    text = page.inner_text(".leaflet-popup-content")
    categories = {e["value"]: e["label"] for e in CATALOG["incidents"].legend("vi")["entries"]
                  if e["role"] == "category"}
    assert any(label in text for label in categories.values()), text
    assert not any(re.search(rf"\b{code}\b", text) for code in categories), text
    assert not re.search(r"\b(low|medium|high)\b", text), text
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text) and re.search(r"\d{2}/\d{2}/\d{4}", text)
    before = len(paths_of(log, "/collections/incidents/"))
    page.evaluate("() => window.geoMap.map.panBy([120, 80], {animate: false})")
    wait_idle(page)
    page.wait_for_timeout(300)
    assert page.locator(".leaflet-popup").count() == 1  # still open, still the same
    assert page.inner_text(".leaflet-popup-content") == text
    page.evaluate("() => window.geoMap.map.closePopup()")
    wait_idle(page)
    assert len(paths_of(log, "/collections/incidents/")) > before  # reloaded once closed
    assert_clean(page, log, server)


def test_the_url_holds_the_view_for_back_forward_links_and_language(open_map, server, store):
    page, log = open_map()
    years = store.record_years("certification")
    page.select_option("#year", str(years[0]))
    page.select_option("#group", "schools")
    page.uncheck("#layer-communes")
    wait_idle(page)
    first = page.evaluate("() => window.location.hash")
    assert f"year={years[0]}" in first and "group=schools" in first
    page.fill("#search-input", "lung cu")
    page.wait_for_selector("#search-results li")
    page.press("#search-input", "Enter")
    page.wait_for_selector(".leaflet-popup")
    wait_idle(page)
    page.wait_for_timeout(400)
    second = page.evaluate("() => window.location.hash")
    assert "unit=commune:" in second and "group=schools" in second
    unit = re.search(r"unit=commune:(\w+)", second).group(1)
    zoom = page.evaluate("() => window.geoMap.map.getZoom()")
    page.go_back()
    wait_idle(page, "!window.geoMap.state.commune")
    assert page.inner_text("#breadcrumb").strip() == page.inner_text(
        "#breadcrumb li >> nth=0").strip()
    assert page.evaluate("() => window.geoMap.state.group") == "schools"
    page.go_forward()
    wait_idle(page, f"window.geoMap.state.commune && window.geoMap.state.commune.code === "
                    f"'{unit}'")

    shared, shared_log = open_map("/" + second)
    wait_idle(shared, "window.geoMap.state.commune")
    assert "unit=commune:" in shared.evaluate("() => window.location.hash")
    state = shared.evaluate("() => window.geoMap.state")
    assert (state["year"], state["group"], state["commune"]["code"]) == (years[0], "schools",
                                                                         unit)
    assert state["visible"]["communes"] is False
    assert shared.evaluate("() => window.geoMap.map.getZoom()") == zoom
    assert shared.input_value("#year") == str(years[0])
    assert [u for u in paths_of(shared_log, "/tiles/certification-rate")
            if f"year={years[0]}" in u and "group=schools" in u]

    with shared.expect_navigation():
        shared.click("a[data-lang=en]")
    wait_idle(shared, "window.geoMap.state.commune")
    state = shared.evaluate("() => window.geoMap.state")
    assert shared.evaluate("() => document.documentElement.lang") == "en"
    assert (state["year"], state["group"], state["commune"]["code"]) == (years[0], "schools",
                                                                         unit)
    assert "%" in shared.inner_text("#unit-body") and " %" not in shared.inner_text("#unit-body")
    assert_clean(page, log, server)
    assert_clean(shared, shared_log, server)


# --- item 3: people's things ------------------------------------------------------------------

def test_a_province_user_sees_their_name_their_province_counts_and_signs_out(
        open_map, server, store):
    create_user(store, "tinh11", PASSWORD, "viewer", "11", None)
    page, log = open_map()
    page.goto(server.url + "/login?next=/map")
    page.fill("#username", "tinh11")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    wait_idle(page, "window.geoMap.state.province && document.querySelector('#unit-body .counts')")
    assert page.inner_text("#user-name") == "tinh11"
    code, props, geometry = store.get("provinces", "11")
    assert page.locator("#breadcrumb li").all_inner_texts()[1] == props["full_name"]
    point = geometry.representative_point()
    west, south, east, north = (float(v) for v in page.evaluate(
        "() => window.geoMap.map.getBounds().toBBoxString()").split(","))
    assert west <= point.x <= east and south <= point.y <= north

    year = store.record_years("certification")[-1]
    rows = store.query_records("certification", RecordQuery(limit=10_000, province_code="11",
                                                            year=year)).features
    residential = [r[1] for r in rows if r[1]["group"] == "residential"]
    certified = sum(r["certified"] for r in residential)
    reviewed = sum(r["reviewed"] for r in residential)
    cell = page.inner_text("#unit-body tr[data-indicator=certification_rate_residential]")
    number = published.indicators(store, "province", year)["11"]
    assert percent_vi(number["certification_rate_residential"]) in cell
    assert f"{certified:,}/{reviewed:,}".replace(",", ".") in cell
    before = published.indicators(store, "province", year - 1)["11"]
    delta = (number["certification_rate_residential"] -
             before["certification_rate_residential"]) * 100
    sign = "+" if delta > 0 else "−"
    expected = f"{sign}{abs(round(delta, 1)):.1f}".rstrip("0").rstrip(".").replace(".", ",")
    assert f"{expected} điểm %" in cell, cell

    with page.expect_navigation():
        page.click("#logout")
    assert urlsplit(page.url).path == "/login"
    page.goto(server.url + "/map")
    wait_idle(page)
    assert page.locator("#user-name").count() == 0
    assert_clean(page, log, server)


# --- item 4: level by zoom, with class counts -------------------------------------------------

def test_provinces_at_national_zooms_communes_nearer_with_class_counts(open_map, server, store):
    if "certification-rate-province" not in CATALOG:
        pytest.skip("no layer certification-rate-province: communes at every zoom")
    page, log = open_map()
    year = store.record_years("certification")[-1]
    assert page.evaluate("() => window.geoMap.map.getZoom()") < 8
    wait_idle(page, "document.querySelector('#legend [data-layer=certification-rate-province]"
                    " .count')")
    counted = _class_counts(page, "certification-rate-province")
    provinces = fetch_json(server, f"/collections/certification-rate-province/items?year={year}"
                                   "&limit=1000")
    assert sum(counted.values()) == provinces["numberMatched"] > 0
    assert all(text.endswith(" tỉnh") for text in _count_texts(page,
                                                              "certification-rate-province"))
    _assert_counts_match(counted, provinces["features"], "certification-rate-province",
                         "certification_rate_residential")

    page.evaluate("() => window.geoMap.map.setView([22.6, 105.0], 8, {animate: false})")
    wait_idle(page, "document.querySelector('#legend [data-layer=certification-rate] .count')")
    assert "certification-rate-province" not in page.evaluate("() => window.geoMap.tileUrls()")
    communes = _class_counts(page, "certification-rate")
    matched = store.query("communes", FeatureQuery(limit=1)).number_matched
    assert sum(communes.values()) == matched
    assert all(text.endswith(" xã") for text in _count_texts(page, "certification-rate"))

    page.select_option("#level", "province")
    wait_idle(page)
    assert "certification-rate-province" in page.evaluate("() => window.geoMap.tileUrls()")
    assert "level=province" in page.evaluate("() => window.location.hash")
    assert_clean(page, log, server)


def _class_counts(page, layer_id) -> dict:
    return page.evaluate("""(id) => Object.fromEntries([...document.querySelectorAll(
        `#legend [data-layer="${id}"] li`)].map(li => [li.querySelector('span:not(.swatch)')
        .textContent, Number(li.querySelector('.count').dataset.count)]))""", layer_id)


def _count_texts(page, layer_id) -> list[str]:
    return page.locator(f'#legend [data-layer="{layer_id}"] .count').all_inner_texts()


def _assert_counts_match(counted, features, layer_id, prop):
    entries = CATALOG[layer_id].legend("vi")["entries"]
    expected = dict.fromkeys(counted, 0)
    for feature in features:
        value = feature["properties"].get(prop)
        for entry in entries:
            if value is None and entry["role"] == "no_data" or value is not None and \
                    entry["role"] == "class" and (entry["min"] is None or value >= entry["min"]) \
                    and (entry["max"] is None or value < entry["max"]):
                expected[entry["label"]] += 1
                break
    assert counted == expected


# --- item 3: the whole territory, no basemap edge ----------------------------------------------

def test_the_archipelagos_inset_shows_where_the_country_view_leaves_them_out(open_map, server):
    from geoservice.reports.map_inset import ISLANDS, NAME_INK

    page, log = open_map(viewport=(1440, 900))
    islands = [p for key in ISLANDS for p in ISLANDS[key]]
    inset = page.locator("#archipelagos-inset")

    def out_of_view() -> bool:
        return page.evaluate("""(islands) => { const v = window.geoMap.map.getBounds();
            return islands.some(([lon, lat]) => !v.contains([lat, lon])); }""", islands)

    assert inset.is_visible() == out_of_view()  # the opening view of the country
    page.evaluate("() => window.geoMap.map.setView([21.6, 104.8], 7, {animate: false})")
    wait_idle(page)  # a regional view of the north
    assert out_of_view() and inset.is_visible()
    page.wait_for_function("() => document.querySelector('#archipelagos-inset img').complete"
                           " && document.querySelector('#archipelagos-inset img').naturalWidth")
    src = inset.locator("img").get_attribute("src")
    assert "lang=vi" in src and inset.locator("img").get_attribute("alt").startswith(
        "Quần đảo Hoàng Sa")
    with urlopen(server.url + src, timeout=60) as answer:
        assert answer.headers["Content-Type"] == "image/png"
        image = Image.open(io.BytesIO(answer.read())).convert("RGB")
    assert image.size[0] >= 150
    names = sum(count for count, colour in image.getcolors(maxcolors=1 << 20)
                if _close(colour, NAME_INK[:3], 40))
    assert names > 100, "no archipelago names on the inset"
    with urlopen(server.url + src.replace("lang=vi", "lang=en"), timeout=60) as answer:
        english = Image.open(io.BytesIO(answer.read())).convert("RGB")
    assert english.size == image.size and english.tobytes() != image.tobytes()  # its names

    inset.click()  # brings them into the view
    page.wait_for_function("() => document.querySelector('#archipelagos-inset').hidden")
    assert not out_of_view()
    page.evaluate("() => window.geoMap.map.setView([22.6, 105.0], 9, {animate: false})")
    wait_idle(page)
    assert out_of_view() and not inset.is_visible()  # a commune view: no inset
    assert_clean(page, log, server)


def test_no_edge_of_the_basemap_in_the_widest_view(open_map, server):
    """At the widest zoom, wherever the map may be panned, the basemap covers the view:
    no box of it ends on the page's background."""
    from geoservice.layers.definition import BACKGROUND

    page, log = open_map(viewport=(1440, 900))
    background = _rgba(BACKGROUND)[:3]
    zoom = page.evaluate("() => window.geoMap.map.getMinZoom()")
    for corner in ("getSouthWest", "getNorthEast", "getNorthWest", "getSouthEast", "getCenter"):
        page.evaluate(f"""(zoom) => {{ const m = window.geoMap.map;
            m.setView(m.options.maxBounds.{corner}(), zoom, {{animate: false}}); }}""", zoom)
        wait_idle(page)
        page.wait_for_timeout(300)
        shot = Image.open(io.BytesIO(page.locator(".folium-map").screenshot())).convert("RGB")
        bare = sum(count for count, colour in shot.getcolors(maxcolors=1 << 20)
                   if _close(colour, background, 3))
        assert bare / (shot.size[0] * shot.size[1]) < 0.002, (corner, bare)
    assert_clean(page, log, server)


# --- item 5: the phone layout ---------------------------------------------------------------

def test_on_a_phone_the_legend_is_reachable_and_nothing_overlaps(open_map, server):
    page, log = open_map(viewport=(390, 844))
    boxes = page.evaluate("""() => Object.fromEntries(['.leaflet-control-scale',
        '.leaflet-control-attribution', '.leaflet-control-zoom', '#legend-toggle',
        '#archipelagos-inset']
        .map(s => [s, document.querySelector(s) && document.querySelector(s)
                   .getBoundingClientRect().toJSON()]))""")
    assert all(boxes.values()), boxes
    names = list(boxes)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert not _overlap(boxes[a], boxes[b]), (a, b, boxes[a], boxes[b])
    for box in boxes.values():
        assert 0 <= box["left"] and box["right"] <= 390 and 0 <= box["top"] <= 844
    page.click("#legend-toggle")
    legend = page.locator("#legend .legend-layer >> nth=0")
    legend.wait_for(state="visible")
    shown = legend.bounding_box()
    assert shown["y"] >= 0 and shown["y"] + 20 <= 844 and shown["x"] + shown["width"] <= 390
    assert_clean(page, log, server)


def _overlap(a, b) -> bool:
    return not (a["right"] <= b["left"] or b["right"] <= a["left"] or
                a["bottom"] <= b["top"] or b["bottom"] <= a["top"])
