"""Official boundary files: `import_boundaries`, `geoservice import-boundaries` and `POST
/imports/boundaries`, on files built here from the fixture's communes (Shapefile in VN-2000
TM-3 with and without .prj, zipped, GeoJSON, GeoPackage), on both backends."""

from __future__ import annotations

import io
import zipfile

import geopandas as gpd
import mapbox_vector_tile
import mercantile
import pytest
import shapely
from click.testing import CliRunner

from geoservice.auth import create_key
from geoservice.boundaries.load import load_boundaries
from geoservice.boundaries.official import import_boundaries
from geoservice.errors import ContentRejected, DataConflict, InvalidParameter
from geoservice.geodesy import to_metric
from geoservice.records.parsing.vn2000 import vn2000_crs
from geoservice.services import of as services_of
from geoservice.store import FeatureQuery, open_store
from geoservice.store.security import AuditQuery
from tests.conftest import NODE_MODULES
from tests.web.helpers import assert_error, decode


@pytest.fixture
def store(store_url, built):
    """A store of each backend with the fixture boundaries loaded (written to by the test)."""
    opened = open_store(store_url)
    load_boundaries(opened, built.gpkg)
    yield opened
    opened.close()


def communes_of(store, province: str) -> dict:
    page = store.query("communes", FeatureQuery(limit=10**6, province_code=province))
    return {fid: (props, geometry) for fid, props, geometry in page.features}


def frame_of(store, province: str, code="MA_XA", name="TEN_XA") -> gpd.GeoDataFrame:
    drawn = [(c, p, g) for c, (p, g) in communes_of(store, province).items() if g is not None]
    return gpd.GeoDataFrame({code: [c for c, _p, _g in drawn],
                             name: [p["full_name"] for _c, p, _g in drawn]},
                            geometry=[g for _c, _p, g in drawn], crs="EPSG:4326")


def shapefile(frame, folder, meridian: float, prj: bool = True, stem="xa"):
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_crs(vn2000_crs(central_meridian=meridian)).to_file(folder / f"{stem}.shp",
                                                                 encoding="UTF-8")
    if not prj:
        (folder / f"{stem}.prj").unlink()
    return folder / f"{stem}.shp"


def run(store, path, **options):
    return import_boundaries(store, path, "tester", node_modules=NODE_MODULES, **options)


def metres_apart(a, b) -> float:
    return float(shapely.hausdorff_distance(to_metric(a), to_metric(b)))


def test_tm3_shapefile_round_trip_lands_within_a_metre_and_keeps_the_previous_version(
        store, tmp_path):
    before = communes_of(store, "11")
    version_before = store.data_version()
    path = shapefile(frame_of(store, "11"), tmp_path / "dien-bien", 103.0)
    report = run(store, path)
    assert report.status == "applied", report.as_dict()
    assert "TM-3 103-00" in report.crs and report.units == len(frame_of(store, "11"))
    drawn = {c for c, (_p, g) in before.items() if g is not None}
    assert {m["code"] for m in report.missing} == set(before) - drawn
    assert report.border_changes == [] and report.errors == []
    after = communes_of(store, "11")
    worst = max(metres_apart(after[c][1], before[c][1]) for c in drawn)
    assert worst < 1.0, worst
    for code in drawn:
        props = after[code][0]
        assert props["boundary_source"] == "xa.shp"
        assert props["boundary_version"] == report.version_id
        assert props["border_neighbors"] == before[code][0]["border_neighbors"]
        assert props["border_source"] == "derived"
    other = store.get("communes", next(iter(communes_of(store, "08"))))
    assert other[1]["boundary_source"] == "demo" and "boundary_version" not in other[1]
    assert store.data_version() != version_before
    versions = store.boundary_versions()
    assert [(v["id"], v["filename"], v["unit_count"], v["loaded_by"]) for v in versions] == [
        (report.version_id, "xa.shp", len(drawn), "tester")]
    assert versions[0]["sha256"] == report.sha256 and len(report.sha256) == 64
    previous = {code: (props, geometry)
                for code, props, geometry in store.boundary_previous(report.version_id)}
    assert set(previous) == drawn
    assert all(previous[c][1].equals_exact(before[c][1], 1e-9) for c in drawn)
    assert previous[next(iter(drawn))][0] == before[next(iter(drawn))][0]
    assert any(i["kind"] == "boundaries" and i["id"] == report.version_id
               for i in store.imports())
    # a load computed before this one would undo it: refused, nothing written
    stale = {"kind": "boundaries", "collections": {"communes": []}, "expected": (None, None),
             "import": {"id": "x", "filename": "old.shp", "sha256": "0", "imported_by": "t",
                        "imported_at": "2026-01-01T00:00:00+00:00", "updated": 1}}
    with pytest.raises(DataConflict):
        store.write_boundaries(stale)
    assert len(communes_of(store, "11")) == len(before)
    assert [v["id"] for v in store.boundary_versions()] == [report.version_id]


@pytest.mark.parametrize(("province", "zones"), [("11", ["tm3:103"]),
                                                 ("08", ["tm3:106", "tm3:105.5"])])
def test_a_shapefile_without_prj_is_refused_with_the_provinces_zones_first(
        loaded_store, tmp_path, province, zones):
    store = loaded_store
    version = store.data_version()
    frame = frame_of(store, province)
    meridian = float(zones[0].split(":")[1])
    path = shapefile(frame, tmp_path, meridian, prj=False)
    with pytest.raises(ContentRejected) as refused:
        run(store, path)
    message = refused.value.message
    assert "no coordinate system" in message and "--crs" in message and "metres" in message
    listed = [line.split()[1] for line in message.splitlines() if line.startswith("  --crs")]
    assert listed[:len(zones)] == zones and listed[len(zones):] == ["utm48", "utm49"]
    first = next(line for line in message.splitlines() if line.startswith(f"  --crs {zones[0]} "))
    assert f"{len(frame)} of {len(frame)} units land" in first
    assert store.data_version() == version and store.boundary_versions() == []
    if len(zones) > 1:  # the neighbouring zone lands ~50 km off: refused, naming the right one
        with pytest.raises(ContentRejected) as wrong:
            run(store, path, crs=zones[1])
        assert "probably not that one" in wrong.value.message
        assert store.boundary_versions() == []
    assert run(store, path, crs=zones[0]).status == "applied"


@pytest.fixture
def loaded_store(loaded_db, tmp_path):
    """The embedded store with the fixture loaded, a copy of the session's."""
    from tests.conftest import _copy_database

    path = tmp_path / "store.sqlite"
    _copy_database(loaded_db, path)
    opened = open_store(f"sqlite:///{path}")
    yield opened
    opened.close()


def test_missing_extra_overlapping_and_invalid_units_are_reported(loaded_store, tmp_path):
    store = loaded_store
    frame = frame_of(store, "08")
    dropped, grown, broken = frame["MA_XA"].iloc[:3]
    frame = frame[frame["MA_XA"] != dropped].reset_index(drop=True)
    frame.loc[frame["MA_XA"] == grown, "geometry"] = shapely.buffer(
        frame.loc[frame["MA_XA"] == grown, "geometry"].iloc[0], 0.01)  # about 1 km
    minx, miny, maxx, maxy = frame.loc[frame["MA_XA"] == broken, "geometry"].iloc[0].bounds
    bowtie = shapely.Polygon([(minx, miny), (maxx, maxy), (maxx, miny), (minx, maxy)])
    frame.loc[frame["MA_XA"] == broken, "geometry"] = bowtie
    extra = gpd.GeoDataFrame({"MA_XA": ["99999"], "TEN_XA": ["Xã Không Có"]},
                             geometry=[shapely.box(105.0, 22.0, 105.01, 22.01)], crs="EPSG:4326")
    with_extra = gpd.GeoDataFrame(gpd.pd.concat([frame, extra], ignore_index=True),
                                  crs="EPSG:4326")
    with_extra.to_file(tmp_path / "tq.geojson", driver="GeoJSON")
    rejected = run(store, tmp_path / "tq.geojson")
    assert rejected.status == "rejected"
    assert [(e.row, e.column, e.value) for e in rejected.errors] == [
        (len(with_extra), "MA_XA", "99999")]
    assert "not a 2025 commune code" in rejected.errors[0].reason
    assert store.boundary_versions() == []
    frame.to_file(tmp_path / "tq.geojson", driver="GeoJSON")
    report = run(store, tmp_path / "tq.geojson")
    assert report.status == "applied", report.as_dict()
    assert dropped in {m["code"] for m in report.missing}
    assert any(grown in o["codes"] and o["km2"] > 0.001 for o in report.overlaps)
    assert [r["code"] for r in report.repaired] == [broken]
    repaired = store.get("communes", broken)[2]
    assert repaired.is_valid and repaired.area > 0
    assert store.get("communes", dropped)[1]["boundary_source"] == "demo"


def test_names_are_checked_with_their_diacritics_and_columns_can_be_named(loaded_store,
                                                                          tmp_path):
    store = loaded_store
    frame = frame_of(store, "08", code="MA_DVHC_2025", name="TEN")
    row = frame.index[frame["MA_DVHC_2025"] == "00715"][0]
    frame.loc[row, "TEN"] = "Xã Lũng Củ"
    frame.to_file(tmp_path / "tq.gpkg", driver="GPKG")
    with pytest.raises(ContentRejected) as refused:
        run(store, tmp_path / "tq.gpkg")
    assert "--column code=" in refused.value.message
    report = run(store, tmp_path / "tq.gpkg", columns={"code": "MA_DVHC_2025"})
    assert report.status == "rejected" and len(report.errors) == 1
    error = report.errors[0]
    assert (error.row, error.column, error.value) == (row + 1, "TEN", "Xã Lũng Củ")
    assert "'Xã Lũng Củ'" in error.reason and "'Xã Lũng Cú'" in error.reason
    assert store.boundary_versions() == []
    frame.loc[row, "TEN"] = "Lũng Cú"  # without the prefix, with its diacritics: the unit
    frame.to_file(tmp_path / "tq2.gpkg", driver="GPKG")
    assert run(store, tmp_path / "tq2.gpkg", columns={"code": "MA_DVHC_2025"},
               province="08").status == "applied"
    with pytest.raises(ContentRejected):
        run(store, tmp_path / "tq2.gpkg", province="99")


def _tile_area(client, code: str, tile) -> float:
    response = client.get(f"/tiles/communes/{tile.z}/{tile.x}/{tile.y}.mvt")
    assert response.status_code == 200
    layer = mapbox_vector_tile.decode(response.data)["communes"]
    shapes = [shapely.geometry.shape(f["geometry"]) for f in layer["features"]
              if f["properties"]["code"] == code]
    return sum(s.area for s in shapes)


def test_tiles_after_the_import_show_the_new_geometry(make_app, store_url, built, tmp_path):
    app = make_app(None, DATABASE_URL=store_url)  # z11: PostGIS makes this tile itself
    store, client = services_of(app).store, app.test_client()
    load_boundaries(store, built.gpkg)
    frame = frame_of(store, "08")
    code = "00715"
    original = frame.loc[frame["MA_XA"] == code, "geometry"].iloc[0]
    centre = original.centroid
    tile = mercantile.tile(centre.x, centre.y, 11)
    before = _tile_area(client, code, tile)
    assert before > 0
    frame.loc[frame["MA_XA"] == code, "geometry"] = shapely.affinity.scale(
        original, 0.5, 0.5, origin=centre)
    path = shapefile(frame, tmp_path, 106.0)
    assert run(store, path).status == "applied"
    after = _tile_area(client, code, tile)
    assert 0.15 < after / before < 0.35, (before, after)


def _cli(instance, *args):
    from geoservice.cli import main

    return CliRunner().invoke(main, list(args), env={
        "GEOSERVICE_INSTANCE_PATH": str(instance),
        "GEOSERVICE_NODE_MODULES": str(NODE_MODULES)}, catch_exceptions=False)


def test_the_command_refuses_without_crs_then_loads_and_audits(loaded_db, tmp_path):
    from tests.conftest import _copy_database

    instance = tmp_path / "instance"
    instance.mkdir()
    _copy_database(loaded_db, instance / "geoservice.sqlite")
    store = open_store(f"sqlite:///{instance / 'geoservice.sqlite'}")
    path = shapefile(frame_of(store, "11"), tmp_path / "files", 103.0, prj=False)
    refused = _cli(instance, "import-boundaries", str(path))
    assert refused.exit_code == 2
    assert "refused, nothing was written" in refused.output
    assert "--crs tm3:103  VN-2000 / TM-3 103°00'" in refused.output
    loaded = _cli(instance, "import-boundaries", str(path), "--crs", "tm3:103",
                  "--province", "11")
    assert loaded.exit_code == 0, loaded.output
    assert "loaded as boundary version" in loaded.output
    rows, _total = store.audit_rows(AuditQuery())
    actions = [(r["action"], r["detail"].get("kind")) for r in rows]
    assert actions[:2] == [("import", "boundaries"), ("import_rejected", "boundaries")]
    assert rows[0]["target"] == store.boundary_versions()[0]["id"]
    store.close()


def _zipped(path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for part in path.parent.glob(path.stem + ".*"):
            archive.write(part, part.name)
    return buffer.getvalue()


def test_http_upload_is_for_administrators_and_answers_the_report(make_app, loaded_db,
                                                                  tmp_path):
    app = make_app(loaded_db, NODE_MODULES=str(NODE_MODULES))
    store, client = services_of(app).store, app.test_client()
    admin = {"X-API-Key": create_key(store, "a", "admin", "national")[1]}
    editor = {"X-API-Key": create_key(store, "e", "editor", "national")[1]}
    path = shapefile(frame_of(store, "11"), tmp_path, 103.0, prj=False)
    data = _zipped(path)

    def post(headers, **form):
        return client.post("/imports/boundaries", headers=headers, content_type=
                           "multipart/form-data",
                           data={"file": (io.BytesIO(data), "dien-bien.zip"), **form})

    assert_error(decode(post(editor), 403), 403)
    refused = decode(post(admin), 422)
    assert_error(refused, 422, parameter="crs")
    assert "--crs tm3:103" in refused["description"]
    preview = decode(post(admin, crs="tm3:103", dry_run="1"), 200)
    assert preview["status"] == "preview" and store.boundary_versions() == []
    applied = decode(post(admin, crs="tm3:103"), 201)
    assert applied["status"] == "applied" and applied["kind"] == "boundaries"
    assert store.boundary_versions()[0]["id"] == applied["version_id"]
    assert_error(decode(post(admin, crs="tm3:103", bogus="1"), 400), 400)


def test_coordinate_systems_codes_and_zones():
    from geoservice.boundaries.official_crs import (
        TM3_MERIDIANS,
        coordinate_kind,
        crs_label,
        likely_zones,
        parse_crs,
    )
    from geoservice.boundaries.official_read import commune_code

    assert crs_label(parse_crs("tm3:105.5")) == crs_label(parse_crs("TM3:105°30'")) == \
        "VN-2000 / TM-3 105-30 (EPSG:9209)"
    assert crs_label(parse_crs("utm49")) == "VN-2000 / UTM zone 49N (EPSG:3406)"
    assert parse_crs("wgs84").to_epsg() == 4326
    with pytest.raises(InvalidParameter):
        parse_crs("105 rưỡi")
    with pytest.raises(InvalidParameter):
        parse_crs("tm3:105.3")  # not a quarter degree
    assert len(TM3_MERIDIANS) == 63 and set(TM3_MERIDIANS.values()) <= {
        103.0, 104.0, 104.5, 104.75, 105.0, 105.5, 105.75, 106.0, 106.25, 106.5, 107.0,
        107.25, 107.5, 107.75, 108.0, 108.25, 108.5}
    zones = likely_zones(["79", "77", "70"])  # Hồ Chí Minh City with Bà Rịa-Vũng Tàu …
    assert [z.crs_text for z in zones] == ["tm3:105.75", "tm3:107.75", "tm3:106.25",
                                           "utm48", "utm49"]
    assert coordinate_kind((102.1, 21.0, 103.4, 22.6)) == "degrees"
    assert coordinate_kind((411_729, 2_311_018, 561_759, 2_494_417)) == "metres"
    assert [commune_code(v) for v in (715, 715.0, "00715", " 26732 ", None, float("nan"))] \
        == ["00715", "00715", "00715", "26732", None, None]
