"""Property tests (Hypothesis) of the parsers that meet officials' files and requests:
dates, counts, coordinates, choices, WKT, whole files, and the request validators (bbox,
codes, tiles, audit filters, user names). Two kinds of property: every way of writing a
value reads back to that value; and no input whatever makes a parser fail other than by
its documented answer (an error outcome, or InvalidParameter)."""

from __future__ import annotations

import datetime as dt
import io
import math
import unicodedata
import zipfile
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from geoservice import audit, users
from geoservice import params as P
from geoservice.api import tiles as tileapi
from geoservice.api.context import RequestContext
from geoservice.errors import GeoserviceError, InvalidParameter, NotFound
from geoservice.layers.catalog import load_catalog
from geoservice.records.kinds import INCIDENT_CATEGORIES, KINDS
from geoservice.records.parsing.coordinates import (
    LAT_RANGE,
    LON_RANGE,
    parse_lat,
    parse_lon,
    parse_wkt,
)
from geoservice.records.parsing.reading import MAX_XLSX_MEMBERS, MAX_XLSX_UNCOMPRESSED, read_table
from geoservice.records.parsing.rows import parse_rows
from geoservice.records.parsing.values import MAX_COUNT, parse_date, parse_enum, parse_int
from geoservice.text import ascii_fold

SETTINGS = settings(max_examples=300, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
ANYTHING = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(),
                     st.dates(), st.datetimes(), st.times(), st.binary().map(repr))


def well_formed(outcome) -> bool:
    """An outcome is (value, None) or (None, reason text, suggestion or None)."""
    if len(outcome) == 2:
        return outcome[1] is None
    value, reason, suggestion = outcome
    return value is None and isinstance(reason, str) and reason and (
        suggestion is None or isinstance(suggestion, str))


# --- dates ------------------------------------------------------------------------------

DATES = st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2100, 12, 31))


@SETTINGS
@given(DATES, st.sampled_from(["{d:02d}/{m:02d}/{y}", "{d}/{m}/{y}", "{d:02d}-{m:02d}-{y}",
                               "{d:02d}.{m:02d}.{y}", "{y}-{m:02d}-{d:02d}", "{y}/{m}/{d}",
                               "ngày {d} tháng {m} năm {y}", " {d:02d}/{m:02d}/{y} 08:30 "]))
def test_every_written_form_of_a_date_reads_back(day, form):
    text = form.format(d=day.day, m=day.month, y=day.year)
    assert parse_date(text) == (day, None)
    assert parse_date(unicodedata.normalize("NFD", text)) == (day, None)


@SETTINGS
@given(DATES)
def test_excel_dates_and_serials_read_back(day):
    serial = (day - dt.date(1899, 12, 30)).days
    assert parse_date(serial) == (day, None)
    assert parse_date(float(serial)) == (day, None)
    assert parse_date(dt.datetime.combine(day, dt.time(13, 5))) == (day, None)


@SETTINGS
@given(st.integers(1, 31), st.integers(13, 31), st.integers(1950, 2100))
def test_dates_are_never_read_month_first(day, month, year):
    value, *problem = parse_date(f"{day:02d}/{month:02d}/{year}")
    assert value is None and problem[0]


@SETTINGS
@given(ANYTHING)
def test_date_parser_never_fails_on_anything(value):
    outcome = parse_date(value)
    assert well_formed(outcome)
    assert outcome[0] is None or dt.date(1900, 1, 1) <= outcome[0] <= dt.date(2100, 12, 31) \
        or isinstance(value, dt.date)


# --- counts -----------------------------------------------------------------------------

@SETTINGS
@given(st.integers(0, MAX_COUNT), st.sampled_from(["", ".", ",", " "]))
def test_every_written_form_of_a_count_reads_back(number, separator):
    text = f"{number:,}".replace(",", separator) if separator else str(number)
    assume(separator == "" or number >= 1000)
    assert parse_int(text) == (number, None)
    assert parse_int(float(number)) == (number, None)
    assert parse_int(f"  {number}  ") == (number, None)


@SETTINGS
@given(st.integers(max_value=-1))
def test_negative_counts_are_refused(number):
    value, reason, _suggestion = parse_int(str(number))
    assert value is None and "negative" in reason


@SETTINGS
@given(ANYTHING)
def test_count_parser_never_fails_on_anything(value):
    outcome = parse_int(value)
    assert well_formed(outcome)
    assert outcome[0] is None or 0 <= outcome[0] <= MAX_COUNT


# --- coordinates ------------------------------------------------------------------------

LONS = st.floats(*LON_RANGE, allow_nan=False)
LATS = st.floats(*LAT_RANGE, allow_nan=False)


@SETTINGS
@given(LONS, LATS)
def test_decimal_coordinates_read_back_with_point_or_comma(lon, lat):
    for text, expected, parse in ((f"{lon:.6f}", lon, parse_lon),
                                  (f"{lat:.6f}", lat, parse_lat)):
        for written in (text, text.replace(".", ",")):
            value, problem = parse(written)
            assert problem is None and math.isclose(value, round(expected, 6), abs_tol=1e-9)


@SETTINGS
@given(st.integers(101, 117), st.integers(0, 59), st.integers(0, 59),
       st.sampled_from(["{d}°{m}'{s}\"E", "{d}° {m}′ {s}″ Đ", "E{d}°{m}'{s}\""]))
def test_degrees_minutes_seconds_read_back(degrees, minutes, seconds, form):
    value, problem = parse_lon(form.format(d=degrees, m=minutes, s=seconds))
    assert problem is None
    assert math.isclose(value, degrees + minutes / 60 + seconds / 3600, abs_tol=1e-9)


@SETTINGS
@given(st.floats(allow_nan=False, allow_infinity=False).filter(
    lambda v: not LON_RANGE[0] <= v <= LON_RANGE[1]))
def test_longitudes_outside_the_region_are_refused(value):
    assert parse_lon(repr(value))[0] is None


@SETTINGS
@given(ANYTHING)
def test_coordinate_parsers_never_fail_on_anything(value):
    for parse, bounds in ((parse_lon, LON_RANGE),
                          (parse_lat, LAT_RANGE)):
        outcome = parse(value)
        assert well_formed(outcome)
        assert outcome[0] is None or bounds[0] <= outcome[0] <= bounds[1]


@SETTINGS
@given(st.one_of(st.text(), st.from_regex(r"(POINT|POLYGON|MULTIPOLYGON|LINESTRING) ?\(.{0,60}",
                                          fullmatch=True)))
def test_wkt_parser_never_fails_on_anything(text):
    outcome = parse_wkt(text)
    assert well_formed(outcome)
    if outcome[0] is not None:
        assert outcome[0].is_valid and outcome[0].geom_type in ("Point", "Polygon",
                                                               "MultiPolygon")


# --- choices and codes ------------------------------------------------------------------

@SETTINGS
@given(st.sampled_from([(c, s) for c, spellings in INCIDENT_CATEGORIES.items()
                        for s in (c, *spellings)]),
       st.sampled_from([str.upper, str.title, str.lower, lambda t: f"  {t} "]))
def test_every_spelling_of_a_choice_reads_back(pair, change):
    choice, spelling = pair
    assert parse_enum(change(spelling), INCIDENT_CATEGORIES) == (choice, None)


@SETTINGS
@given(ANYTHING)
def test_choice_parser_never_fails_on_anything(value):
    outcome = parse_enum(value, INCIDENT_CATEGORIES)
    assert well_formed(outcome) and outcome[0] in (None, *INCIDENT_CATEGORIES)


@SETTINGS
@given(st.text(max_size=12))
def test_codes_are_two_or_five_ascii_digits_or_refused(text):
    for digits, name in ((2, "province_code"), (5, "commune_code")):
        try:
            parse = P.province_code if digits == 2 else P.commune_code
            assert parse(text, name) == text
            assert text.isascii() and text.isdigit() and len(text) == digits
        except InvalidParameter as error:
            assert error.parameter == name


@SETTINGS
@given(st.one_of(st.text(max_size=60), st.lists(st.floats(), min_size=4, max_size=4).map(
    lambda v: ",".join(map(repr, v)))))
def test_bbox_is_four_ordered_finite_degrees_or_refused(text):
    try:
        minx, miny, maxx, maxy = P.bbox(text)
    except InvalidParameter as error:
        assert error.parameter == "bbox"
        return
    assert -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90


# --- request validators -----------------------------------------------------------------

CATALOG = load_catalog()
CONTEXT = RequestContext(SimpleNamespace(catalog=CATALOG), "")  # no store: parsing only


@SETTINGS
@given(st.text(max_size=10), st.text(max_size=10), st.text(max_size=14))
def test_tile_addresses_are_in_range_or_refused(z, x, name):
    try:
        request = tileapi.parse_tile(CONTEXT, "provinces", z, x, name, {})
    except InvalidParameter as error:
        assert error.parameter in ("z", "x", "y")
        return
    limit = 2**request.z
    assert 0 <= request.z <= tileapi.MAX_ZOOM and 0 <= request.x < limit
    assert 0 <= request.y < limit


@SETTINGS
@given(st.dictionaries(st.sampled_from(["action", "actor", "since", "until", "limit",
                                        "offset", "other"]), st.text(max_size=30), max_size=5))
def test_audit_filters_are_valid_or_refused(args):
    try:
        query = audit.parse_query(args)
    except InvalidParameter as error:
        assert error.parameter in args
        return
    assert 1 <= query.limit <= audit.MAX_PAGE and query.offset >= 0
    assert query.action in (None, *audit.ACTIONS)


@SETTINGS
@given(st.text(max_size=80))
def test_user_names_are_normalised_or_refused(text):
    try:
        name = users.normalise_username(text)
    except InvalidParameter:
        return
    assert name == name.lower() and name.isascii() and 3 <= len(name) <= 64
    assert users.normalise_username(name.upper()) == name


# --- whole files ------------------------------------------------------------------------

@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(st.binary(max_size=3000), st.sampled_from(["a.csv", "a.xlsx", "a.xls", "a.txt", "a"]))
def test_any_bytes_are_read_or_refused_clearly(data, name):
    try:
        table = read_table(data, name)
    except InvalidParameter as error:
        assert error.parameter == "file" and error.message
        return
    assert table.headers and table.rows
    result = parse_rows(table, KINDS["incidents"])
    assert all(well_formed((None, e.reason, e.suggestion)) for e in result.errors)


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(st.lists(st.lists(st.one_of(st.text(max_size=20), st.integers(), st.floats()),
                         min_size=1, max_size=8), min_size=1, max_size=20))
def test_any_csv_grid_parses_into_rows_or_errors(grid):
    text = "\n".join(",".join(str(c).replace(",", " ").replace("\n", " ") for c in row)
                     for row in [["Mã vụ việc", "Tỉnh", "Xã", "Ngày", "Loại", "Kinh độ",
                                  "Vĩ độ"], *grid])
    try:
        table = read_table(text.encode(), "x.csv")
    except InvalidParameter as error:  # e.g. only blank rows, or a NUL character
        assert error.parameter == "file"
        return
    result = parse_rows(table, KINDS["incidents"])
    for row in result.rows:
        lon, lat = row.values.get("lon"), row.values.get("lat")
        assert lon is None or LON_RANGE[0] <= lon <= LON_RANGE[1]
        assert lat is None or LAT_RANGE[0] <= lat <= LAT_RANGE[1]


def bomb(size: int, members: int = 1) -> bytes:
    """A zip claiming `size` bytes of content per member (highly compressible zeros)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        for i in range(members):
            archive.writestr(f"xl/worksheets/sheet{i}.xml", b"\x00" * size)
    return buffer.getvalue()


@pytest.mark.parametrize("data, words", [
    (bomb(MAX_XLSX_UNCOMPRESSED + 1), "too large"),
    (bomb(1, MAX_XLSX_MEMBERS + 1), "not a valid Excel"),
    (b"PK\x03\x04" + b"\x00" * 100, "not a valid Excel"),
])
def test_zip_bombs_are_refused_before_opening_the_workbook(data, words):
    assert len(data) < 20 * 1024 * 1024  # small on the wire, huge once unpacked
    with pytest.raises(InvalidParameter, match=words):
        read_table(data, "bomb.xlsx")


def test_parsers_take_vietnamese_text_in_any_normal_form():
    for form in ("NFC", "NFD"):
        text = unicodedata.normalize(form, "ma tuý")
        assert parse_enum(text, INCIDENT_CATEGORIES) == ("drugs", None)
    assert ascii_fold("Lũng Cú") == "Lung Cu"
    with pytest.raises(GeoserviceError):
        tileapi.parse_tile(CONTEXT, "no-such-layer", "1", "0", "0.mvt", {})
    with pytest.raises(NotFound):
        tileapi.parse_tile(CONTEXT, "no-such-layer", "1", "0", "0.mvt", {})
