"""Officials' own report forms: a title block, a two-row merged header, the one-row-per-
commune layout, total rows, CSV variants and the user's column mapping (files built here)."""

from __future__ import annotations

import io

import openpyxl
import pytest

from geoservice.records.kinds import KINDS
from geoservice.records.parsing.reading import read_table
from geoservice.records.parsing.rows import parse_rows
from tests.records.test_parsing import cp1258, csv_bytes

CERT = KINDS["certification"]
COOP = KINDS["cooperation"]
FIELDS = ("commune_code", "commune", "year", "group", "registered", "reviewed", "certified")


def title_block_form(rows, *, year_column=False) -> bytes:
    """A report form as officials send it: title block, two-row merged header, data."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Biểu 01"
    sheet["A1"] = "CÔNG AN TỈNH TUYÊN QUANG"
    sheet["E1"] = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    sheet["A2"] = "BÁO CÁO KẾT QUẢ XÂY DỰNG PHONG TRÀO AN TOÀN VỀ AN NINH, TRẬT TỰ NĂM 2024"
    sheet.merge_cells("A2:K2")
    upper = ["STT", "Mã xã", "Xã/Phường", "Khu dân cư", None, None,
             "Xã, phường, đặc khu", None, None, "Cơ quan, doanh nghiệp", "Tỷ lệ KDC đạt (%)"]
    lower = [None, None, None, "Đăng ký", "Được xét", "Đạt chuẩn",
             "Đăng ký", "Xét công nhận", "Đạt chuẩn", None, None]
    if year_column:
        upper.insert(3, "Năm")
        lower.insert(3, None)
    for column, (top, below) in enumerate(zip(upper, lower, strict=True), start=1):
        sheet.cell(4, column, top)
        sheet.cell(5, column, below)
    for start, end in (("D4", "F4"), ("G4", "I4")) if not year_column else (("E4", "G4"),
                                                                            ("H4", "J4")):
        sheet.merge_cells(f"{start}:{end}")
    for column in "ABC":
        sheet.merge_cells(f"{column}4:{column}5")
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


FORM_ROWS = [
    [1, "00715", "Xã Lũng Cú", 28, 28, 25, 1, 1, 1, None, 89.3],
    [2, "00733", "Xã Sà Phìn", 30, 29, 29, 1, 1, 0, None, 96.7],
    ["Cộng huyện Đồng Văn", None, None, 58, 57, 54, 2, 2, 1, None, None],
    [3, "00745", "Xã Phố Bảng", 20, 20, 20, None, None, None, None, 100],
    [None, "Tổng cộng", None, 78, 77, 74, 2, 2, 1, None, None],
]


def values(result):
    return [tuple(row.values[f] for f in FIELDS[2:]) + (row.values["commune_code"],)
            for row in result.rows]


def test_title_block_and_two_row_merged_header_in_the_wide_layout():
    table = read_table(title_block_form(FORM_ROWS), "bao-cao-2024.xlsx", kind=CERT)
    assert table.header_row == 4
    result = parse_rows(table, CERT)
    assert result.errors == [], result.errors
    assert values(result) == [
        (2024, "residential", 28, 28, 25, "00715"), (2024, "commune", 1, 1, 1, "00715"),
        (2024, "residential", 30, 29, 29, "00733"), (2024, "commune", 1, 1, 0, "00733"),
        (2024, "residential", 20, 20, 20, "00745"),
    ]
    assert [r.row for r in result.rows] == [6, 6, 7, 7, 9]  # the spreadsheet's own rows
    notes = " | ".join(table.notes)
    assert "the header is rows 4-5" in notes and "title" in notes
    assert "row 8 ('Cộng huyện Đồng Văn')" in notes and "row 10 ('Tổng cộng')" in notes
    assert "the year 2024 was taken from the title (row 2)" in notes
    assert "one row per commune: 3 rows read as 5 records" in notes
    warned = " | ".join(result.warnings)
    assert "'Cơ quan, doanh nghiệp' is not a field" in warned  # several groups: not guessed
    assert "Tỷ lệ KDC đạt (%)" in warned  # a rate is not a count


def test_wide_layout_errors_name_the_officials_own_column():
    rows = [[1, "00715", "Xã Lũng Cú", 2024, 28, 28, 29, 1, 1, 1, None, None]]
    table = read_table(title_block_form(rows, year_column=True), "a.xlsx", kind=CERT)
    result = parse_rows(table, CERT)
    assert [(e.row, e.column, e.value) for e in result.errors] == [
        (6, "Khu dân cư Đạt chuẩn", "29")]
    assert "Khu dân cư Đạt chuẩn (29) is more than Khu dân cư Được xét (28)" in \
        result.errors[0].reason
    assert not any("taken from the title" in n for n in table.notes)


def test_one_row_headers_of_the_wide_layout_with_circular_wording():
    rows = [["Mã xã", "Năm", "Số khu dân cư đăng ký", "Số khu dân cư được xét công nhận",
             "Số khu dân cư đạt chuẩn", "Số cơ sở giáo dục được xét", "Số trường học đạt"],
            ["00715", "2024", "28", "27", "25", "8", "8"]]
    result = parse_rows(read_table(csv_bytes(rows), "a.csv", kind=CERT), CERT)
    assert result.errors == []
    assert values(result) == [(2024, "residential", 28, 27, 25, "00715"),
                              (2024, "schools", None, 8, 8, "00715")]


def test_long_layout_with_circular_wording_and_a_total_row():
    rows = [["Mã xã", "Năm", "Nhóm", "Đăng ký", "Được xét", "Đạt chuẩn"],
            ["00715", "2024", "Khu dân cư", "28", "28", "25"],
            ["Tổng", "", "", "28", "28", "25"]]
    table = read_table(csv_bytes(rows), "a.csv", kind=CERT)
    result = parse_rows(table, CERT)
    assert result.errors == [] and values(result) == [
        (2024, "residential", 28, 28, 25, "00715")]
    assert table.notes == ["total rows skipped (their sums are not records): row 3 ('Tổng')"]


@pytest.mark.parametrize("label", ["Tổng cộng", "Cộng", "Tổng", "Tổng số", "TỔNG CỘNG:",
                                   "Cộng huyện Bắc Mê", "Tổng cộng toàn tỉnh"])
def test_total_rows_are_skipped_not_errors(label):
    rows = [["Xã", "Năm", "Nhóm", "Số đánh giá", "Số đạt"],
            ["Lũng Cú", "2024", "Khu dân cư", "3", "2"],
            [label, "", "", "3", "2"]]
    table = read_table(csv_bytes(rows), "a.csv", kind=CERT)
    assert [n for n, _c in table.rows] == [2]
    assert parse_rows(table, CERT).errors == []


def test_communes_whose_names_start_like_a_total_are_not_skipped():
    rows = [["Xã", "Năm", "Nhóm", "Số đánh giá", "Số đạt"],
            ["Cộng Hòa", "2024", "Khu dân cư", "3", "2"],
            ["Tổng Cọt", "2024", "Khu dân cư", "3", "2"]]
    assert [n for n, _c in read_table(csv_bytes(rows), "a.csv", kind=CERT).rows] == [2, 3]


COOP_ROWS = [["Tỉnh", "Xã", "Ngày", "Hình thức", "Nước", "Địa phương đối diện", "Số người"],
             ["Tuyên Quang", "Lũng Cú", "05/03/2024", "Tuần tra chung", "Trung Quốc",
              "Vân Nam", "12"]]


@pytest.mark.parametrize("data", [
    csv_bytes(COOP_ROWS, "utf-8-sig"),
    cp1258(csv_bytes(COOP_ROWS).decode()),
    csv_bytes(COOP_ROWS, delimiter=";"),
], ids=["utf-8 with BOM", "cp1258", "semicolons"])
def test_csv_variants_read_the_same(data):
    table = read_table(data, "hop-tac.csv", kind=COOP)
    assert table.headers == COOP_ROWS[0]
    result = parse_rows(table, COOP)
    assert result.errors == []
    assert result.rows[0].values["partner_locality"] == "Vân Nam"
    assert result.rows[0].values["commune"] == "Lũng Cú"


def test_semicolons_and_comma_decimals_in_a_title_block_file():
    rows = [["BÁO CÁO CÁC VỤ VIỆC QUÝ I"], [],
            ["Mã vụ việc", "Mã xã", "Ngày", "Lĩnh vực", "Kinh độ", "Vĩ độ"],
            ["A-1", "00715", "05/03/2024", "Ma túy", "105,3102", "23,3361"]]
    data = cp1258(csv_bytes(rows, delimiter=";").decode())
    table = read_table(data, "vu-viec.csv", kind=KINDS["incidents"])
    result = parse_rows(table, KINDS["incidents"])
    assert result.errors == [] and table.header_row == 3
    assert (result.rows[0].row, result.rows[0].values["lon"],
            result.rows[0].values["lat"]) == (4, 105.3102, 23.3361)


def test_column_mapping_names_unrecognised_headers():
    rows = [["Mã xã", "Năm", "Nhóm", "SL xét duyệt", "SL đạt yêu cầu"],
            ["00715", "2024", "Khu dân cư", "28", "25"]]
    table = read_table(csv_bytes(rows), "a.csv", kind=CERT)
    refused = parse_rows(table, CERT)
    assert "missing required column(s): reviewed" in refused.errors[0].reason
    columns = {"reviewed": "SL xét duyệt", "certified": "sl dat yeu cau"}
    table = read_table(csv_bytes(rows), "a.csv", kind=CERT, columns=columns)
    result = parse_rows(table, CERT, columns=columns)
    assert result.errors == [] and values(result) == [
        (2024, "residential", None, 28, 25, "00715")]


def test_a_mapped_column_missing_from_the_file_is_a_header_error():
    rows = [["Mã xã", "Năm", "Nhóm", "Số đánh giá", "Số đạt"], ["00715", "2024", "Thôn", "1", "1"]]
    columns = {"registered": "Số đăng ký xây dựng"}
    result = parse_rows(read_table(csv_bytes(rows), "a.csv", kind=CERT), CERT, columns=columns)
    assert [(e.row, e.column) for e in result.errors] == [(1, "Số đăng ký xây dựng")]
    assert "no column is headed 'Số đăng ký xây dựng'" in result.errors[0].reason


def test_without_a_kind_the_first_row_is_the_header():
    rows = [["BÁO CÁO"], ["Mã xã", "Năm"], ["00715", "2024"]]
    table = read_table(csv_bytes(rows), "a.csv")
    assert table.header_row == 1 and table.headers == ["BÁO CÁO"]
