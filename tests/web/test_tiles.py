"""Tiles of every layer over the fixture (provinces 08 and 11 with the synthetic demo
records): MVT decoded (features and their properties), PNG decoded (the pixel under a
feature has the colour its legend class gives), caching (ETag, 304), access (restricted
layers closed to anonymous readers, a province key sees only its province), the one
JSON error shape for bad tile URLs, TileJSON, styles, legends and WMTS capabilities."""

from __future__ import annotations

import io
import shutil
import xml.etree.ElementTree as ET

import mapbox_vector_tile
import numpy as np
import pytest
import shapely
from PIL import Image

from geoservice.auth import create_key
from geoservice.layers.catalog import load_catalog
from geoservice.layers.source import prepare
from geoservice.services import of as services_of
from geoservice.tilemath import WORLD
from tests.web.helpers import assert_error, decode

CATALOG = load_catalog()
# The two fixture provinces (08, 11) face China and Laos only.
FIXTURE_LACKS = {"border-communes-kh": "the fixture provinces do not border Cambodia"}


@pytest.fixture(scope="session")
def demo_db(loaded_db, tmp_path_factory):
    """The fixture boundaries with the synthetic demo records of their communes."""
    from geoservice.demo.dataset import load_demo
    from geoservice.store import open_store

    path = tmp_path_factory.mktemp("demo-store") / "geoservice.sqlite"
    shutil.copy(loaded_db, path)
    store = open_store(f"sqlite:///{path}")
    load_demo(store)
    store.close()
    return path


@pytest.fixture
def app(make_app, demo_db):
    return make_app(demo_db)


@pytest.fixture
def national(app):
    return {"X-API-Key": create_key(services_of(app).store, "t", "viewer",
                                    "national")[1]}


def tile_of(layer_id, app, zoom=None):
    """A tile (z, x, y) over a drawn feature of the layer, and that feature's index."""
    layer = CATALOG[layer_id]
    current = services_of(app)
    source = prepare(current.store, layer, runs=current.analysis_runs)
    drawn = [i for i, s in enumerate(source.symbols) if s is not None]
    if not drawn and layer_id in FIXTURE_LACKS:
        pytest.skip(f"{layer_id}: {FIXTURE_LACKS[layer_id]} (the national build test draws it)")
    assert drawn, f"layer {layer_id} has no drawn feature on the fixture"
    if layer.geometry == "polygon":
        index = max(drawn, key=lambda i: source.geometries[i].area)
    else:  # the last one drawn is on top of any other at the same place
        index = drawn[-1]
    z = zoom if zoom is not None else max(layer.minzoom, min(9, layer.maxzoom))
    anchor = _anchor(source.geometries[index], layer.geometry)
    size = WORLD / 2**z
    x = int((anchor.x + WORLD / 2) // size)
    y = int((WORLD / 2 - anchor.y) // size)
    pixel = ((anchor.x + WORLD / 2 - x * size) / size * 256,
             (WORLD / 2 - anchor.y - y * size) / size * 256)
    return (z, x, y), pixel, source, index


def _anchor(geometry, kind):
    if kind == "polygon":
        return shapely.get_parts(geometry)[np.argmax(shapely.area(
            shapely.get_parts(geometry)))].representative_point() if (
            geometry.geom_type == "MultiPolygon") else geometry.representative_point()
    if kind == "line":
        line = max(shapely.get_parts(geometry), key=lambda g: g.length)
        return line.interpolate(0.5, normalized=True)
    return shapely.get_parts(geometry)[0]


# Place names are text placed per zoom, not symbols in legend colours: tests/render/test_labels.py.
DRAWN = sorted(set(CATALOG) - {"labels"})


@pytest.mark.parametrize("layer_id", DRAWN)
def test_every_layer_renders_a_decodable_mvt(app, national, layer_id):
    (z, x, y), _pixel, source, index = tile_of(layer_id, app)
    response = app.test_client().get(f"/tiles/{layer_id}/{z}/{x}/{y}.mvt", headers=national)
    assert response.status_code == 200 and response.mimetype == \
        "application/vnd.mapbox-vector-tile"
    decoded = mapbox_vector_tile.decode(response.data)
    features = decoded[layer_id]["features"]
    assert features and decoded[layer_id]["extent"] == 4096
    layer = CATALOG[layer_id]
    assert all(set(f["properties"]) <= set(layer.fields) for f in features)
    ours = next(f for f in features if f["id"] == index + 1)
    assert ours["properties"] == source.properties[index]
    kinds = {"polygon": ("Polygon", "MultiPolygon"), "line": ("LineString", "MultiLineString"),
             "point": ("Point", "MultiPoint")}[layer.geometry]
    assert {f["geometry"]["type"] for f in features} <= set(kinds)


@pytest.mark.parametrize("layer_id", DRAWN)
def test_every_layer_renders_a_png_in_its_legend_colours(app, national, layer_id):
    (z, x, y), (px, py), source, index = tile_of(layer_id, app)
    response = app.test_client().get(f"/tiles/{layer_id}/{z}/{x}/{y}.png", headers=national)
    assert response.status_code == 200 and response.mimetype == "image/png"
    image = np.asarray(Image.open(io.BytesIO(response.data)).convert("RGBA"))
    assert image.shape == (256, 256, 4) and image[..., 3].any()
    symbol = source.symbols[index]
    legend_colours = {c.colour[:3] for c in CATALOG[layer_id].classes} | {
        (symbol.fill or symbol.stroke)[:3]}
    window = image[max(int(py) - 2, 0):int(py) + 3, max(int(px) - 2, 0):int(px) + 3]
    colours = {tuple(int(v) for v in p[:3]) for p in window.reshape(-1, 4) if p[3] > 0}
    expected = (symbol.fill or symbol.stroke)[:3]
    assert expected in legend_colours
    if symbol.fill is not None:  # areas and markers: the interior has the exact colour
        centre = tuple(int(v) for v in image[int(py), int(px)])
        assert centre == tuple(symbol.fill), (centre, symbol.fill)
    elif CATALOG[layer_id].geometry == "line":  # lines: near the line (anti-aliased)
        assert any(_close(c, expected) for c in colours), (colours, expected)
    else:  # outlines only: the outline colour is drawn in the tile
        drawn = {tuple(int(v) for v in p[:3]) for p in image.reshape(-1, 4) if p[3] > 200}
        assert any(_close(c, expected) for c in drawn), expected


def _close(a, b, tolerance=12):
    return all(abs(int(p) - int(q)) <= tolerance for p, q in zip(a, b))


def test_tiles_have_etags_and_answer_304(app):
    client = app.test_client()
    url = "/tiles/communes/9/406/226.mvt"
    first = client.get(url)
    etag = first.headers["ETag"]
    assert etag.startswith('"') and first.headers["Cache-Control"].startswith("public")
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_restricted_layers_by_area(app):
    client, store = app.test_client(), services_of(app).store
    (z, x, y), *_ = tile_of("incidents", app)
    url = f"/tiles/incidents/{z}/{x}/{y}.mvt"
    assert_error(decode(client.get(url), 401), 401, "Unauthorized")
    own = {"X-API-Key": create_key(store, "p", "viewer", "08")[1]}
    other = {"X-API-Key": create_key(store, "q", "viewer", "11")[1]}
    everything = mapbox_vector_tile.decode(client.get(url, headers={
        "X-API-Key": create_key(store, "n", "viewer", "national")[1]}).data)
    provinces = {f["properties"]["province_code"]
                 for f in everything["incidents"]["features"]}
    mine = client.get(url, headers=own if "08" in provinces else other)
    assert mine.headers["Cache-Control"].startswith("private")
    kept = mapbox_vector_tile.decode(mine.data)["incidents"]["features"]
    assert kept and {f["properties"]["province_code"] for f in kept} == (
        {"08"} if "08" in provinces else {"11"})
    elsewhere = client.get(url, headers=other if "08" in provinces else own)
    left = mapbox_vector_tile.decode(elsewhere.data) if elsewhere.data else {}
    assert all(f["properties"]["province_code"] != ("08" if "08" in provinces else "11")
               for f in left.get("incidents", {"features": []})["features"])


@pytest.mark.parametrize("url, status, parameter", [
    ("/tiles/communes/9/406/abc.mvt", 400, "y"),
    ("/tiles/communes/9/406/226.gif", 400, "y"),
    ("/tiles/communes/9/999/226.mvt", 400, "x"),
    ("/tiles/communes/23/0/0.mvt", 400, "z"),
    ("/tiles/communes/-1/0/0.mvt", 400, "z"),
    ("/tiles/communes/9/406/226@2x.mvt", 400, "y"),
    ("/tiles/communes/9/406/226.mvt?year=20x4", 400, "year"),
    ("/tiles/communes/9/406/226.mvt?group=schools", 400, "group"),
    ("/tiles/certification-rate/9/406/226.mvt?group=bananas", 400, "group"),
    ("/tiles/communes/9/406/226.mvt?bbox=1", 400, "bbox"),
    ("/tiles/no-such-layer/9/406/226.mvt", 404, "layer"),
])
def test_bad_tile_requests_get_the_json_error_shape(app, url, status, parameter):
    body = decode(app.test_client().get(url), status)
    assert_error(body, status, "InvalidParameter" if status == 400 else "NotFound", parameter)


def test_empty_and_out_of_range_tiles_are_cheap_and_valid(app):
    client = app.test_client()
    assert client.get("/tiles/communes/9/0/0.mvt").data == b""
    image = Image.open(io.BytesIO(client.get("/tiles/communes/2/0/0.png").data))
    assert image.size == (256, 256) and not np.asarray(image.convert("RGBA"))[..., 3].any()
    big = Image.open(io.BytesIO(client.get("/tiles/communes/9/0/0@2x.png").data))
    assert big.size == (512, 512)


def test_tilejson_style_legend_and_wmts(app):
    client = app.test_client()
    doc = decode(client.get("/tiles/certification-rate.json?group=schools"))
    assert doc["tilejson"] == "3.0.0" and doc["tiles"][0].endswith(".mvt?group=schools")
    fields = doc["vector_layers"][0]["fields"]
    assert "certification_rate_schools" in fields and doc["geoservice:params"]["year"] == 2025
    style = decode(client.get("/styles/geoservice.json"))
    assert style["version"] == 8 and "incidents" not in style["sources"]
    assert "communes" in style["sources"]
    legend = decode(client.get("/tiles/certification-rate/legend.json?lang=en"))
    assert legend["entries"][0]["label"] and legend["layer"] == "certification-rate"
    png = Image.open(io.BytesIO(client.get("/tiles/certification-rate/legend.png").data))
    assert png.size[0] > 100 and png.size[1] > 60
    xml = client.get("/wmts/1.0.0/WMTSCapabilities.xml")
    root = ET.fromstring(xml.data)
    ns = {"w": "http://www.opengis.net/wmts/1.0", "ows": "http://www.opengis.net/ows/1.1"}
    ids = {e.text for e in root.findall("w:Contents/w:Layer/ows:Identifier", ns)}
    assert ids == {i for i, layer in CATALOG.items() if not layer.restricted}
    title = root.find("w:Contents/w:Layer/ows:Title", ns).text
    assert title and title == title.strip()


def _feature_value(client, url, code, name):
    decoded = mapbox_vector_tile.decode(client.get(url).data)
    layer = next(iter(decoded.values()))
    return next(f["properties"].get(name) for f in layer["features"]
                if f["properties"]["code"] == code)


@pytest.mark.parametrize("cache", ["", "redis://127.0.0.1:6379/15"])
def test_imports_invalidate_cached_tiles(make_app, demo_db, cache):
    from geoservice.store.records import ImportBatch, RecordWrite

    if cache.startswith("redis"):
        redis = pytest.importorskip("redis")
        try:
            redis.Redis.from_url(cache).ping()
        except redis.RedisError as exc:
            pytest.skip(f"no Redis at {cache}: {exc}")
    app = make_app(demo_db, TILE_CACHE=cache)
    client, store = app.test_client(), services_of(app).store
    (z, x, y), *_ = tile_of("certification-rate", app)
    url = f"/tiles/certification-rate/{z}/{x}/{y}.mvt"
    first = client.get(url)
    assert client.get(url).data == first.data  # served again (from the cache)
    code = mapbox_vector_tile.decode(first.data)["certification-rate"]["features"][0][
        "properties"]["code"]
    year = store.record_years("certification")[-1]
    province = store.get("communes", code)[1]["province_code"]
    store.apply_records([RecordWrite(
        kind="certification", natural_key=f"{code}|{year}|residential", commune_code=code,
        province_code=province, year=year, category="residential",
        properties={"year": year, "group": "residential", "reviewed": 7, "certified": 7})],
        ImportBatch("certification", "sua.xlsx", "3" * 64, "tester"))
    assert _feature_value(client, url, code, "certification_rate_residential") == 1.0
    assert client.get(url).headers["ETag"] != first.headers["ETag"]


def test_headers_of_tiles_legends_and_401s(make_app, demo_db):
    app = make_app(demo_db, CORS_ORIGINS="https://portal.example")
    client = app.test_client()
    tile = client.get("/tiles/communes/9/405/221.mvt")
    assert "Origin" in tile.headers.get("Vary", "") and "Access-Control-Allow-Origin" \
        not in tile.headers
    allowed = client.get("/tiles/communes/9/405/221.mvt",
                         headers={"Origin": "https://portal.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://portal.example"
    refused = client.get("/tiles/incidents/legend.png")
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith(
        "Bearer")
    assert "Layer 'incidents'" in refused.get_json()["description"]
    key = {"X-API-Key": create_key(services_of(app).store, "k", "viewer",
                                   "national")[1]}
    legend = client.get("/tiles/incidents/legend.png", headers=key)
    assert legend.headers["Cache-Control"].startswith("private")
    unknown = client.get("/tiles/nope/9/405/221.mvt").get_json()["description"]
    assert "incidents" not in unknown and "communes" in unknown


def test_ogc_api_tiles_documents_lead_to_real_tiles(app):
    client = app.test_client()
    assert any("ogcapi-tiles-1" in c for c in decode(client.get("/conformance"))["conformsTo"])
    sets = decode(client.get("/collections/communes/tiles"))["tilesets"]
    assert sets[0]["tileMatrixSetURI"].endswith("WebMercatorQuad")
    tileset = decode(client.get("/collections/communes/tiles/WebMercatorQuad"))
    template = next(link["href"] for link in tileset["links"]
                    if link["rel"] == "item" and link["type"].endswith("vector-tile"))
    url = template.replace("http://localhost", "").format(tileMatrix=9, tileCol=405,
                                                          tileRow=221)
    decoded = mapbox_vector_tile.decode(client.get(url).data)
    assert "00715" in {f["properties"]["code"] for f in decoded["communes"]["features"]}
    matrices = decode(client.get("/tileMatrixSets/WebMercatorQuad"))["tileMatrices"]
    assert matrices[9]["matrixWidth"] == 512
    assert abs(matrices[0]["scaleDenominator"] - 559082264.0287178) < 1e-6
    assert_error(decode(client.get("/collections/incidents/tiles"), 401), 401,
                 "Unauthorized")


TILE_VALUE_TYPES = {"String": str, "Number": (int, float), "Boolean": bool}


@pytest.mark.parametrize("layer_id", sorted(CATALOG))
def test_tilejson_declares_the_types_its_tiles_carry(app, national, layer_id):
    """Field types come from the layer's source definitions, never from names: every
    value in a decoded tile has the type TileJSON declares for its field."""
    (z, x, y), _pixel, _source, _index = tile_of(layer_id, app)
    client = app.test_client()
    declared = decode(client.get(f"/tiles/{layer_id}.json", headers=national))[
        "vector_layers"][0]["fields"]
    assert set(declared) == set(CATALOG[layer_id].fields)
    tile = mapbox_vector_tile.decode(client.get(f"/tiles/{layer_id}/{z}/{x}/{y}.mvt",
                                                headers=national).data)
    for feature in tile[layer_id]["features"]:
        for name, value in feature["properties"].items():
            wanted = TILE_VALUE_TYPES[declared[name]]
            assert isinstance(value, wanted) and not (
                declared[name] == "Number" and isinstance(value, bool)), (name, value)


def test_fields_named_like_numbers_are_declared_as_what_they_are(app, national):
    client = app.test_client()
    cooperation = decode(client.get("/tiles/cooperation-lines.json", headers=national))
    assert cooperation["vector_layers"][0]["fields"]["partner_country"] == "String"
    border = decode(client.get("/tiles/border-communes.json"))["vector_layers"][0]["fields"]
    assert border["border_length_km"] == "String"  # {"CN": 29.868} as compact JSON text
    rate = decode(client.get("/tiles/certification-rate.json"))["vector_layers"][0]["fields"]
    assert rate["certification_rate_residential"] == "Number"
    assert rate["indicator_year"] == "Number" and rate["name"] == "String"


def test_the_standard_tile_path_answers_the_same_tile(app, national):
    """OGC API - Tiles: /collections/{id}/tiles/WebMercatorQuad/{z}/{row}/{col} is the same
    tile as /tiles/{id}/{z}/{col}/{row}.mvt (or .png), under the same access rule."""
    (z, x, y), *_ = tile_of("certification-rate", app)
    client = app.test_client()
    xyz = client.get(f"/tiles/certification-rate/{z}/{x}/{y}.mvt")
    standard = client.get(f"/collections/certification-rate/tiles/WebMercatorQuad/{z}/{y}/{x}"
                          "?f=mvt")
    assert standard.status_code == 200 and standard.mimetype == \
        "application/vnd.mapbox-vector-tile"
    assert standard.data == xyz.data and mapbox_vector_tile.decode(standard.data)
    png = client.get(f"/collections/certification-rate/tiles/WebMercatorQuad/{z}/{y}/{x}"
                     "?f=png")
    assert png.status_code == 200 and png.data[:8] == b"\x89PNG\r\n\x1a\n"
    restricted = client.get(f"/collections/incidents/tiles/WebMercatorQuad/{z}/{y}/{x}")
    assert restricted.status_code == 401
    assert client.get(f"/collections/incidents/tiles/WebMercatorQuad/{z}/{y}/{x}",
                      headers=national).status_code == 200
    wrong = decode(client.get(f"/collections/certification-rate/tiles/WebMercatorQuad/{z}/{y}/"
                              f"{x}?f=xml"), 400)
    assert_error(wrong, 400, parameter="f")


def test_tileset_limits_have_rows_and_columns(app):
    body = decode(app.test_client().get("/collections/communes/tiles/WebMercatorQuad"))
    limits = body["tileMatrixSetLimits"]
    assert limits and all({"tileMatrix", "minTileRow", "maxTileRow", "minTileCol",
                           "maxTileCol"} <= set(limit) for limit in limits)
    z7 = next(limit for limit in limits if limit["tileMatrix"] == "7")
    (x, y) = (102, 56)  # a tile over northern Vietnam at zoom 7
    assert z7["minTileCol"] <= x <= z7["maxTileCol"] and z7["minTileRow"] <= y <= \
        z7["maxTileRow"]


@pytest.mark.parametrize("kind, mimetype", [("qml", "application/vnd.qgis.qml+xml"),
                                            ("sld", "application/vnd.ogc.sld+xml")])
def test_desktop_styles_are_xml_with_the_layers_colours(app, kind, mimetype):
    response = app.test_client().get(f"/tiles/border-communes/style.{kind}")
    assert response.status_code == 200 and response.mimetype == mimetype
    root = ET.fromstring(response.data)
    text = ET.tostring(root, encoding="unicode").lower()
    for entry in CATALOG["border-communes"].classes:
        colour = "#{:02x}{:02x}{:02x}".format(*entry.colour[:3])
        rgb = ",".join(str(c) for c in entry.colour[:3])
        assert colour in text or rgb in text, (kind, colour)
    assert "Giáp Trung Quốc" in ET.tostring(root, encoding="unicode")


def test_collections_that_are_layers_link_their_tile_sets_and_styles(app):
    client = app.test_client()
    for collection in ("communes", "certification-rate"):  # a stored one, a layer one
        body = decode(client.get(f"/collections/{collection}"))
        links = {(link["rel"], link["href"].split("localhost", 1)[1]) for link in body["links"]}
        assert ("http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
                f"/collections/{collection}/tiles") in links
        styles = {href for rel, href in links if rel == "stylesheet"}
        assert {f"/tiles/{collection}/style.json", f"/tiles/{collection}/style.qml",
                f"/tiles/{collection}/style.sld"} <= styles, styles
        for href in styles:
            assert client.get(href).status_code == 200, href
    provinces_only = decode(client.get("/collections/legacy-communes"))
    assert any(link["rel"].endswith("tilesets-vector") for link in provinces_only["links"])
    records = decode(client.get("/collections/certification"))
    assert not any(link["rel"].endswith("tilesets-vector") for link in records["links"])
