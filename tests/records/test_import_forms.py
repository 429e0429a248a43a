"""Imports of officials' own forms on both backends: the wide form through the whole
import, dry runs that store nothing, the area rule on a province editor's points, merged
pre-reform communes, and the command line's --column and --dry-run."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from geoservice.boundaries.load import load_boundaries
from geoservice.cli import main
from geoservice.errors import InvalidParameter
from geoservice.records.importer import column_mapping, run_import
from geoservice.services import of as services_of
from geoservice.store import open_store
from geoservice.store.records import RecordQuery
from tests.records.test_forms import FORM_ROWS, title_block_form
from tests.records.test_parsing import csv_bytes

HANOI = "105.8500,21.0300"  # central Hà Nội: far outside Tuyên Quang (08)
INCIDENTS = ("Mã vụ việc,Xã,Tỉnh,Ngày,Loại,Kinh độ,Vĩ độ\n"
             "TQ-1,Lũng Cú,Tuyên Quang,05/03/2024,ma tuý,105.31,23.33\n"
             f"TQ-2,Lũng Cú,Tuyên Quang,06/03/2024,ma tuý,{HANOI}\n")


@pytest.fixture
def store(store_url, built):
    store = open_store(store_url)
    load_boundaries(store, built.gpkg)
    yield store
    store.close()


def counts(store):
    return {kind: store.query_records(kind, RecordQuery(limit=1)).number_matched
            for kind in ("certification", "incidents", "awareness")} | {
        "imports": len(store.imports())}


def test_the_wide_form_imports_as_long_records(store):
    report = run_import(store, "certification", title_block_form(FORM_ROWS),
                        "bao-cao-2024.xlsx", "tester")
    assert report.status == "applied", report.errors
    assert report.outcome["inserted"] == 5 and report.rows == 5
    assert any("Tổng cộng" in n for n in report.notes)
    page = store.query_records("certification", RecordQuery(commune_code="00733", limit=10))
    assert sorted((p["group"], p["reviewed"], p["certified"], p["source_row"])
                  for _i, p, _g in page.features) == [("commune", 1, 0, 7),
                                                      ("residential", 29, 29, 7)]


def test_dry_run_lists_rows_and_stores_nothing(store):
    before = counts(store)
    report = run_import(store, "certification", title_block_form(FORM_ROWS), "a.xlsx",
                        "tester", dry_run=True)
    assert report.status == "preview" and report.outcome == {}
    assert counts(store) == before
    preview = report.preview
    assert preview["would_write"] == {"insert": 5, "update": 0, "unchanged": 0}
    assert [(r["row"], r["commune_code"], r["commune"], r["values"]["group"])
            for r in preview["rows"]][:2] == [(6, "00715", "Xã Lũng Cú", "residential"),
                                              (6, "00715", "Xã Lũng Cú", "commune")]
    run_import(store, "certification", title_block_form(FORM_ROWS), "a.xlsx", "tester")
    changed = [list(r) for r in FORM_ROWS]
    changed[0][5] = 26
    again = run_import(store, "certification", title_block_form(changed), "a.xlsx",
                       "tester", dry_run=True)
    assert again.preview["would_write"] == {"insert": 0, "update": 1, "unchanged": 4}
    assert again.as_dict()["dry_run"] is True
    assert counts(store)["certification"] == 5 and counts(store)["imports"] == 1


def test_province_editor_point_outside_the_province_is_a_row_error(store):
    before = counts(store)
    report = run_import(store, "incidents", INCIDENTS.encode(), "vu-viec.csv", "tq",
                        area="08")
    assert report.status == "rejected"
    assert [(e.row, e.column, e.value) for e in report.errors] == [
        (3, "Kinh độ", "105.850000, 21.030000")]
    assert "km outside province 08 (Tỉnh Tuyên Quang), your area" in report.errors[0].reason
    assert counts(store) == before
    national = run_import(store, "incidents", INCIDENTS.encode(), "vu-viec.csv", "hq")
    assert national.status == "applied"  # a national editor is warned, not refused
    assert any(w.startswith("row 3: the point lies") for w in national.warnings)


def test_point_just_outside_the_province_is_still_accepted(store):
    text = ("Mã vụ việc,Mã xã,Ngày,Loại,Kinh độ,Vĩ độ\n"
            "TQ-1,00715,05/03/2024,ma tuý,105.31,23.33\n")
    assert run_import(store, "incidents", text.encode(), "a.csv", "tq",
                      area="08").status == "applied"


def test_two_merged_pre_reform_communes_are_told_to_be_added_up(store):
    rows = [["Tỉnh", "Huyện", "Xã", "Năm", "Nhóm", "Số đánh giá", "Số đạt"],
            ["Hà Giang", "Đồng Văn", "Lũng Cú", "2024", "Khu dân cư", "9", "8"],
            ["Hà Giang", "Đồng Văn", "Má Lé", "2024", "Khu dân cư", "7", "7"]]
    report = run_import(store, "certification", csv_bytes(rows), "a.csv", "tester")
    assert report.status == "rejected"
    (error,) = report.errors
    assert (error.row, error.column, error.value) == (3, "Xã", "Má Lé, Đồng Văn, Hà Giang")
    assert "rows 2 and 3 name two units" in error.reason
    assert "merged into one 2025 unit, 00715 Xã Lũng Cú" in error.reason
    assert error.suggestion == "add the counts of rows 2 and 3 up into one row for 00715 Xã Lũng Cú"


def test_old_and_new_name_of_one_commune_stay_a_plain_duplicate(store):
    rows = [["Tỉnh", "Huyện", "Xã", "Năm", "Nhóm", "Số đánh giá", "Số đạt"],
            ["Hà Giang", "Đồng Văn", "Lũng Cú", "2024", "Khu dân cư", "9", "8"],
            ["Tuyên Quang", "", "Xã Lũng Cú", "2024", "Khu dân cư", "9", "8"]]
    report = run_import(store, "certification", csv_bytes(rows), "a.csv", "tester")
    assert [e.reason for e in report.errors] == [
        "the same record as row 2 (same unit and key fields)"]


def test_column_mapping_is_checked():
    assert column_mapping(['reviewed="Số được xét"', "certified=SL đạt"]) == {
        "reviewed": "Số được xét", "certified": "SL đạt"}
    with pytest.raises(InvalidParameter) as caught:
        column_mapping(["reviewed"])
    assert caught.value.parameter == "column"


def test_unknown_field_in_the_mapping_refuses_the_file(store):
    with pytest.raises(InvalidParameter) as caught:
        run_import(store, "certification", b"a,b\n1,2\n", "a.csv", "t",
                   columns={"bananas": "a"})
    assert "no field 'bananas'" in caught.value.message


CLI_FILE = [["Mã xã", "Năm", "Nhóm", "SL xét duyệt", "SL đạt yêu cầu"],
            ["00715", "2024", "Khu dân cư", "28", "25"],
            ["00733", "2024", "Khu dân cư", "30", "29"]]


def test_cli_column_and_dry_run(make_app, loaded_db, tmp_path):
    app = make_app(loaded_db)
    store = services_of(app).store
    path = tmp_path / "ket-qua.csv"
    path.write_bytes(csv_bytes(CLI_FILE))
    env = {"GEOSERVICE_INSTANCE_PATH": str(services_of(app).instance_path)}
    runner = CliRunner(env=env)
    refused = runner.invoke(main, ["import", "certification", str(path)])
    assert refused.exit_code == 1 and "missing required column(s): reviewed" in refused.output
    mapping = ["--column", "reviewed=SL xét duyệt", "--column", "certified=SL đạt yêu cầu"]
    before = counts(store)
    dry = runner.invoke(main, ["import", "certification", str(path), *mapping, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "row 2 -> 00715 Xã Lũng Cú (province 08): insert" in dry.output
    assert "row 3 -> 00733 Xã Sà Phìn (province 08): insert" in dry.output
    assert "dry run, nothing was written - 2 records would be applied (2 new" in dry.output
    assert counts(store) == before
    audit = store.audit_rows(_audit_query())[0]
    assert audit[0]["action"] == "import_preview" and audit[0]["detail"]["dry_run"] is True
    applied = runner.invoke(main, ["import", "certification", str(path), *mapping])
    assert applied.exit_code == 0 and "2 rows applied - 2 new" in applied.output
    assert counts(store)["certification"] == 2


def _audit_query():
    from geoservice.store.security import AuditQuery

    return AuditQuery(limit=5)
