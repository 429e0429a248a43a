"""`geoservice report` and `geoservice report-batch` on a copy of the demo store: a report
file for each kind of reader, and a province's commune reports in one PDF whose contents
page and bookmarks lead to each commune's report."""

from __future__ import annotations

import re
import zipfile

import pytest
from click.testing import CliRunner

from geoservice.cli import main
from geoservice.store import FeatureQuery, open_store
from tests.conftest import _copy_database
from tests.reports.helpers import flat, page_texts, read_pdf


def run(instance, *args):
    return CliRunner().invoke(main, list(args), env={"GEOSERVICE_INSTANCE_PATH": str(instance)},
                              catch_exceptions=False)


def test_report_command_writes_the_pdf_for_the_area_asked(tmp_path, demo_db):
    _copy_database(demo_db, tmp_path / "geoservice.sqlite")
    out = tmp_path / "border.pdf"
    result = run(tmp_path, "report", "border", "CN", "--year", "2024", "--area", "public",
                 "-o", str(out))
    assert result.exit_code == 0, result.output
    pages = int(re.search(r"border\.pdf: (\d+) pages", result.output)[1])
    reader = read_pdf(out.read_bytes())
    assert len(reader.pages) == pages
    text = flat(" ".join(page_texts(reader)))
    assert "Báo cáo an ninh, trật tự: Biên giới Việt Nam – Trung Quốc" in text
    assert "Tuyên Quang" in text and "Điện Biên" in text
    assert "khi chưa đăng nhập hoặc không có khóa API" in text
    out = tmp_path / "national.pdf"
    result = run(tmp_path, "report", "province", "11", "--lang", "en", "-o", str(out))
    assert result.exit_code == 0, result.output
    text = flat(" ".join(page_texts(read_pdf(out.read_bytes()))))
    assert "Security and order report: Điện Biên Province" in text
    assert "Incidents recorded" in text and "left out" not in text
    preview = tmp_path / "preview.html"
    assert run(tmp_path, "report", "commune", "00715", "-o", str(preview)).exit_code == 0
    assert "Xã Lũng Cú" in preview.read_text(encoding="utf-8")


def test_report_command_refuses_unknown_units_and_areas(tmp_path, demo_db):
    _copy_database(demo_db, tmp_path / "geoservice.sqlite")
    result = run(tmp_path, "report", "province", "99", "-o", str(tmp_path / "x.pdf"))
    assert result.exit_code == 2 and "no province with code '99'" in result.output
    result = run(tmp_path, "report", "province", "08", "--area", "77", "-o",
                 str(tmp_path / "x.pdf"))
    assert result.exit_code == 2 and "--area" in result.output
    assert not (tmp_path / "x.pdf").exists()


def test_report_batch_puts_commune_reports_after_a_contents_page(tmp_path, demo_db):
    _copy_database(demo_db, tmp_path / "geoservice.sqlite")
    store = open_store(f"sqlite:///{tmp_path / 'geoservice.sqlite'}")
    communes = store.query("communes", FeatureQuery(limit=3, province_code="11")).features
    names = {fid: props["full_name"] for fid, props, _geometry in communes}
    store.close()
    out = tmp_path / "batch.pdf"
    result = run(tmp_path, "report-batch", "--province", "11", "--year", "2024",
                 "--communes", ",".join(names), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "Tỉnh Điện Biên: 3 communes" in result.output  # the progress bar's label
    reader = read_pdf(out.read_bytes())
    texts = page_texts(reader)
    contents = flat(texts[0])
    assert "Báo cáo các xã, phường: Tỉnh Điện Biên" in contents and "Mục lục" in contents
    top = [item for item in reader.outline if not isinstance(item, list)]
    assert [item.title for item in top][0] == "Báo cáo các xã, phường: Tỉnh Điện Biên"
    for number, (code, name) in enumerate(names.items(), 1):
        page = int(re.search(rf"{number} {re.escape(name)} \({code}\) (\d+)", contents)[1])
        assert f"Báo cáo an ninh, trật tự: {name}" in flat(texts[page - 1])
        # the page number on paper is the contents page's number: continuous numbering
        assert re.search(rf"Trang {page}\b(?! /)", texts[page - 1]), texts[page - 1][-80:]
        bookmark = next(item for item in top if item.title.endswith(name))
        assert reader.get_destination_page_number(bookmark) == page - 1
    for number, text in enumerate(texts, 1):  # every footer: its page in the whole PDF
        assert re.search(rf"Trang {number}$", text.strip()), text[-80:]
    archive = tmp_path / "batch.zip"
    result = run(tmp_path, "report-batch", "--province", "11", "--year", "2024",
                 "--communes", next(iter(names)), "-o", str(archive))
    assert result.exit_code == 0, result.output
    assert len(zipfile.ZipFile(archive).namelist()) == 1


@pytest.mark.parametrize("name, words", [("report.docx", ".pdf"), ("missing/report.pdf",
                                                                     "folder")])
def test_the_output_is_checked_before_any_work(tmp_path, demo_db, name, words):
    _copy_database(demo_db, tmp_path / "geoservice.sqlite")
    result = run(tmp_path, "report", "province", "08", "-o", str(tmp_path / name))
    assert result.exit_code == 2 and words in result.output, result.output
    assert not (tmp_path / name).exists()
