"""The store backends (embedded SQLite and PostGIS), on small synthetic collections."""

from __future__ import annotations

import threading

import pytest
import shapely

from geoservice.errors import ConfigError, DataConflict
from geoservice.store import FeatureQuery, FeatureRow, open_store
from geoservice.store.sqlite import SqliteStore

# An L-shaped polygon: its bounding box is [0, 10] x [0, 10] but it covers only two strips.
L_SHAPE = shapely.Polygon([(0, 0), (10, 0), (10, 1), (1, 1), (1, 10), (0, 10)])


def row(fid, geometry, province=None, neighbors=(), search="", **properties):
    return FeatureRow(id=fid, properties={"code": fid, **properties}, geometry=geometry,
                      province_code=province, neighbors=tuple(neighbors), search=search)


ROWS = [
    row("a1", shapely.box(5.2, 5.2, 5.8, 5.8), "08", ("CN",), "lung cu", name="Lũng Cú"),
    row("a2", L_SHAPE, "08", (), "dong van", name="Đồng Văn"),
    row("a3", shapely.box(5.5, 5.5, 7.0, 7.0), "11", ("CN", "LA"), "sin thau", name="Sín Thầu"),
    row("a4", shapely.box(20, 20, 21, 21), "11", ("LA",), "muong nhe", name="Mường Nhé"),
    row("a5", None, "11", (), "hung cuong", name="Hùng Cường"),
    row("a6", shapely.box(30, 30, 31, 31), "08", (), "lung cuong", name="Lũng Cường"),
]


@pytest.fixture
def store(store_url):
    store = open_store(store_url)
    store.url_for_tests = store_url
    yield store
    store.close()


@pytest.fixture
def filled(store):
    assert store.replace_collection("communes", ROWS) == len(ROWS)
    return store


def ids(page):
    return [fid for fid, _props, _geom in page.features]


def test_open_store_picks_the_backend_by_scheme(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'x.sqlite'}")
    assert isinstance(store, SqliteStore)
    assert (tmp_path / "x.sqlite").exists()
    store.close()
    with pytest.raises(ConfigError, match="unknown database URL scheme"):
        open_store("mysql://localhost/db")


def test_get_round_trips_properties_and_geometry(filled):
    fid, props, geom = filled.get("communes", "a1")
    assert fid == "a1"
    assert props == {"code": "a1", "name": "Lũng Cú"}
    assert geom.equals(shapely.box(5.2, 5.2, 5.8, 5.8))
    fid, props, geom = filled.get("communes", "a5")
    assert geom is None and props["name"] == "Hùng Cường"
    assert filled.get("communes", "nope") is None
    assert filled.get("other", "a1") is None


def test_replace_collection_replaces_and_leaves_other_collections_alone(filled):
    filled.replace_collection("provinces", [row("08", shapely.box(0, 0, 1, 1))])
    written = filled.replace_collection("communes", [row("b1", shapely.box(0, 0, 1, 1))])
    assert written == 1
    page = filled.query("communes", FeatureQuery(limit=100))
    assert ids(page) == ["b1"] and page.number_matched == 1
    assert filled.get("communes", "a1") is None
    assert filled.get("provinces", "08") is not None
    # The spatial index was replaced too: the old boxes are gone.
    page = filled.query("communes", FeatureQuery(limit=100, bbox=(5, 5, 8, 8)))
    assert ids(page) == []
    assert filled.extent("communes") == (1, (0.0, 0.0, 1.0, 1.0))


def test_replace_collection_is_atomic(filled):
    before = filled.query("communes", FeatureQuery(limit=100))

    def failing_rows():
        yield row("x1", shapely.box(5, 5, 6, 6))
        yield row("x2", shapely.box(5, 5, 6, 6))
        raise RuntimeError("the source broke half-way")

    with pytest.raises(RuntimeError, match="half-way"):
        filled.replace_collection("communes", failing_rows())
    after = filled.query("communes", FeatureQuery(limit=100))
    assert ids(after) == ids(before) == ["a1", "a2", "a3", "a4", "a5", "a6"]
    assert after.number_matched == len(ROWS)
    assert filled.get("communes", "x1") is None
    # The spatial index is intact as well.
    in_box = filled.query("communes", FeatureQuery(limit=100, bbox=(5, 5, 6, 6)))
    assert ids(in_box) == ["a1", "a3"]
    count, _bbox = filled.extent("communes")
    assert count == len(ROWS)
    # And a fresh connection (another store on the same file) sees the old contents.
    other = open_store(filled.url_for_tests)
    assert ids(other.query("communes", FeatureQuery(limit=100))) == ids(before)
    other.close()


def test_replace_collection_fails_on_duplicate_ids_without_damage(filled):
    with pytest.raises(DataConflict):
        filled.replace_collection("communes", [row("d", None), row("d", None)])
    assert filled.query("communes", FeatureQuery(limit=100)).number_matched == len(ROWS)


def test_bbox_query_is_exact(filled):
    # The box lies inside the L's bounding box but off the L itself.
    page = filled.query("communes", FeatureQuery(limit=100, bbox=(5, 5, 6, 6)))
    assert ids(page) == ["a1", "a3"]
    assert page.number_matched == 2
    # A box that crosses the L's strip does find it.
    page = filled.query("communes", FeatureQuery(limit=100, bbox=(4, 0.5, 6, 6)))
    assert ids(page) == ["a1", "a2", "a3"]
    # Features without geometry never match a bbox.
    page = filled.query("communes", FeatureQuery(limit=100, bbox=(-180, -90, 180, 90)))
    assert ids(page) == ["a1", "a2", "a3", "a4", "a6"]
    # Touching counts as intersecting.
    page = filled.query("communes", FeatureQuery(limit=100, bbox=(21, 21, 22, 22)))
    assert ids(page) == ["a4"]
    page = filled.query("communes", FeatureQuery(limit=100, bbox=(40, 40, 50, 50)))
    assert ids(page) == [] and page.number_matched == 0


def test_paging_is_ordered_by_id_and_complete(filled):
    full = ids(filled.query("communes", FeatureQuery(limit=100)))
    assert full == sorted(full) == ["a1", "a2", "a3", "a4", "a5", "a6"]
    for limit in (1, 2, 4):
        seen = []
        for offset in range(0, 8, limit):
            page = filled.query("communes", FeatureQuery(limit=limit, offset=offset))
            assert page.number_matched == len(ROWS)
            assert len(page.features) <= limit
            seen += ids(page)
        assert seen == full
    past_end = filled.query("communes", FeatureQuery(limit=5, offset=50))
    assert past_end.features == [] and past_end.number_matched == len(ROWS)


def test_paging_with_bbox(filled):
    query = dict(bbox=(-180, -90, 180, 90))
    pages = [filled.query("communes", FeatureQuery(limit=2, offset=o, **query))
             for o in (0, 2, 4)]
    assert [ids(p) for p in pages] == [["a1", "a2"], ["a3", "a4"], ["a6"]]
    assert {p.number_matched for p in pages} == {5}


def test_filters(filled):
    def q(**kw):
        return ids(filled.query("communes", FeatureQuery(limit=100, **kw)))

    assert q(province_code="08") == ["a1", "a2", "a6"]
    assert q(province_code="11") == ["a3", "a4", "a5"]
    assert q(province_code="99") == []
    assert q(border_neighbor="CN") == ["a1", "a3"]
    assert q(border_neighbor="LA") == ["a3", "a4"]
    assert q(border_neighbor="KH") == []
    assert q(border_neighbor="CN", province_code="11") == ["a3"]
    assert q(q="lung cu") == ["a1", "a6"]  # word prefix: "lung cu" starts "lung cuong"
    assert q(q="lung cuong") == ["a6"]
    assert q(q="cu") == ["a1", "a5", "a6"], "'cu' starts 'cu', 'cuong'"
    assert q(q="ung") == [], "matches start at word boundaries"
    assert q(q="ong") == []
    assert q(q="hung") == ["a5"]
    assert q(q="thau", province_code="11", bbox=(5, 5, 6, 6)) == ["a3"]
    assert q(q="lung", bbox=(5, 5, 6, 6)) == ["a1"]


def test_query_returns_decoded_features(filled):
    page = filled.query("communes", FeatureQuery(limit=1, province_code="11",
                                                 border_neighbor="CN"))
    ((fid, props, geom),) = page.features
    assert fid == "a3" and props["name"] == "Sín Thầu"
    assert geom.equals(shapely.box(5.5, 5.5, 7.0, 7.0))


def test_extent(filled, store):
    count, bbox = filled.extent("communes")
    assert count == len(ROWS)
    minx, miny, maxx, maxy = bbox
    # The R*Tree keeps 32-bit floats, rounded outwards: never smaller than the data.
    assert minx <= 0 and miny <= 0 and maxx >= 31 and maxy >= 31
    assert bbox == pytest.approx((0, 0, 31, 31), abs=1e-4)
    assert store.extent("nothing") == (0, None)
    store.replace_collection("nulls", [row("n1", None), row("n2", None)])
    assert store.extent("nulls") == (2, None)
    odd = shapely.box(105.123456, 20.654321, 105.987654, 23.392696)
    store.replace_collection("odd", [row("o", odd)])
    count, bbox = store.extent("odd")
    assert count == 1
    assert bbox[0] <= odd.bounds[0] and bbox[1] <= odd.bounds[1]
    assert bbox[2] >= odd.bounds[2] and bbox[3] >= odd.bounds[3]
    assert bbox == pytest.approx(odd.bounds, abs=1e-4)


def test_meta(store):
    assert store.get_meta("boundaries_loaded_at") is None
    store.set_meta("boundaries_loaded_at", "2026-01-01T00:00:00+00:00")
    store.set_meta("note", "Lũng Cú")
    assert store.get_meta("boundaries_loaded_at") == "2026-01-01T00:00:00+00:00"
    store.set_meta("note", "replaced")
    assert store.get_meta("note") == "replaced"
    other = open_store(store.url_for_tests)
    assert other.get_meta("boundaries_loaded_at") == "2026-01-01T00:00:00+00:00"
    other.close()


def test_data_version_and_keys_follow_changes_made_elsewhere_at_once(store):
    """Every tile asks for the data version and every keyed request for its key: what a
    store keeps of them must never outlive a change made by another process."""
    from geoservice.auth import create_key, principal_for
    from geoservice.errors import Unauthorized

    store.set_meta("boundaries_loaded_at", "2026-01-01T00:00:00+00:00")
    _row, key = create_key(store, "reader", "viewer", "08")
    before = store.data_version()
    assert principal_for(store, {"X-API-Key": key}).province_code == "08"
    assert store.data_version() == before
    other = open_store(store.url_for_tests)  # another connection: another process
    other.set_meta("boundaries_loaded_at", "2026-02-01T00:00:00+00:00")
    assert other.revoke_api_key(key.split(".")[0].removeprefix("gsk_"))
    other.close()
    assert store.data_version() != before
    with pytest.raises(Unauthorized):
        principal_for(store, {"X-API-Key": key})


def test_each_thread_has_its_own_connection(filled):
    results = {}

    def worker():
        results["ids"] = ids(filled.query("communes", FeatureQuery(limit=100)))
        results["get"] = filled.get("communes", "a4")[1]["name"]
        filled.close()

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(10)
    assert results == {"ids": ["a1", "a2", "a3", "a4", "a5", "a6"], "get": "Mường Nhé"}
    # This thread's connection still works.
    assert filled.get("communes", "a1") is not None


def test_load_boundaries_fills_every_collection(built, tmp_path):
    from geoservice.boundaries.load import SOURCES, load_boundaries

    store = open_store(f"sqlite:///{tmp_path / 'loaded.sqlite'}")
    counts = load_boundaries(store, built.gpkg)
    assert set(counts) == set(SOURCES)
    assert counts["communes"] == len(built.layers["communes"])
    assert counts["legacy-communes"] == len(built.layers["legacy_communes"])
    assert counts["border-lines"] == 2 and counts["provinces"] == 2
    assert store.get_meta("boundaries_loaded_at")
    assert store.get_meta("boundaries_source") == str(built.gpkg)
    _fid, props, geom = store.get("communes", "00715")
    assert props["name"] == "Lũng Cú" and props["border_neighbors"] == ["CN"]
    assert props["province_name"] == "Tỉnh Tuyên Quang"
    assert "lat" not in props and "geometry" not in props
    assert geom.geom_type == "MultiPolygon" and geom.is_valid
    lung_cu = store.query("communes", FeatureQuery(limit=10, q="lung cu"))
    assert ids(lung_cu) == ["00715"]
    facing_la = store.query("communes", FeatureQuery(limit=1000, border_neighbor="LA"))
    assert facing_la.number_matched >= 5
    assert all(p["province_code"] == "11" for _f, p, _g in facing_la.features)
    provinces_cn = store.query("provinces", FeatureQuery(limit=10, border_neighbor="CN"))
    assert ids(provinces_cn) == ["08", "11"]
    # Loading again replaces rather than duplicates.
    assert load_boundaries(store, built.gpkg) == counts
    assert store.extent("communes")[0] == counts["communes"]
    store.close()
