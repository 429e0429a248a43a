"""Issue 18, the tables beside the PDF: `/reports/{kind}/{code}.xlsx` and `.csv` hold the
report's certification and commune tables with the same figures as its PDF (read back
with openpyxl and csv, and found in the PDF's extracted text)."""

from __future__ import annotations

import csv
import io

import openpyxl
from babel.numbers import format_decimal

from tests.reports.helpers import MINUS, MISSING, count, flat, page_texts, read_pdf
from tests.web.helpers import assert_error, decode

YEAR = 2024


def printed(value, number_format: str = "0.0", percent: bool = True) -> str:
    """A spreadsheet number as the Vietnamese PDF prints it."""
    if value is None:
        return MISSING
    decimals = len(number_format.split(".")[1]) if "." in number_format else 1
    text = format_decimal(abs(value), format="#,##0." + "0" * decimals, locale="vi",
                          decimal_quantization=False)
    return (text + " %") if percent else (text if value >= 0 else MINUS + text)


def test_the_xlsx_tables_are_the_pdf_figures(app):
    client = app.test_client()
    response = client.get(f"/reports/province/08.xlsx?year={YEAR}")
    assert response.status_code == 200, response.get_data()[:300]
    assert "spreadsheetml" in response.mimetype
    assert "attachment" in response.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    pdf = flat(" ".join(page_texts(read_pdf(client.get(
        f"/reports/province/08.pdf?year={YEAR}").data))))
    sheet = book["Công nhận đạt chuẩn"]
    rows = list(sheet.iter_rows(min_row=2))
    assert len(rows) >= 3
    for row in rows:
        group, registered, reviewed, certified, rate = (cell.value for cell in row[:5])
        gap, short = row[8].value, row[9].value
        expected = " ".join([count(registered) if registered is not None else MISSING,
                             count(reviewed), count(certified),
                             printed(rate, row[4].number_format)])
        assert expected in pdf, (group, expected)
        assert f"{printed(gap, percent=False)} {count(short)}" in pdf, (group, gap, short)
    communes = book["Chỉ tiêu theo xã, phường"]
    names = [r[0].value for r in communes.iter_rows(min_row=2)]
    assert len(names) > 40
    for row in list(communes.iter_rows(min_row=2))[:10]:
        values = [printed(c.value, c.number_format) for c in row[1:4]]
        assert f"{row[0].value} {' '.join(values)}" in pdf, row[0].value


def test_the_csv_holds_the_same_tables(app):
    client = app.test_client()
    book = openpyxl.load_workbook(io.BytesIO(client.get(
        f"/reports/commune/00715.xlsx?year={YEAR}").data))
    response = client.get(f"/reports/commune/00715.csv?year={YEAR}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert lines[0] == ["Công nhận đạt chuẩn"]
    sheet = list(book.worksheets[0].iter_rows(values_only=True))
    assert lines[1] == list(sheet[0])
    for text_row, cells in zip(lines[2:], sheet[1:]):
        assert text_row[0] == cells[0]
        for text, value in zip(text_row[1:], cells[1:]):
            if value is None:
                assert text == ""
            elif isinstance(value, str):
                assert text == value
            else:
                assert abs(float(text) - value) < 1e-9, (text, value)
    assert len(book.worksheets) == 1  # a commune has no commune table


def test_the_tables_take_no_document_options(app):
    response = app.test_client().get("/reports/province/08.xlsx?page=a3")
    assert_error(decode(response, 400, "application/json"), 400, parameter="page")
