"""Issue 18, the document format: the title block of Decree 30/2020/NĐ-CP on Vietnamese
reports (issuing authority and unit, document number, national motto, place and date) and
the signature block; a plain heading in English; the options refused cleanly when bad."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner

from geoservice.cli import main
from tests.conftest import _copy_database
from tests.reports.helpers import flat, page_texts, read_pdf
from tests.web.helpers import assert_error, decode

YEAR = 2024
MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO_LINE = "Độc lập - Tự do - Hạnh phúc"
AUTHORITY, UNIT = "CÔNG AN TỈNH TUYÊN QUANG", "PHÒNG THAM MƯU"


def decree_date(day: date) -> str:
    """'ngày 02 tháng 12 năm 2026': a leading zero on days 1-9 and on months 1 and 2."""
    month = str(day.month).rjust(2, "0") if day.month in (1, 2) else str(day.month)
    return f"ngày {str(day.day).rjust(2, '0')} tháng {month} năm {day.year}"


@pytest.fixture
def issuing_app(make_app, demo_db):
    return make_app(demo_db, REPORT_ISSUING_AUTHORITY=AUTHORITY, REPORT_ISSUING_UNIT=UNIT)


def pdf_texts(app, path: str, **params) -> list[str]:
    response = app.test_client().get(f"{path}?{urlencode({'year': YEAR, **params})}")
    assert response.status_code == 200, response.get_data()[:300]
    return [flat(text) for text in page_texts(read_pdf(response.data))]


def test_a_vietnamese_report_opens_with_the_decree_title_block(issuing_app):
    texts = pdf_texts(issuing_app, "/reports/commune/00715.pdf", number="15/BC-CAT",
                      signer_title="Giám đốc", signer_name="Nguyễn Văn An")
    first = texts[0]
    for words in (AUTHORITY, UNIT, "Số: 15/BC-CAT", MOTTO, MOTTO_LINE,
                  f"Tuyên Quang, {decree_date(date.today())}"):
        assert words in first, words
    # the block comes before the title, and the authority before the motto
    assert first.index(AUTHORITY) < first.index(MOTTO) < first.index("Báo cáo an ninh")
    last = texts[-1]
    assert "GIÁM ĐỐC" in last and "Nguyễn Văn An" in last and "Nơi nhận:" in last
    assert "Giám đốc" not in " ".join(texts)  # the title is printed in capitals only


def test_without_options_the_number_and_signature_are_blanks_to_fill(app):
    texts = pdf_texts(app, "/reports/border/LA.pdf")
    first = texts[0]
    assert "Số: ……/BC-……" in first and MOTTO in first
    # a border sector spans provinces: the place is a blank; the date is today's
    assert f"……, {decree_date(date.today())}" in first
    last = texts[-1]
    assert re.search(r"Nơi nhận:.*……………… ………………", last), last[-300:]


def test_the_place_setting_and_a_bare_number(make_app, demo_db):
    app = make_app(demo_db, REPORT_ISSUING_PLACE="Hà Giang")
    first = pdf_texts(app, "/reports/province/08.pdf", number="7")[0]
    assert "Số: 7/BC" in first and f"Hà Giang, {decree_date(date.today())}" in first
    assert "Tuyên Quang, ngày" not in first


def test_an_english_report_keeps_a_plain_heading(issuing_app):
    texts = pdf_texts(issuing_app, "/reports/commune/00715.pdf", lang="en",
                      number="15/BC-CAT", signer_title="Director",
                      signer_name="Nguyễn Văn An")
    text = " ".join(texts)
    for vietnamese in (MOTTO, MOTTO_LINE, "Số:", "ngày", "Nơi nhận"):
        assert vietnamese not in text, vietnamese
    assert texts[0].index("Security and order report") < texts[0].index(
        "Document number 15/BC-CAT")
    assert "DIRECTOR" in texts[-1] and "Nguyễn Văn An" in texts[-1]


def test_an_english_report_without_signer_has_no_signature_block(app):
    text = " ".join(pdf_texts(app, "/reports/commune/00715.pdf", lang="en"))
    assert "……" not in text and "Document number" not in text


@pytest.mark.parametrize("params,parameter", [
    ({"number": "1" * 31}, "number"),
    ({"number": "15 BC"}, "number"),
    ({"number": "15/BC-"}, "number"),
    ({"number": "15\n"}, "number"),
    ({"number": ""}, "number"),
    ({"signer_title": "G" * 81}, "signer_title"),
    ({"signer_title": "Giám\tđốc"}, "signer_title"),
    ({"signer_name": "Nguyễn\u200bVăn An"}, "signer_name"),
    ({"signer_name": "An\x07"}, "signer_name"),
    ({"signer_name": "   "}, "signer_name"),
    ({"page": "a5"}, "page"),
    ({"page": "A4"}, "page"),
])
def test_bad_options_are_refused_with_the_json_error_shape(app, params, parameter):
    response = app.test_client().get(f"/reports/province/08.pdf?{urlencode(params)}")
    assert_error(decode(response, 400, "application/json"), 400, parameter=parameter)


def test_a_batch_takes_no_document_number(app):
    response = app.test_client().get("/reports/province/08/communes.zip?number=15")
    assert_error(decode(response, 400, "application/json"), 400, parameter="number")


def run(instance, *args):
    return CliRunner().invoke(main, list(args), env={"GEOSERVICE_INSTANCE_PATH": str(instance)},
                              catch_exceptions=False)


def test_the_command_line_takes_the_same_options(tmp_path, demo_db):
    _copy_database(demo_db, tmp_path / "geoservice.sqlite")
    out = tmp_path / "lung-cu.pdf"
    result = run(tmp_path, "report", "commune", "00715", "--year", str(YEAR), "--number",
                 "21/BC-CAT", "--signer-title", "Phó Giám đốc", "--signer-name",
                 "Trần Thị Bình", "-o", str(out))
    assert result.exit_code == 0, result.output
    texts = [flat(text) for text in page_texts(read_pdf(out.read_bytes()))]
    assert "Số: 21/BC-CAT" in texts[0] and "PHÓ GIÁM ĐỐC" in texts[-1]
    assert "Trần Thị Bình" in texts[-1]
    bad = tmp_path / "bad.pdf"
    result = run(tmp_path, "report", "commune", "00715", "--signer-name", "x" * 81,
                 "-o", str(bad))
    assert result.exit_code == 2 and "signer_name is at most 80" in result.output
    assert not bad.exists()
