"""The official border-commune list overrides the derived one (`border_source`), on both
backends, from the command line and over HTTP; a boundary import afterwards keeps it."""

from __future__ import annotations

import io

import openpyxl
import pytest
from click.testing import CliRunner

from geoservice.auth import create_key
from geoservice.boundaries.designation import import_designation
from geoservice.boundaries.load import load_boundaries
from geoservice.boundaries.official import import_boundaries
from geoservice.services import of as services_of
from geoservice.store import FeatureQuery, open_store
from tests.boundaries.test_official_boundaries import frame_of, shapefile
from tests.conftest import NODE_MODULES, _copy_database
from tests.web.helpers import assert_error, decode


@pytest.fixture
def store(store_url, built):
    opened = open_store(store_url)
    load_boundaries(opened, built.gpkg)
    yield opened
    opened.close()


def communes(store, province=None) -> dict:
    page = store.query("communes", FeatureQuery(limit=10**6, province_code=province))
    return {fid: props for fid, props, _geometry in page.features}


def chosen(store):
    """Two derived border communes of Tuyên Quang (one kept, one left off the list) and an
    interior one the list designates."""
    units = communes(store, "08")
    border = sorted(c for c, p in units.items() if p["border_neighbors"] == ["CN"])
    interior = sorted(c for c, p in units.items() if not p["border_neighbors"])
    return units, border[0], border[1], interior[0]


def designation_csv(units, kept, inner) -> bytes:
    return ("Mã xã,Xã,Tỉnh,Nước giáp biên,Căn cứ\n"
            f"{kept},,,Trung Quốc,QĐ 1/2025\n"
            f",{units[inner]['name']},Tuyên Quang,\"CN, Lào\",\n").encode()


def test_the_official_list_overrides_the_derived_border_communes(store):
    units, kept, left_off, inner = chosen(store)
    others = communes(store, "11")
    version = store.data_version()
    report = import_designation(store, designation_csv(units, kept, inner), "bien-gioi.csv",
                                "tester")
    assert report.status == "applied", report.as_dict()
    assert report.provinces == ["08"] and report.designated == 2
    assert report.not_derived == [inner] and left_off in report.not_listed
    after = communes(store)
    assert after[kept]["border_source"] == "official"
    assert after[kept]["border_neighbors"] == ["CN"]
    assert after[kept]["border_designation_reference"] == "QĐ 1/2025"
    assert after[inner]["border_neighbors"] == ["CN", "LA"]
    assert after[inner]["border_neighbors_derived"] == []
    assert after[left_off]["border_neighbors"] == []
    assert after[left_off]["border_neighbors_derived"] == ["CN"]
    assert after[left_off]["border_source"] == "official"
    for code, props in others.items():  # outside the list's province: derived, unchanged
        assert after[code]["border_source"] == "derived"
        assert after[code]["border_neighbors"] == props["border_neighbors"]
    facing = store.query("communes", FeatureQuery(limit=1000, border_neighbor="LA",
                                                  province_code="08"))
    assert [fid for fid, _p, _g in facing.features] == [inner]
    province = store.get("provinces", "08")[1]
    assert province["border_neighbors"] == ["CN", "LA"]
    assert store.data_version() != version
    stored = store.border_designations()
    assert stored[kept]["neighbors"] == ["CN"] and stored[left_off]["neighbors"] == []
    assert len(stored) == len(units)


def test_a_boundary_import_afterwards_keeps_the_official_list(loaded_store, tmp_path):
    store = loaded_store
    units, kept, left_off, inner = chosen(store)
    import_designation(store, designation_csv(units, kept, inner), "bien-gioi.csv", "tester")
    path = shapefile(frame_of(store, "08"), tmp_path, 106.0)
    report = import_boundaries(store, path, "tester", node_modules=NODE_MODULES)
    assert report.status == "applied"
    after = communes(store, "08")
    assert after[inner]["border_neighbors"] == ["CN", "LA"]
    assert after[left_off]["border_neighbors"] == [] and after[left_off]["border_source"] \
        == "official"
    assert after[left_off]["border_neighbors_derived"] == ["CN"]


@pytest.fixture
def loaded_store(loaded_db, tmp_path):
    path = tmp_path / "store.sqlite"
    _copy_database(loaded_db, path)
    opened = open_store(f"sqlite:///{path}")
    yield opened
    opened.close()


def test_bad_rows_are_reported_and_nothing_is_written(loaded_store):
    store = loaded_store
    units, kept, _left_off, inner = chosen(store)
    version = store.data_version()
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Mã xã", "Nước giáp biên"])
    sheet.append([kept, "Thái Lan"])
    sheet.append(["99999", "CN"])
    sheet.append([inner, ""])
    sheet.append([kept, "CN"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = import_designation(store, buffer.getvalue(), "bien-gioi.xlsx", "tester")
    assert report.status == "rejected"
    assert [(e.row, e.column) for e in report.errors] == [
        (2, "Nước giáp biên"), (3, "Mã xã"), (4, "Nước giáp biên")]
    assert "Thái Lan" in report.errors[0].reason
    assert store.data_version() == version and store.border_designations() == {}
    assert all(p["border_neighbors"] == units[c]["border_neighbors"]
               for c, p in communes(store, "08").items())


def test_command_and_http_forms(loaded_db, make_app, tmp_path):
    from geoservice.cli import main

    instance = tmp_path / "instance"
    instance.mkdir()
    _copy_database(loaded_db, instance / "geoservice.sqlite")
    store = open_store(f"sqlite:///{instance / 'geoservice.sqlite'}")
    units, kept, _left_off, inner = chosen(store)
    path = tmp_path / "bien-gioi.csv"
    path.write_bytes(designation_csv(units, kept, inner))
    result = CliRunner().invoke(main, ["import", "border-designation", str(path), "--dry-run"],
                                env={"GEOSERVICE_INSTANCE_PATH": str(instance)},
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "would designate 2 border communes in province(s) 08" in result.output
    assert store.border_designations() == {}
    result = CliRunner().invoke(main, ["import", "border-designation", str(path)],
                                env={"GEOSERVICE_INSTANCE_PATH": str(instance)},
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"official but not derived: {inner}" in result.output
    assert store.get("communes", inner)[1]["border_source"] == "official"
    store.close()

    app = make_app(loaded_db)
    client, app_store = app.test_client(), services_of(app).store
    admin = {"X-API-Key": create_key(app_store, "a", "admin", "national")[1]}
    editor = {"X-API-Key": create_key(app_store, "e", "editor", "08")[1]}

    def post(headers, text: bytes):
        return client.post("/imports/border-designation", headers=headers,
                           content_type="multipart/form-data",
                           data={"file": (io.BytesIO(text), "bien-gioi.csv")})

    assert_error(decode(post(editor, path.read_bytes()), 403), 403)
    rejected = decode(post(admin, b"Ma xa,Nuoc giap bien\n99999,CN\n"), 422)
    assert rejected["status"] == "rejected" and rejected["errors"][0]["row"] == 2
    body = decode(post(admin, path.read_bytes()), 201)
    assert body["status"] == "applied" and body["designated"] == 2
    feature = decode(client.get(f"/collections/communes/items/{inner}"),
                     content_type="application/geo+json")
    assert feature["properties"]["border_source"] == "official"
    assert feature["properties"]["border_neighbors"] == ["CN", "LA"]


def test_the_list_orders_neighbours_as_the_derivation_does():
    from geoservice.boundaries import border, designation

    assert designation.NEIGHBOURS == tuple(border.NEIGHBOURS.values())
    assert {designation.COUNTRY_NAMES[k] for k in ("trungquoc", "lao", "campuchia",
                                                    "china", "laos", "cambodia")} == \
        {"CN", "LA", "KH"}
