"""Layer data versions: an import changes the versions (and the cached tiles) of the layers
drawn from what it changed only; after it the previous tile is answered at low zooms until
the new one is drawn in the background (both stores)."""

from __future__ import annotations

import mapbox_vector_tile
import mercantile

from geoservice.layers.catalog import load_catalog
from geoservice.layers.versions import layer_data_version
from geoservice.services import of as services_of
from geoservice.store import FeatureQuery, open_store
from geoservice.store.records import ImportBatch, RecordWrite

CATALOG = load_catalog()
CERTIFICATION_LAYERS = {"certification-rate", "certification-rate-commune-unit",
                        "certification-rate-province", "model-coverage", "awareness"}
UNTOUCHED = {"communes", "provinces", "countries", "sea", "border-lines", "border-communes",
             "legacy-communes", "incidents", "hot-spots", "model-points", "cooperation"}


def _commune(store):
    fid, props, geometry = store.query("communes", FeatureQuery(limit=1)).features[0]
    return fid, props["province_code"], geometry.representative_point()


def _certify(store, code, province, certified, year=2025):
    store.apply_records([RecordWrite(
        kind="certification", natural_key=f"{code}|{year}|residential", commune_code=code,
        province_code=province, year=year, category="residential",
        properties={"year": year, "group": "residential", "reviewed": 10,
                    "certified": certified})],
        ImportBatch("certification", "cong-nhan.xlsx", f"{certified:064d}", "tester"))


def _incident(store, code, province, point):
    from datetime import date

    store.apply_records([RecordWrite(
        kind="incidents", natural_key="VV-1", commune_code=code, province_code=province,
        geometry=point, year=2025, date=date(2025, 3, 1), category="drugs",
        properties={"ref": "VV-1", "date": "2025-03-01", "category": "drugs",
                    "severity": "serious"})],
        ImportBatch("incidents", "vu-viec.xlsx", "1" * 64, "tester"))


def test_an_import_changes_the_versions_of_its_layers_only(loaded_url):
    store = open_store(loaded_url)
    code, province, point = _commune(store)
    before = {i: layer_data_version(store, layer) for i, layer in CATALOG.items()}
    data_before = store.data_version()
    _certify(store, code, province, 7)
    after = {i: layer_data_version(store, layer) for i, layer in CATALOG.items()}
    changed = {i for i in CATALOG if before[i] != after[i]}
    assert CERTIFICATION_LAYERS <= changed and not changed & UNTOUCHED
    assert store.data_version() != data_before  # still changes on every import

    _incident(store, code, province, point)
    again = {i: layer_data_version(store, layer) for i, layer in CATALOG.items()}
    changed = {i for i in CATALOG if again[i] != after[i]}
    assert {"incidents", "hotspots-gistar"} <= changed
    assert not changed & (CERTIFICATION_LAYERS | {"communes", "provinces", "hot-spots"})
    store.close()


def _value(data, code):
    features = mapbox_vector_tile.decode(data)["certification-rate"]["features"]
    return next(f["properties"].get("certification_rate_residential") for f in features
                if f["properties"]["code"] == code)


def test_previous_tiles_are_served_until_the_new_ones_are_drawn(make_app, loaded_url):
    app = make_app(None, DATABASE_URL=loaded_url)
    services = services_of(app)
    client, store = app.test_client(), services.store
    code, province, point = _commune(store)
    _certify(store, code, province, 7)
    low, high = (mercantile.tile(point.x, point.y, z) for z in (6, 9))
    low_url = f"/tiles/certification-rate/{low.z}/{low.x}/{low.y}.mvt"
    high_url = f"/tiles/certification-rate/{high.z}/{high.x}/{high.y}.mvt"
    communes_url = f"/tiles/communes/{high.z}/{high.x}/{high.y}.mvt"
    assert _value(client.get(low_url).data, code) == 0.7
    assert _value(client.get(high_url).data, code) == 0.7
    communes = client.get(communes_url).data

    from geoservice.api.tiles import _revalidation

    revalidation = _revalidation(services)
    # The next request sees the import: it answers the previous tile and has the new one
    # drawn in the background.
    _certify(store, code, province, 9)
    stale = client.get(low_url)
    assert _value(stale.data, code) == 0.7  # the previous version, at once
    assert _value(client.get(high_url).data, code) == 0.9  # high zooms: drawn when asked
    revalidation.join()
    assert revalidation.pending() == 0
    fresh = client.get(low_url)
    assert _value(fresh.data, code) == 0.9 and fresh.headers["ETag"] != stale.headers["ETag"]

    # The sweep drew the variant's other low zooms too: they are in the cache already.
    from geoservice.api.tiles import TileRequest, _cache_key

    layer = CATALOG["certification-rate"]
    version = layer_data_version(store, layer)
    z5 = mercantile.tile(point.x, point.y, 5)
    request = TileRequest(layer, z5.z, z5.x, z5.y, "mvt")
    cached = services.tile_cache.get(*_cache_key(request, version))
    assert cached is not None and _value(cached, code) == 0.9
    # The communes' tile was not invalidated by the certification import.
    communes_key = _cache_key(TileRequest(CATALOG["communes"], high.z, high.x, high.y,
                                          "mvt"), layer_data_version(store, CATALOG["communes"]))
    assert services.tile_cache.get(*communes_key) == communes


def _hot_spot(store, name, code, province, area):
    store.apply_records([RecordWrite(
        kind="hot-spots", natural_key=f"{code}|{name}", commune_code=code,
        province_code=province, geometry=area, category="drugs",
        properties={"name": name, "category": "drugs", "status": "active"})],
        ImportBatch("hot-spots", f"{name}.xlsx", "2" * 64, "tester"))


def _names(data):
    decoded = mapbox_vector_tile.decode(data) if data else {}
    return {(f["properties"]["name"], f["properties"]["province_code"])
            for f in decoded.get("hot-spots", {"features": []})["features"]}


def test_stale_tiles_of_restricted_layers_keep_to_the_readers_area(make_app, loaded_url):
    from geoservice.api.tiles import _revalidation
    from geoservice.auth import create_key

    app = make_app(None, DATABASE_URL=loaded_url)
    client, store = app.test_client(), services_of(app).store
    communes = store.query("communes", FeatureQuery(limit=1000)).features
    first = {p["province_code"]: (fid, g) for fid, p, g in communes}
    (code08, shape08), (code11, _shape11) = first["08"], first["11"]
    point = shape08.representative_point()
    _hot_spot(store, "Điểm A", code08, "08", point.buffer(0.01))
    _hot_spot(store, "Điểm B", code11, "11", point.buffer(0.01).centroid.buffer(0.005))
    tile = mercantile.tile(point.x, point.y, 6)
    url = f"/tiles/hot-spots/{tile.z}/{tile.x}/{tile.y}.mvt"
    own = {"X-API-Key": create_key(store, "p", "viewer", "08")[1]}
    other = {"X-API-Key": create_key(store, "q", "viewer", "11")[1]}
    assert _names(client.get(url, headers=own).data) == {("Điểm A", "08")}
    assert _names(client.get(url, headers=other).data) == {("Điểm B", "11")}

    _hot_spot(store, "Điểm C", code08, "08", point.buffer(0.02))
    assert _names(client.get(url, headers=own).data) == {("Điểm A", "08")}  # stale
    assert _names(client.get(url, headers=other).data) == {("Điểm B", "11")}
    _revalidation(services_of(app)).join()
    assert _names(client.get(url, headers=own).data) == {("Điểm A", "08"), ("Điểm C", "08")}
    assert _names(client.get(url, headers=other).data) == {("Điểm B", "11")}
    assert client.get(url).status_code == 401  # no stale copy for a reader without access


def test_derived_values_keep_per_key_versions():
    from geoservice.store.derived import Derived

    derived, computed = Derived(), []

    def compute(value):
        computed.append(value)
        return value

    assert derived.get("communes", "b1", lambda: compute(1)) == 1
    assert derived.get("certification", "c1", lambda: compute(2)) == 2
    assert derived.get("certification", "c2", lambda: compute(3)) == 3  # a new version
    assert derived.get("communes", "b1", lambda: compute(4)) == 1  # kept across it
    assert derived.get("certification", "c2", lambda: compute(5)) == 3
    assert computed == [1, 2, 3]


def test_an_import_of_values_keeps_the_prepared_shapes_and_changes_the_values(loaded_url):
    """A certification import prepares the certification layer again with the shapes of
    its previous preparation (the same geometry objects, no new ones), new values only."""
    from geoservice.layers.sourcecache import SourceCache

    store, sources = open_store(loaded_url), SourceCache()
    layer = CATALOG["certification-rate"]
    code, province, _point = _commune(store)
    _certify(store, code, province, 7)
    before = sources.get(store, layer)
    _certify(store, code, province, 3)
    asked, query = [], store.query
    store.query = lambda collection, q: asked.append(q.geometry) or query(collection, q)
    after = sources.get(store, layer)
    assert asked and True not in asked  # the communes read again without geometries
    assert after is not before and after.version != before.version
    assert after.geometries is before.geometries and after._zooms is before._zooms
    field = "certification_rate_residential"
    assert before.properties[before.index_of[code]][field] == 0.7
    assert after.properties[after.index_of[code]][field] == 0.3

    z, x, y = 9, *mercantile.tile(*_point.coords[0], 9)[:2]
    assert after.shapes(z, x, y, 4096, 64)[0].tolist() == before.shapes(z, x, y, 4096,
                                                                          64)[0].tolist()
    store.close()
