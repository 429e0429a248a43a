"""Reading officials' CSV and Excel files into checked record values, with row-level errors."""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
import zipfile

import openpyxl
import pytest
import shapely
from pyproj import Geod, Transformer

from geoservice.errors import InvalidParameter
from geoservice.records.kinds import ACTIVITY_TYPES, GROUPS, KINDS, SEVERITY
from geoservice.records.parsing.coordinates import parse_lat, parse_lon, parse_wkt
from geoservice.records.parsing.headers import map_headers
from geoservice.records.parsing.reading import read_table
from geoservice.records.parsing.report import errors_csv
from geoservice.records.parsing.results import RowError
from geoservice.records.parsing.rows import parse_rows
from geoservice.records.parsing.values import parse_date, parse_enum, parse_int, parse_str
from geoservice.records.parsing.vn2000 import to_wgs84_from_vn2000, vn2000_crs

CERT = KINDS["certification"]
COOP = KINDS["cooperation"]
INCIDENTS = KINDS["incidents"]
HOT_SPOTS = KINDS["hot-spots"]
MODELS = KINDS["models"]

CERT_ROWS = [
    ["Mã xã", "Năm", "Nhóm", "Số đăng ký", "Số đánh giá", "Số đạt"],
    ["00715", "2024", "Khu dân cư", "120", "118", "110"],
    ["00716", "2024", "Cơ quan", "1.234", "1 200", "1,100"],
]
CERT_EXPECTED = [
    {"commune_code": "00715", "year": 2024, "group": "residential", "registered": 120,
     "reviewed": 118, "certified": 110},
    {"commune_code": "00716", "year": 2024, "group": "agencies", "registered": 1234,
     "reviewed": 1200, "certified": 1100},
]


def csv_bytes(rows, encoding="utf-8", delimiter=","):
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    text = buffer.getvalue()
    return cp1258(text) if encoding == "cp1258" else text.encode(encoding)


_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def cp1258(text: str) -> bytes:
    """Encode as Windows-1258 does: base letter (â, ơ …) plus a combining tone mark."""
    out = bytearray()
    for char in text:
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            marks = unicodedata.normalize("NFD", char)
            base = unicodedata.normalize("NFC", "".join(m for m in marks if m not in _TONES))
            out += (base + "".join(m for m in marks if m in _TONES)).encode("cp1258")
    return bytes(out)


def xlsx_bytes(rows, leading_blank_rows=0):
    book = openpyxl.Workbook()
    sheet = book.active
    for _ in range(leading_blank_rows):
        sheet.append([])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def picked(result, fields=("commune_code", "year", "group", "registered", "reviewed",
                           "certified")):
    return [{f: row.values[f] for f in fields} for row in result.rows]


def as_tuples(errors):
    return [(e.row, e.column, e.value, e.reason, e.suggestion) for e in errors]


# --- reading files -----------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1258", "utf-16"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_encodings_and_delimiters(encoding, delimiter):
    table = read_table(csv_bytes(CERT_ROWS, encoding, delimiter), "ket-qua.csv")
    assert table.headers == CERT_ROWS[0]
    assert all(unicodedata.is_normalized("NFC", h) for h in table.headers)
    assert [n for n, _ in table.rows] == [2, 3]
    result = parse_rows(table, CERT)
    assert result.errors == [] and result.warnings == []
    assert picked(result) == CERT_EXPECTED


def test_cp1258_file_really_uses_combining_tone_marks():
    data = csv_bytes(CERT_ROWS, "cp1258")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert unicodedata.normalize("NFC", data.decode("cp1258")) != data.decode("cp1258")
    assert read_table(data, "a.csv").rows[0][1][2] == "Khu dân cư"


def test_csv_semicolon_with_decimal_commas_and_excel_sep_line():
    rows = [["Mã xã", "Mô hình", "Tên", "Kinh độ", "Vĩ độ"],
            ["00715", "Tự quản", "Tổ tự quản số 1", "105,3021", "23,3622"]]
    data = b"sep=;\r\n" + csv_bytes(rows, delimiter=";")
    result = parse_rows(read_table(data, "mo-hinh.CSV"), MODELS)
    assert result.errors == []
    assert result.rows[0].row == 2
    assert (result.rows[0].values["lon"], result.rows[0].values["lat"]) == (105.3021, 23.3622)


def test_xlsx_row_numbers_types_and_codes_that_lost_leading_zeros():
    rows = [["Mã xã", "Năm", "Nhóm", "Số đánh giá", "Số đạt"],
            [715, 2024, "Khu dân cư", 118.0, 110],
            [None, None, None, None, None],
            ["00716", "2024", "Trường học", "12", "12"]]
    table = read_table(xlsx_bytes(rows, leading_blank_rows=2), "bao-cao.xlsx")
    assert table.header_row == 3
    assert [n for n, _ in table.rows] == [4, 6]
    result = parse_rows(table, CERT)
    assert result.errors == []
    assert picked(result) == [
        {"commune_code": "00715", "year": 2024, "group": "residential", "registered": None,
         "reviewed": 118, "certified": 110},
        {"commune_code": "00716", "year": 2024, "group": "schools", "registered": None,
         "reviewed": 12, "certified": 12},
    ]


def test_xlsx_dates_serials_and_enums():
    rows = [["Mã xã", "Loại mô hình", "Tên mô hình", "Ngày thành lập", "Trạng thái"],
            ["00715", "Camera an ninh", "Camera Lũng Cú", dt.datetime(2023, 7, 1),
             "Đang hoạt động"],
            ["00715", "Tự phòng", "Tổ tự phòng", 45356, None]]
    result = parse_rows(read_table(xlsx_bytes(rows), "a.xlsx"), MODELS)
    assert result.errors == []
    first, second = (r.values for r in result.rows)
    assert (first["model_type"], first["start_date"], first["status"]) == (
        "security_cameras", dt.date(2023, 7, 1), "active")
    assert second["start_date"] == dt.date(2024, 3, 5)


def test_formula_like_text_is_kept_as_plain_text():
    names = ["=HYPERLINK(\"http://x\")", "+84 912 345 678", "-Tổ 3-", "@Tổ 4"]
    rows = [["Mã xã", "Loại mô hình", "Tên mô hình"]]
    rows += [["00715", "Tự quản", name] for name in names]
    result = parse_rows(read_table(csv_bytes(rows), "a.csv"), MODELS)
    assert result.errors == []
    assert [r.values["name"] for r in result.rows] == names


@pytest.mark.parametrize(("data", "name", "words"), [
    (b"a,b\n1,2\n", "data.txt", "only these two formats"),
    (b"\xd0\xcf\x11\xe0rest", "old.xls", "97-2003"),
    (b"", "empty.csv", "empty"),
    (b"\xef\xbb\xbf \r\n\r\n", "blank.csv", "empty"),
    (b"Ma xa,Nam\n", "header-only.csv", "no data rows"),
    (b"PK\x03\x04 not really", "named.csv", "Excel workbook"),
    ("Mã xã,Năm\n1,2\n".encode(), "text.xlsx", "not a valid Excel"),
    (b"\xd0\xcf\x11\xe0rest", "locked.xlsx", "password-protected"),
    (b"a,b\x00c\n", "binary.csv", "binary"),
])
def test_unreadable_files_are_refused(data, name, words):
    with pytest.raises(InvalidParameter) as raised:
        read_table(data, name)
    assert words in raised.value.message


def test_zip_that_is_not_a_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(InvalidParameter, match="not a valid Excel"):
        read_table(buffer.getvalue(), "x.xlsx")


def test_xlsx_without_header_is_refused():
    with pytest.raises(InvalidParameter, match="no header row"):
        read_table(xlsx_bytes([]), "empty.xlsx")


@pytest.mark.parametrize("name", ["many.csv", "many.xlsx"])
def test_too_many_rows(name):
    rows = [["Mã xã", "Năm"], *([f"0071{i}", "2024"] for i in range(4))]
    data = csv_bytes(rows) if name.endswith(".csv") else xlsx_bytes(rows)
    assert len(read_table(data, name, max_rows=4).rows) == 4
    with pytest.raises(InvalidParameter, match="more than 3 data rows"):
        read_table(data, name, max_rows=3)


def test_zip_bomb_is_refused_without_inflating_it(monkeypatch):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            chunk = bytes(1024 * 1024)
            for _ in range(60):
                member.write(chunk)
    data = buffer.getvalue()
    assert len(data) < 1024 * 1024  # 60 MB of zeros packs into well under 1 MB

    def forbidden(*args, **kwargs):
        raise AssertionError("the zip member must not be opened")

    monkeypatch.setattr(zipfile.ZipFile, "open", forbidden)
    monkeypatch.setattr(openpyxl, "load_workbook", forbidden)
    with pytest.raises(InvalidParameter, match="exceed 50 MB once unpacked"):
        read_table(data, "bom.xlsx")


# --- headers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("header", "field"), [
    ("Mã xã", "commune_code"), ("MA XA", "commune_code"), ("ma_xa", "commune_code"),
    ("Mã ĐVHC", "commune_code"), ("Xã/Phường", "commune"), ("Tên đơn vị", "commune"),
    ("Quận/Huyện", "district"), ("Tỉnh/Thành phố", "province"), ("TỈNH", "province"),
    ("Kinh độ", "lon"), ("Vĩ độ (độ)", "lat"), ("Ngày xảy ra", "date"),
    ("Lĩnh vực", "category"), ("Mức độ", "severity"), ("Số hiệu", "ref"),
])
def test_header_aliases(header, field):
    assert map_headers([header], INCIDENTS).fields == {0: field}


def test_unknown_duplicate_and_missing_columns():
    headers = ["STT", "Mã xã", "Mã", "Năm", "Ghi chú"]
    found = map_headers(headers, CERT)
    assert found.fields == {1: "commune_code", 3: "year"}
    assert found.warnings == [
        "Column 'STT' is not a field of certification results; it was ignored.",
        "Column 'Ghi chú' is not a field of certification results; it was ignored.",
    ]
    assert as_tuples(found.errors) == [
        (1, "Mã", "", "the columns 'Mã xã' and 'Mã' both give commune_code; keep only one of "
                      "them", None),
        (1, "", "", "missing required column(s): group (e.g. 'nhom'); reviewed (e.g. "
                    "'danh gia'); certified (e.g. 'dat')", None),
    ]


def test_a_unit_column_is_required_and_header_errors_stop_parsing():
    table = read_table(csv_bytes([["Tỉnh", "Năm", "Nhóm", "Số đánh giá", "Số đạt"],
                                  ["Tuyên Quang", "2024", "Cơ quan", "3", "2"]]), "a.csv")
    result = parse_rows(table, CERT)
    assert result.rows == []
    assert as_tuples(result.errors) == [(1, "", "", (
        "no column names the unit: add a commune code column (e.g. 'Mã xã') or a commune "
        "name column (e.g. 'Xã/Phường')"), None)]


def test_half_a_coordinate_pair_of_columns():
    found = map_headers(["Mã xã", "Loại mô hình", "Tên", "Kinh độ"], MODELS)
    assert as_tuples(found.errors) == [
        (1, "Kinh độ", "", "there is a column for longitude but none for latitude: give both "
                           "or neither", None)]
    found = map_headers(["Mã xã", "Ngày", "Lĩnh vực", "Tọa độ X"], INCIDENTS,
                        coordinates="vn2000")
    assert found.fields == {0: "commune_code", 1: "date", 2: "category", 3: "lat"}
    assert as_tuples(found.errors) == [
        (1, "", "", "missing required column(s): Y (easting) (e.g. 'y')", None),
        (1, "Tọa độ X", "", "there is a column for X (northing) but none for Y (easting): "
                            "give both or neither", None)]


# --- value parsers -----------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    ("1234", 1234), ("1.234", 1234), ("1,234", 1234), ("1 234", 1234), ("1\u00a0234", 1234),
    (1234.0, 1234), (1234, 1234), ("0", 0), ("12.0", 12), ("1.234.567", 1234567),
    (None, None), ("  ", None),
])
def test_parse_int(value, expected):
    assert parse_int(value) == (expected, None)


@pytest.mark.parametrize(("value", "reason"), [
    ("-5", "a count cannot be negative: -5"),
    (-5, "a count cannot be negative: -5"),
    ("12.5", "'12.5' is not a whole number"),
    (12.5, "12.5 is not a whole number"),
    ("mười", "'mười' is not a number"),
    (True, "'TRUE' is not a number"),
])
def test_parse_int_refusals(value, reason):
    assert parse_int(value) == (None, reason, None)


@pytest.mark.parametrize("value", [
    "05/03/2024", "5/3/2024", "05-03-2024", "05.03.2024", "2024-03-05", "2024-03-05 00:00:00",
    "ngày 5 tháng 3 năm 2024", "Ngày 05, tháng 03, năm 2024", 45356, 45356.75,
    dt.datetime(2024, 3, 5, 14, 30), dt.date(2024, 3, 5),
])
def test_parse_date(value):
    assert parse_date(value) == (dt.date(2024, 3, 5), None)


@pytest.mark.parametrize(("value", "reason", "suggestion"), [
    ("31/02/2024", "'31/02/2024' is not a real date: month 2 of 2024 has 29 days", None),
    ("29/02/2023", "'29/02/2023' is not a real date: month 2 of 2023 has 28 days", None),
    ("03/25/2024", "'03/25/2024': 25 is not a month; dates are read as day/month/year",
     "25/03/2024"),
    ("tháng 3/2024", "'tháng 3/2024' is not a full date: give day, month and year "
                     "(e.g. 05/03/2024)", None),
    ("03/2024", "'03/2024' is not a full date: give day, month and year (e.g. 05/03/2024)",
     None),
    ("2024", "'2024' is not a full date: give day, month and year (e.g. 05/03/2024)", None),
    (2024, "2024 is only a year, not a full date: give day, month and year (e.g. 05/03/2024)",
     None),
    ("05/03/24", "'05/03/24': the year must have four digits", "05/03/2024"),
    ("hôm qua", "'hôm qua' is not a date: write it as day/month/year (e.g. 05/03/2024)", None),
    (7, "the number 7 is not a date: write it as day/month/year (e.g. 05/03/2024)", None),
])
def test_parse_date_refusals(value, reason, suggestion):
    assert parse_date(value) == (None, reason, suggestion)


def test_dates_are_never_read_month_first():
    assert parse_date("04/05/2024") == (dt.date(2024, 5, 4), None)


@pytest.mark.parametrize(("value", "expected"), [
    ("Khu dân cư", "residential"), ("KHU DAN CU", "residential"), ("thôn, tổ dân phố",
                                                                    "residential"),
    ("Xã, phường", "commune"), ("Doanh nghiệp", "enterprises"), ("schools", "schools"),
])
def test_parse_enum(value, expected):
    assert parse_enum(value, GROUPS) == (expected, None)


def test_parse_enum_from_excel_number():
    assert parse_enum(2.0, SEVERITY) == ("medium", None)


def test_parse_enum_unknown_lists_choices_and_suggests():
    assert parse_enum("Khu dan cuu", GROUPS) == (
        None, "'Khu dan cuu' is not an accepted value; accepted: khu dan cu (residential), "
              "xa phuong (commune), co quan (agencies), doanh nghiep (enterprises), "
              "co so giao duc (schools)", "khu dan cu")
    assert parse_enum("zzz", GROUPS)[2] is None


@pytest.mark.parametrize(("value", "expected"), [
    ("105.3021", 105.3021), ("105,3021", 105.3021), (105.3021, 105.3021),
    ("105°18'07\"E", 105 + 18 / 60 + 7 / 3600), ("105° 18′ 07″ Đ", 105 + 18 / 60 + 7 / 3600),
    ("105°18,5'", 105 + 18.5 / 60),
])
def test_parse_lon(value, expected):
    lon, reason = parse_lon(value)
    assert reason is None and lon == pytest.approx(expected, abs=1e-12)


def test_parse_lat_dms():
    lat, reason = parse_lat("22°45'30\"N")
    assert reason is None and lat == pytest.approx(22.758333333, abs=1e-9)


@pytest.mark.parametrize(("parser", "value", "reason", "suggestion"), [
    (parse_lon, "21.03", "longitude 21.03 is outside Vietnam and its neighbourhood "
                         "(100 to 118)", "swap longitude and latitude?"),
    (parse_lat, 105.85, "latitude 105.85 is outside Vietnam and its neighbourhood (6 to 25)",
     "swap longitude and latitude?"),
    (parse_lon, "-105.85", "longitude -105.85 is outside Vietnam and its neighbourhood "
                           "(100 to 118)", None),
    (parse_lon, "22°45'30\"N", "'22°45'30\"N' is a latitude (it ends in N) but this column "
                               "is the longitude", "swap longitude and latitude?"),
    (parse_lat, "21°75'", "'21°75'': minutes and seconds must be below 60", None),
    (parse_lat, "bắc", "'bắc' is not a coordinate: give decimal degrees (e.g. 105.3021) or "
                      "degrees, minutes and seconds (e.g. 105°18'07\"E)", None),
])
def test_coordinate_refusals(parser, value, reason, suggestion):
    assert parser(value) == (None, reason, suggestion)


def test_parse_str():
    assert parse_str("  Tổ  tự quản\u00a0số 1 ") == ("Tổ tự quản số 1", None)
    assert parse_str("Tổ tự quản".replace("ự", "ư\u0323")) == ("Tổ tự quản", None)
    assert parse_str("   ") == (None, None)
    assert parse_str("=1+2") == ("=1+2", None)
    assert parse_str(715) == ("715", None)


def test_parse_wkt():
    square = "POLYGON((105 21, 105.1 21, 105.1 21.1, 105 21.1, 105 21))"
    assert parse_wkt(square)[0].equals(shapely.from_wkt(square))
    assert parse_wkt("POINT (105.2 21.3)")[0].equals(shapely.Point(105.2, 21.3))
    # A repeated ring closing at a touching vertex is repaired: the area does not change.
    touching = "POLYGON((105 21, 105.2 21, 105.2 21.2, 105.1 21, 105 21.2, 105 21))"
    assert not shapely.from_wkt(touching).is_valid
    repaired, reason = parse_wkt(touching)
    assert reason is None and repaired.is_valid
    assert repaired.area == pytest.approx(shapely.from_wkt(touching).area)


@pytest.mark.parametrize(("value", "reason", "suggestion"), [
    ("POLYGON((105 21, 105.1 21.1, 105.1 21, 105 21.1, 105 21))",
     "the polygon is not valid (Self-intersection[105.05 21.05]): its edges cross or touch; "
     "draw it again without crossing edges", None),
    ("LINESTRING(105 21, 106 22)",
     "a LineString is not accepted: give a Polygon, MultiPolygon or Point", None),
    ("POLYGON((21 105, 21.1 105, 21.1 105.1, 21 105))",
     "the geometry lies outside Vietnam and its neighbourhood (longitude 100 to 118, latitude "
     "6 to 25)", "WKT puts longitude first: swap the numbers of each point"),
    ("POLYGON EMPTY", "the geometry is empty", None),
    ("vùng biên giới", "this is not valid WKT",
     "write it like POLYGON((105.1 21.0, 105.2 21.0, 105.2 21.1, 105.1 21.0))"),
])
def test_parse_wkt_refusals(value, reason, suggestion):
    assert parse_wkt(value) == (None, reason, suggestion)


# --- the messy file ----------------------------------------------------------------------------

MESSY = [
    ["STT", "Tỉnh", "Huyện", "Xã", "Ngày", "Hình thức", "Nước", "Địa phương đối diện",
     "Kinh độ đối tác", "Vĩ độ đối tác", "Số người"],
    ["1", "Tuyên Quang", "", "Lũng Cú", "05/03/2024", "Tuần tra song phương", "Trung Quốc",
     "Thôn Lão Tạp (Vân Nam)", "105.32", "23.37", "12"],
    # Pre-reform province and district, no diacritics: kept raw for the unit resolver.
    ["2", "Ha Giang", "Dong Van", "Lung Cu", "12/04/2024", "trao doi thong tin", "China",
     "Xã Y", "", "", "4"],
    ["3", "Tuyên Quang", "", "Lũng Cú", "31/02/2024", "Tuần tra song phương", "Trung Quốc",
     "Thôn Lão Tạp (Vân Nam)", "", "", ""],
    # Row 2 again, written differently.
    ["4", "tuyen quang", "", "xã lũng cú", "5/3/2024", "tuan tra song phuong", "Trung Quốc",
     "thon lao tap (van nam)", "", "", "8"],
    ["5", "Điện Biên", "", "Sín Thầu", "20/05/2024", "tuan tra bien", "Lào", "Bản Z", "", "",
     ""],
    ["6", "Điện Biên", "", "Sín Thầu", "21/05/2024", "Hội đàm", "Lào", "Bản Z", "102,1",
     "22,4", "-3"],
    ["7", "Điện Biên", "", "Sín Thầu", "22/05/2024", "Bàn giao", "Lào", "Bản Z", "22.4",
     "102.1", "5"],
]

MESSY_ERRORS = [
    (4, "Ngày", "31/02/2024", "'31/02/2024' is not a real date: month 2 of 2024 has 29 days",
     None),
    (5, "Ngày", "5/3/2024", "duplicate of row 2: same Ngày, Xã, Hình thức, Địa phương đối "
                            "diện; each record may appear only once in a file",
     "delete this row or merge it with row 2"),
    (6, "Hình thức", "tuan tra bien", "'tuan tra bien' is not an accepted value; accepted: "
     + ", ".join(f"{s[0]} ({k})" for k, s in ACTIVITY_TYPES.items()), "tuan tra chung"),
    (7, "Số người", "-3", "a count cannot be negative: -3", None),
    (8, "Kinh độ đối tác", "22.4", "longitude 22.4 and latitude 102.1 look swapped: longitude "
     "must be 100 to 118 and latitude 6 to 25",
     "swap longitude and latitude (longitude 102.1, latitude 22.4)"),
]


def _messy_xlsx():
    typed = [MESSY[0]]
    for row in MESSY[1:]:
        row = list(row)
        row[0] = int(row[0])
        if row[4] != "31/02/2024":
            day, month, year = map(int, row[4].split("/"))
            row[4] = dt.datetime(year, month, day)
        for i in (8, 9, 10):
            row[i] = float(row[i].replace(",", ".")) if row[i] else None
        typed.append([cell if cell != "" else None for cell in row])
    return xlsx_bytes(typed)


@pytest.mark.parametrize("name", ["hop-tac.csv", "hop-tac.xlsx"])
def test_messy_file(name):
    data = csv_bytes(MESSY, "utf-8-sig") if name.endswith("csv") else _messy_xlsx()
    result = parse_rows(read_table(data, name), COOP)
    expected = list(MESSY_ERRORS)
    if name.endswith("xlsx"):  # a real date cell, shown day/month/year
        expected[1] = (5, "Ngày", "05/03/2024", *expected[1][3:])
    assert as_tuples(result.errors) == expected
    assert result.warnings == [
        "Column 'STT' is not a field of cross-border cooperation; it was ignored."]
    assert not result.ok
    assert [r.row for r in result.rows] == [2, 3]
    first, second = (r.values for r in result.rows)
    assert first == {
        "date": dt.date(2024, 3, 5), "activity_type": "joint_patrol", "border_station": None,
        "partner_country": "CN", "partner_locality": "Thôn Lão Tạp (Vân Nam)",
        "partner_lon": 105.32, "partner_lat": 23.37, "participants": 12, "outcome": None,
        "commune_code": None, "commune": "Lũng Cú", "district": None,
        "province": "Tuyên Quang"}
    assert (second["province"], second["district"], second["commune"]) == (
        "Ha Giang", "Dong Van", "Lung Cu")
    assert (second["partner_lon"], second["partner_lat"]) == (None, None)


def test_messy_error_report():
    result = parse_rows(read_table(csv_bytes(MESSY), "m.csv"), COOP)
    data = errors_csv(result.errors)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["row", "column", "value", "reason", "suggestion"]
    assert rows[1] == ["4", "Ngày", "31/02/2024",
                       "'31/02/2024' is not a real date: month 2 of 2024 has 29 days", ""]
    assert rows[4][:3] == ["7", "Số người", "'-3"]  # a spreadsheet would compute "-3"
    assert len(rows) == 1 + len(MESSY_ERRORS)


def test_error_report_neutralises_formulas():
    errors = [RowError(2, "=cmd|' /C calc'!A0", "+1", "@SUM(A1)", "-2"),
              RowError(3, "Tên", "=HYPERLINK(\"x\")", "ok", None)]
    rows = list(csv.reader(io.StringIO(errors_csv(errors).decode("utf-8-sig"))))
    assert rows[1] == ["2", "'=cmd|' /C calc'!A0", "'+1", "'@SUM(A1)", "'-2"]
    assert rows[2] == ["3", "Tên", "'=HYPERLINK(\"x\")", "ok", ""]


# --- kind-specific checks ----------------------------------------------------------------------


def _parse(rows, kind, **options):
    return parse_rows(read_table(csv_bytes(rows), "f.csv"), kind, **options)


def test_certification_counts_must_nest():
    result = _parse([
        ["Mã xã", "Năm", "Nhóm", "Số đăng ký", "Số đánh giá", "Số đạt"],
        ["00715", "2024", "Cơ quan", "10", "11", "12"],
        ["00716", "2024", "Cơ quan", "", "5", "6"],
        ["00717", "2024", "Cơ quan", "", "5", "5"],
        ["00718", "24", "Cơ quan", "", "5", "5"],
    ], CERT)
    assert as_tuples(result.errors) == [
        (2, "Số đạt", "12", "Số đạt (12) is more than Số đánh giá (11): only reviewed units "
                            "can be certified", None),
        (2, "Số đánh giá", "11", "Số đánh giá (11) is more than Số đăng ký (10): only "
                                 "registered units can be reviewed", None),
        (3, "Số đạt", "6", "Số đạt (6) is more than Số đánh giá (5): only reviewed units can "
                           "be certified", None),
        (5, "Năm", "24", "24 is not a plausible year", None),
    ]
    assert [r.row for r in result.rows] == [4]


def test_required_values_and_unit():
    result = _parse([
        ["Mã xã", "Xã", "Năm", "Nhóm", "Số đánh giá", "Số đạt"],
        ["", "", "2024", "", "5", "5"],
        ["", "Lũng Cú", "2024", "Cơ quan", "5", "5"],
        ["", "lung cu", "2024", "co quan", "5", "4"],
    ], CERT)
    assert as_tuples(result.errors) == [
        (2, "Nhóm", "", "this value is required but the cell is empty", None),
        (2, "Mã xã", "", "no unit given: fill in the commune code or the commune name", None),
        (4, "Xã", "lung cu", "duplicate of row 3: same Xã, Năm, Nhóm; each record may appear "
                             "only once in a file", "delete this row or merge it with row 3"),
    ]


def test_incidents_dates_not_in_future_and_fallback_key():
    rows = [
        ["Số hiệu", "Ngày", "Lĩnh vực", "Kinh độ", "Vĩ độ", "Mã xã"],
        ["", "01/06/2024", "Ma túy", "105.32", "23.37", "00715"],
        ["", "1/6/2024", "ma tuy", "105,32", "23,37", "00716"],
        ["VV-01", "02/06/2024", "Buôn lậu", "105.32", "23.37", "00715"],
        ["vv 1", "03/06/2024", "Buôn lậu", "105.4", "23.3", "00715"],
        ["VV-03", "01/07/2024", "Khác", "105.4", "", "00715"],
        ["VV-04", "30/06/2024", "Khác", "105.4", "23.3", "00715"],
    ]
    result = _parse(rows, INCIDENTS, today=dt.date(2024, 6, 30))
    assert as_tuples(result.errors) == [
        (3, "Ngày", "1/6/2024", "duplicate of row 2: same Ngày, Lĩnh vực, Kinh độ, Vĩ độ; each "
                                "record may appear only once in a file",
         "delete this row or merge it with row 2"),
        (5, "Số hiệu", "vv 1", "duplicate of row 4: same Số hiệu; each record may appear only "
                               "once in a file", "delete this row or merge it with row 4"),
        (6, "Vĩ độ", "", "this value is required but the cell is empty", None),
        (6, "Ngày", "01/07/2024", "the date 01/07/2024 is in the future", None),
    ]


def test_hot_spots_need_a_location():
    result = _parse([
        ["Mã xã", "Tên điểm", "Lĩnh vực", "Kinh độ", "Vĩ độ", "Vùng WKT", "Ngày xác định",
         "Ngày chuyển hóa"],
        ["00715", "Bến A", "Buôn lậu", "105.3", "23.3", "", "01/01/2023", ""],
        ["00715", "Bến B", "Buôn lậu", "", "", "POINT(105.3 23.3)", "", ""],
        ["00715", "Bến C", "Buôn lậu", "", "", "", "", ""],
        ["00715", "Bến D", "Buôn lậu", "105.3", "", "", "01/01/2023", "01/01/2022"],
    ], HOT_SPOTS)
    assert as_tuples(result.errors) == [
        (4, "Kinh độ", "", "no location: give Kinh độ and Vĩ độ, or the area as WKT", None),
        (5, "Vĩ độ", "", "Kinh độ is given without this one: give both coordinates or neither",
         None),
        (5, "Ngày chuyển hóa", "01/01/2022", "Ngày chuyển hóa (01/01/2022) is before Ngày xác "
                                             "định (01/01/2023)", None),
    ]
    assert result.rows[1].values["area_wkt"].equals(shapely.Point(105.3, 23.3))


def test_models_coordinates_both_or_neither():
    result = _parse([
        ["Mã xã", "Loại mô hình", "Tên mô hình", "Kinh độ", "Vĩ độ"],
        ["00715", "Tự quản", "Tổ 1", "", "23.3"],
        ["00715", "Tự quản", "Tổ 2", "", ""],
    ], MODELS)
    assert as_tuples(result.errors) == [
        (2, "Kinh độ", "", "Vĩ độ is given without this one: give both coordinates or neither",
         None)]
    assert result.rows[0].values["lon"] is None


def test_error_limit():
    rows = [["Mã xã", "Năm", "Nhóm", "Số đánh giá", "Số đạt"]]
    rows += [[f"{i:05d}", "2024", "???", "1", "1"] for i in range(10)]
    result = _parse(rows, CERT, max_errors=3)
    assert [e.row for e in result.errors] == [2, 3, 4, 4]
    assert result.errors[-1].reason.startswith("more than 3 errors: checking stopped at row 4")


# --- VN-2000 -----------------------------------------------------------------------------------

POINTS = [(105.85, 21.03), (103.0, 22.4), (106.7, 10.78), (107.6, 16.46)]
GEOD = Geod(ellps="WGS84")


def _metres_between(a, b):
    return GEOD.inv(a[0], a[1], b[0], b[1])[2]


@pytest.mark.parametrize(("options"), [
    {"central_meridian": 105.0}, {"central_meridian": 105.5}, {"central_meridian": 106.25},
    {"central_meridian": 107.75}, {"utm_zone": 48}, {"utm_zone": 49},
])
def test_vn2000_round_trip(options):
    forward = Transformer.from_crs("EPSG:4326", vn2000_crs(**options), always_xy=True)
    for point in POINTS:
        easting, northing = forward.transform(*point)
        back = to_wgs84_from_vn2000(northing, easting, **options)
        assert _metres_between(point, back) < 1.0


def test_vn2000_hanoi_sanity():
    """Ha Noi in TM-3 105°30': checked against geodesic distances, not remembered numbers."""
    hanoi = (105.85, 21.03)
    easting, northing = Transformer.from_crs(
        "EPSG:4326", vn2000_crs(105.5), always_xy=True).transform(*hanoi)
    assert 500_000 < easting < 560_000  # east of the central meridian, by some 36 km
    # The same point in VN-2000 geographic coordinates (the datum shift is a few hundred m).
    lon, lat = Transformer.from_crs("EPSG:4326", "EPSG:4756", always_xy=True).transform(*hanoi)
    assert 50 < _metres_between(hanoi, (lon, lat)) < 500
    along_parallel = GEOD.inv(105.5, lat, lon, lat)[2]
    from_equator = GEOD.inv(105.5, 0.0, 105.5, lat)[2]
    assert easting - 500_000 == pytest.approx(0.9999 * along_parallel, abs=30)
    assert northing == pytest.approx(0.9999 * from_equator, abs=100)


def test_vn2000_uses_the_official_datum_shift():
    """The TM-3 result matches the VN-2000 -> WGS 84 Helmert parameters (EPSG:6960)."""
    pipeline = Transformer.from_pipeline(
        "+proj=pipeline +step +inv +proj=tmerc +lat_0=0 +lon_0=106.25 +k=0.9999 +x_0=500000 "
        "+y_0=0 +ellps=WGS84 +step +proj=push +v_3 +step +proj=cart +ellps=WGS84 "
        "+step +proj=helmert +x=-191.90441429 +y=-39.30318279 +z=-111.45032835 "
        "+rx=-0.00928836 +ry=0.01975479 +rz=-0.00427372 +s=0.252906278 "
        "+convention=coordinate_frame +step +inv +proj=cart +ellps=WGS84 +step +proj=pop +v_3 "
        "+step +proj=unitconvert +xy_in=rad +xy_out=deg")
    for northing, easting in [(2_326_000.0, 536_000.0), (1_200_000.0, 480_000.0)]:
        expected = pipeline.transform(easting, northing)
        got = to_wgs84_from_vn2000(northing, easting, central_meridian=106.25)
        assert _metres_between(expected, got) < 0.01


def test_vn2000_in_parse_rows_reads_x_as_northing():
    to_grid = Transformer.from_crs("EPSG:4326", vn2000_crs(105.5), always_xy=True)
    easting, northing = to_grid.transform(105.32, 23.37)
    rows = [["Số hiệu", "Ngày", "Lĩnh vực", "X (m)", "Tọa độ Y", "Mã xã"],
            ["A1", "01/06/2024", "Ma túy", f"{northing:.3f}", f"{easting:.3f}", "00715"],
            ["A2", "01/06/2024", "Ma túy", f"{easting:.3f}", f"{northing:.3f}", "00715"],
            ["A3", "01/06/2024", "Ma túy",
             f"{northing:,.2f}".replace(",", " ").replace(".", ","),  # 2 586 123,45
             f"{easting:,.2f}".translate(str.maketrans(",.", ".,")), "00715"]]  # 532.123,45
    result = _parse(rows, INCIDENTS, coordinates="vn2000", central_meridian=105.5)
    values = result.rows[0].values
    assert _metres_between((105.32, 23.37), (values["lon"], values["lat"])) < 0.01
    assert [r.row for r in result.rows] == [2, 4]
    [error] = result.errors
    assert (error.row, error.column, error.value) == (3, "X (m)", f"{easting:.3f}")
    assert "fit with X and Y exchanged" in error.reason
    assert error.suggestion == "swap the X (m) and Tọa độ Y values"


def test_vn2000_wkt_and_utm():
    to_grid = Transformer.from_crs("EPSG:4326", "EPSG:3405", always_xy=True)
    easting, northing = to_grid.transform(105.3, 23.3)
    rows = [["Mã xã", "Tên điểm", "Lĩnh vực", "Vùng WKT"],
            ["00715", "Bến A", "Buôn lậu", f"POINT({easting} {northing})"]]
    result = _parse(rows, HOT_SPOTS, coordinates="vn2000", utm_zone=48)
    point = result.rows[0].values["area_wkt"]
    assert _metres_between((105.3, 23.3), (point.x, point.y)) < 0.01


@pytest.mark.parametrize(("options", "words"), [
    ({}, "either the TM-3 central meridian"),
    ({"central_meridian": 105.5, "utm_zone": 48}, "not both"),
    ({"central_meridian": 105.3}, "quarter degrees"),
    ({"central_meridian": 45.0}, "quarter degrees"),
    ({"utm_zone": 47}, "give 48 or 49"),
])
def test_vn2000_options_are_checked(options, words):
    with pytest.raises(InvalidParameter, match=words):
        to_wgs84_from_vn2000(2_326_000, 536_000, **options)
    table = read_table(csv_bytes(CERT_ROWS), "a.csv")
    with pytest.raises(InvalidParameter, match=words):
        parse_rows(table, CERT, coordinates="vn2000", **options)


def test_unknown_coordinate_system():
    with pytest.raises(InvalidParameter, match="unknown coordinate system"):
        parse_rows(read_table(csv_bytes(CERT_ROWS), "a.csv"), CERT, coordinates="utm")
