"""The planted hot areas of the synthetic demo data, seen through the analyses endpoints and
the catalogue's analysis layers: density tiles, the GeoTIFF, Gi* tiles (MVT and PNG in the
legend's colours), emerging hot spots per province (JSON and CSV) and the border view;
and Gi* on both store backends."""

from __future__ import annotations

import csv
import io
import math

import mapbox_vector_tile
import numpy as np
import rasterio
import shapely

from geoservice.api import analyses as api
from geoservice.hotspots import emerging
from geoservice.hotspots.scope import neighbours_of
from geoservice.indicators.compute import records_frame
from geoservice.services import of as services_of
from geoservice.store import FeatureQuery
from geoservice.store.records import ImportBatch, RecordWrite
from tests.analysis.test_analyses_api import (
    CATALOG,
    H1,
    demo_app,  # noqa: F401 - fixture
    key,
    nearest_area_km,
    pixels,
    run_url,
    tile_of,
    wait,
)
from tests.web.helpers import decode
from tests.web.test_tiles import demo_db  # noqa: F401 - the shared session fixture


def ready(client, url, headers):
    """GET a result endpoint, following its run when it answers 202 first."""
    first = client.get(url, headers=headers)
    if first.status_code == 202:
        wait(client, run_url(first), headers)
        return client.get(url, headers=headers)
    return first


def test_density_tiles_legend_and_geotiff_show_the_planted_area(demo_app):  # noqa: F811
    client, national = demo_app.test_client(), key(demo_app)
    query = "province_code=08&bandwidth_km=2&cell_km=0.5"
    (z, x, y), (px, py) = tile_of(H1.lon, H1.lat, 11)
    first = client.get(f"/analyses/density/{z}/{x}/{y}.png?{query}", headers=national)
    assert first.status_code == 200 and first.headers["X-Analysis-Status"] != "current"
    assert not pixels(first.data)[..., 3].any()  # nothing yet, at once
    wait(client, run_url(first), national)
    tile = client.get(f"/analyses/density/{z}/{x}/{y}.png?{query}", headers=national)
    assert tile.headers["X-Analysis-Status"] == "current" and tile.headers["ETag"]
    legend = decode(client.get(f"/analyses/density/legend.json?{query}&lang=en",
                               headers=national))
    colours = [e["color"] for e in legend["entries"]]
    image = pixels(tile.data)
    at = image[py, px]
    assert at[3] > 0 and "#{:02x}{:02x}{:02x}".format(*at[:3]) in colours[-2:]
    # Outside province 08 (the scope) the surface is cut off: transparent.
    (z2, x2, y2), _pixel = tile_of(106.0, 21.0, 11)
    far = client.get(f"/analyses/density/{z2}/{x2}/{y2}.png?{query}", headers=national)
    assert not pixels(far.data)[..., 3].any()
    assert client.get(f"/analyses/density/legend.png?{query}",
                      headers=national).mimetype == "image/png"
    geotiff = client.get(f"/analyses/density.tif?{query}", headers=national)
    assert geotiff.status_code == 200 and geotiff.mimetype == "image/tiff"
    with rasterio.MemoryFile(geotiff.data) as memory, memory.open() as surface:
        assert surface.crs.to_epsg() == 32648 and surface.transform.a == 500.0
        assert surface.units[0] == "incidents/km²" and surface.tags()["PROVINCE"] == "08"
        assert surface.tags()["NOTICE"]
        peak = surface.read(1)
        row, col = divmod(int(peak.argmax()), peak.shape[1])
        from pyproj import Transformer

        lon, lat = Transformer.from_crs(32648, 4326, always_xy=True).transform(
            *surface.xy(row, col))
    assert nearest_area_km(lon, lat) < 5


def test_gistar_hex_layer_tiles_carry_bins_in_legend_colours(demo_app):  # noqa: F811
    client, national = demo_app.test_client(), key(demo_app)
    (z, x, y), (px, py) = tile_of(H1.lon, H1.lat, 10)
    url = f"/tiles/hotspots-gistar-hex/{z}/{x}/{y}"
    pending = client.get(f"{url}.mvt", headers=national)
    assert pending.data == b"" and pending.headers["Retry-After"]
    wait(client, run_url(pending), national)
    decoded = mapbox_vector_tile.decode(client.get(f"{url}.mvt", headers=national).data)
    features = decoded["hotspots-gistar-hex"]["features"]
    assert features and all("gi_bin" in f["properties"] for f in features)
    point = shapely.Point(px * 16, (256 - py) * 16)  # tile units, y up as decoded
    under = [f for f in features if shapely.geometry.shape(f["geometry"]).contains(point)]
    assert len(under) == 1 and under[0]["properties"]["gi_bin"] == 3
    layer = CATALOG["hotspots-gistar-hex"]
    fill = layer.symbol_for({"gi_bin": 3}).fill
    image = pixels(client.get(f"{url}.png", headers=national).data)
    assert tuple(int(v) for v in image[py, px]) == fill
    legend = decode(client.get("/tiles/hotspots-gistar-hex/legend.json?lang=en",
                               headers=national))
    assert legend["entries"][0]["value"] == 3 and legend["entries"][0]["fill"].startswith(
        f"rgba({fill[0]}, {fill[1]}, {fill[2]}")
    assert [e["value"] for e in legend["entries"]] == [3, 2, 1, 0, -1, -2, -3]
    tilejson = decode(client.get("/tiles/hotspots-gistar-hex.json?size_km=4&category=drugs",
                                 headers=national))
    assert tilejson["tiles"][0].endswith(".mvt?size_km=4&category=drugs")
    assert tilejson["vector_layers"][0]["fields"]["gi_bin"] == "Number"
    assert "_area" not in tilejson["geoservice:params"]
    assert client.get(f"{url}.mvt").status_code == 401
    assert decode(client.get(f"{url}.mvt?zones=communes", headers=national),
                  400)["parameter"] == "zones"  # the layer's own setting


def test_emerging_table_per_province_as_json_and_csv(demo_app):  # noqa: F811
    client, national = demo_app.test_client(), key(demo_app)
    body = decode(ready(client, "/analyses/emerging/table", national))
    assert body["step"] == "quarter" and len(body["steps"]) == 16
    assert body["patterns"] == list(emerging.PATTERNS) and body["notice"]
    zones = decode(client.get("/analyses/emerging/zones.geojson", headers=national),
                   content_type="application/geo+json")
    import pandas as pd

    frame = pd.DataFrame([f["properties"] for f in zones["features"]])
    expected = emerging.province_table(frame).set_index("province_code")
    assert {row["province_code"] for row in body["rows"]} == {"08", "11"}
    for row in body["rows"]:
        assert row["zones"] == sum(row[p] for p in emerging.PATTERNS)
        assert row["zones"] == expected.loc[row["province_code"], "zones"]
        assert row["province_name"]
    # The planted communes are hot in some quarters (about 7 planted incidents a quarter):
    # a hot pattern at half of them or more, where few communes have one at all. (Since the
    # geometry no longer follows implausible reference areas, the two small urban wards
    # 00694 and 03127 come out without a pattern; Lũng Cú and Sín Thầu stay hot.)
    planted = frame.set_index("zone_id").loc[["00715", "00694", "03158", "03127"]]
    assert planted["pattern"].str.endswith("_hot").sum() >= 2, planted["pattern"]
    assert planted.loc[["00715", "03158"], "pattern"].str.endswith("_hot").all()
    assert frame["pattern"].str.endswith("_hot").mean() < 0.2
    table = client.get("/analyses/emerging/table?format=csv", headers=national)
    assert table.mimetype == "text/csv" and table.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(table.data.decode("utf-8-sig"))))
    assert [r["province_code"] for r in rows] == [r["province_code"] for r in body["rows"]]
    assert int(rows[0]["zones"]) == body["rows"][0]["zones"] and rows[0]["notice"]


def test_csv_cells_that_look_like_formulas_are_neutralised():
    data = api.csv_bytes([{"name": "=HYPERLINK(1)", "note": "+1", "at": "@x", "minus": "-2",
                           "count": -3, "plain": "Lũng Cú"}],
                         ["name", "note", "at", "minus", "count", "plain"])
    row = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))[1]
    assert row == ["'=HYPERLINK(1)", "'+1", "'@x", "'-2", "-3", "Lũng Cú"]


def test_border_view_by_neighbour_and_band(demo_app):  # noqa: F811
    client, national = demo_app.test_client(), key(demo_app)
    store = services_of(demo_app).store
    body = decode(ready(client, "/analyses/border/table?year=2024", national))
    communes = store.query("communes", FeatureQuery(limit=10**6)).features
    facing = {code: {fid for fid, props, _g in communes
                     if code in neighbours_of(props.get("border_neighbors"))}
              for code in ("CN", "LA")}
    incidents = records_frame(store, "incidents", year=2024)
    rows = {(r["group"], r["value"]): r for r in body["rows"]}
    for code, members in facing.items():
        row = rows[("neighbor", code)]
        assert row["communes"] == len(members)
        assert row["incidents"] == int(incidents["commune_code"].isin(members).sum())
        assert row["per_100_km2"] == round(100 * row["incidents"] / row["area_km2"], 3)
    assert rows[("neighbor", "KH")]["communes"] == 0  # the fixture faces China and Laos
    bands = [r for r in body["rows"] if r["group"] == "band"]
    assert sum(r["incidents"] for r in bands) == rows[("all", "all")]["incidents"] == \
        len(incidents)
    # Gi* restricted to the communes facing Laos: every zone faces Laos.
    zones = decode(ready(client, "/analyses/gistar/zones.geojson?border_neighbor=LA",
                         national), content_type="application/geo+json")
    assert {f["properties"]["zone_id"] for f in zones["features"]} == facing["LA"]
    assert all("LA" in f["properties"]["border_neighbors"] for f in zones["features"])
    csv_rows = list(csv.DictReader(io.StringIO(client.get(
        "/analyses/border/table?year=2024&format=csv", headers=national).data.decode(
        "utf-8-sig"))))
    assert len(csv_rows) == len(body["rows"]) and csv_rows[0]["group"] == "all"


def test_gistar_finds_a_planted_cluster_on_both_backends(app):
    """The fixture boundaries on SQLite and PostGIS, with incidents written here: one at
    every commune and a dense cluster at Lũng Cú."""
    store = services_of(app).store
    communes = store.query("communes", FeatureQuery(limit=10**6)).features
    rng = np.random.default_rng(9)
    records = []
    for fid, props, geometry in communes:
        point = geometry.representative_point()
        records.append((fid, props["province_code"], point.x, point.y))
    for _ in range(150):
        records.append((H1.commune_code, "08", H1.lon + rng.normal(0, 0.007),
                        H1.lat + rng.normal(0, 0.007)))
    store.apply_records([RecordWrite(
        kind="incidents", natural_key=f"T-{i}", commune_code=code, province_code=province,
        year=2024, category="drugs",
        properties={"ref": f"T-{i}", "date": "2024-05-01", "category": "drugs",
                    "lon": round(lon, 6), "lat": round(lat, 6)},
        geometry=shapely.Point(lon, lat)) for i, (code, province, lon, lat) in
        enumerate(records)], ImportBatch("incidents", "t.csv", "6" * 64, "tester"))
    client, national = app.test_client(), key(app)
    started = client.post("/analyses/gistar", json={"zones": "hex", "size_km": 4},
                          headers=national)
    doc, _seen = wait(client, run_url(started), national)
    assert doc["result"]["incidents"] == len(records)
    zones = decode(client.get("/analyses/gistar/zones.geojson?zones=hex&size_km=4",
                              headers=national), content_type="application/geo+json")
    hot = [f for f in zones["features"] if f["properties"]["gi_bin"] > 0]
    assert hot
    for feature in hot:  # every hot zone is at the planted cluster, none elsewhere
        centre = shapely.geometry.shape(feature["geometry"]).centroid
        assert math.dist((centre.x, centre.y), (H1.lon, H1.lat)) * 111 < 12
