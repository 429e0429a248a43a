"""End-to-end imports on both backends: a messy file is rejected whole with row-level
errors, the fixed file imports, re-import is a no-op, a correction keeps history."""

from __future__ import annotations

import pytest

from geoservice.boundaries.load import load_boundaries
from geoservice.records.importer import run_import
from geoservice.records.parsing.report import errors_csv
from geoservice.store import open_store
from geoservice.store.records import RecordQuery

HEADER = "Tỉnh,Huyện,Xã,Ngày,Hình thức,Nước,Địa phương đối diện,Số người\n"
GOOD = "Ha Giang,Dong Van,Lung Cu,05/03/2024,tuan tra chung,Trung Quốc,Vân Nam,12\n"
MESSY = (HEADER + GOOD
         + "Tuyên Quang,,Lũng Cú,31/02/2024,tuan tra chung,Trung Quốc,Vân Nam,8\n"
         + "Tuyên Quang,,Xã Lũng Cú,05/03/2024,Tuần tra chung,Trung Quốc,Vân Nam,12\n"
         + "Tuyên Quang,,Xã Không Có Thật,06/03/2024,tuan tra chung,Trung Quốc,Vân Nam,5\n")
FIXED = (HEADER + GOOD
         + "Tuyên Quang,,Lũng Cú,28/02/2024,tuan tra chung,Trung Quốc,Vân Nam,8\n")


@pytest.fixture
def store(store_url, built):
    store = open_store(store_url)
    load_boundaries(store, built.gpkg)
    yield store
    store.close()


def cooperation(store):
    page = store.query_records("cooperation", RecordQuery(limit=100))
    return sorted((p["commune_code"], p["date"], p["participants"]) for _i, p, _g in page.features)


def test_messy_file_is_rejected_with_row_errors_and_stores_nothing(store):
    report = run_import(store, "cooperation", MESSY.encode(), "hop-tac.csv", "tester")
    assert report.status == "rejected"
    found = {(e.row, e.column): e for e in report.errors}
    assert set(found) == {(3, "Ngày"), (4, "Xã"), (5, "Xã")}
    assert "31/02/2024" in found[(3, "Ngày")].value
    assert "row 2" in found[(4, "Xã")].reason
    assert "Không Có Thật" in found[(5, "Xã")].value
    assert cooperation(store) == [] and store.imports() == []
    text = errors_csv(report.errors).decode("utf-8-sig")
    assert text.splitlines()[0] == "row,column,value,reason,suggestion"
    assert "Ngày" in text and "Xã Không Có Thật" in text


def test_fixed_file_imports_and_reimport_is_a_no_op(store):
    first = run_import(store, "cooperation", FIXED.encode(), "hop-tac.csv", "tester")
    assert first.status == "applied", first.errors
    assert first.outcome["inserted"] == 2
    assert cooperation(store) == [("00715", "2024-02-28", 8), ("00715", "2024-03-05", 12)]
    again = run_import(store, "cooperation", FIXED.encode(), "hop-tac.csv", "tester")
    assert (again.outcome["inserted"], again.outcome["updated"],
            again.outcome["unchanged"]) == (0, 0, 2)
    page = store.query_records("cooperation", RecordQuery(year=2024, border_neighbor="CN"))
    assert page.number_matched == 2


def test_correction_updates_and_keeps_history(store):
    run_import(store, "cooperation", FIXED.encode(), "hop-tac.csv", "tester")
    corrected = HEADER + GOOD.replace(",12\n", ",15\n")
    report = run_import(store, "cooperation", corrected.encode(), "sua.csv", "editor")
    assert report.outcome["updated"] == 1 and report.outcome["unchanged"] == 0
    page = store.query_records("cooperation", RecordQuery(date_from=None, limit=10))
    record = next(f for f in page.features if f[1]["date"] == "2024-03-05")
    assert record[1]["participants"] == 15 and record[1]["version"] == 2
    history = store.record_history("cooperation", record[0])
    assert [h["properties"]["participants"] for h in history] == [12, 15]
    assert history[-1]["changed_by"] == "editor"


def test_code_and_name_that_disagree_are_an_error(store):
    text = ("Mã xã,Xã,Năm,Số buổi tuyên truyền,Lượt người tham dự\n"
            "00715,Lũng Cú,2024,3,100\n"
            "00715,Sín Thầu,2023,2,50\n")
    report = run_import(store, "awareness", text.encode(), "tuyen-truyen.csv", "tester")
    assert report.status == "rejected"
    assert [(e.row, e.column) for e in report.errors] == [(3, "Xã")]
    assert "03158" in report.errors[0].reason or "Sín Thầu" in report.errors[0].reason


def test_free_text_keys_ignore_diacritics_case_and_spacing(store):
    run_import(store, "cooperation", FIXED.encode(), "hop-tac.csv", "tester")
    folded = FIXED.replace("Vân Nam,12", "VAN  NAM,15")
    report = run_import(store, "cooperation", folded.encode(), "sua.csv", "tester")
    assert report.status == "applied", report.errors
    assert (report.outcome["inserted"], report.outcome["updated"]) == (0, 1)


def test_points_far_outside_their_commune_are_warned(store):
    text = ("Mã vụ việc,Mã xã,Ngày,Loại,Kinh độ,Vĩ độ,Mức độ\n"
            "A-1,00715,05/03/2024,ma tuý,105.31,23.33,cao\n"
            "A-2,00715,06/03/2024,ma tuý,104.81,23.33,cao\n")
    report = run_import(store, "incidents", text.encode(), "vu-viec.csv", "tester")
    assert report.status == "applied", report.errors
    far = [w for w in report.warnings if "outside commune 00715" in w]
    assert len(far) == 1 and far[0].startswith("row 3:"), report.warnings


def _stages(heard: list) -> dict[str, list[tuple[int, int]]]:
    """The progress calls by stage, the stages in the order they came."""
    stages: dict[str, list[tuple[int, int]]] = {}
    for stage, done, total in heard:
        stages.setdefault(stage, []).append((done, total))
    return stages


def test_import_tells_its_progress_stage_by_stage(store):
    from geoservice.store import FeatureQuery

    codes = [fid for fid, _p, _g in store.query("communes", FeatureQuery(limit=1000)).features]
    lines = [f"{code},{year},{group},10,7" for code in codes for year in (2023, 2024)
             for group in ("residential", "commune", "agencies", "enterprises", "schools")]
    data = ("commune_code,year,group,reviewed,certified\n" + "\n".join(lines)).encode()
    assert len(lines) > 3 * 500  # several calls per stage (every 500 rows)
    quiet = run_import(store, "certification", data, "ket-qua.csv", "tester", dry_run=True)
    heard = []
    dry = run_import(store, "certification", data, "ket-qua.csv", "tester", dry_run=True,
                     progress=lambda *call: heard.append(call))
    assert dry.as_dict() == quiet.as_dict()  # telling the progress changes nothing
    assert list(_stages(heard)) == ["reading rows", "checking rows", "checking units"]
    heard.clear()
    report = run_import(store, "certification", data, "ket-qua.csv", "tester",
                        progress=lambda *call: heard.append(call))
    assert report.status == "applied" and report.outcome["inserted"] == len(lines)
    stages = _stages(heard)
    assert list(stages) == ["reading rows", "checking rows", "checking units",
                            "writing records"]
    for stage, calls in stages.items():
        total = calls[-1][1]
        assert calls[-1] == (total, total), stage
        assert [done for done, _ in calls] == sorted(done for done, _ in calls), stage
        assert len(calls) >= 4, stage
    assert stages["reading rows"][-1] == (len(lines) + 1,) * 2  # the header row too
    for stage in ("checking rows", "checking units", "writing records"):
        assert stages[stage][-1] == (len(lines), len(lines)) == (report.rows, report.rows)
