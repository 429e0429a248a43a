"""A page of features as CSV or XLSX: the same rows as f=json for the same filters, sorting
and paging, properties only (and the position of points), decoded and compared row by row."""

from __future__ import annotations

import csv
import io
import json
import unicodedata

import openpyxl
import pytest

from geoservice.auth import create_key
from geoservice.services import of as services_of
from tests.web.helpers import assert_error, get
from tests.web.test_tiles import demo_db  # noqa: F401 - the shared session fixture

QUERIES = [
    "/collections/communes/items?province_code=08&sortby=-official_area_km2&limit=40&offset=5",
    "/collections/communes/items?q=lung cu&properties=name,full_name,province_name",
    "/collections/provinces/items?year=2024",
    "/collections/incidents/items?filter=severity = 'high'&sortby=-date&limit=300",
    "/collections/incidents/items?province_code=11&category=drugs&offset=3&limit=20",
    "/collections/certification/items?year=2024&sortby=commune_code,group&limit=200",
    "/collections/certification-rate/items?group=schools&sortby=-name",
    "/collections/model-points/items?limit=50",
    "/collections/border-communes-la/items?limit=10&offset=2",
]


@pytest.fixture
def app(make_app, demo_db):  # noqa: F811
    return make_app(demo_db)


@pytest.fixture
def national(app):
    return {"X-API-Key": create_key(services_of(app).store, "table", "viewer",
                                    "national")[1]}


def as_text(value) -> str:
    """How a JSON property reads in the CSV."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join("" if v is None else str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def expected_table(body: dict) -> tuple[list[str], list[list]]:
    features = body["features"]
    header = list(dict.fromkeys(k for f in features for k in f["properties"]))
    points = any((f["geometry"] or {}).get("type") == "Point" for f in features)
    rows = []
    for f in features:
        row = [f["properties"].get(name) for name in header]
        if points:
            row += f["geometry"]["coordinates"][:2]
        rows.append(row)
    return header + (["longitude", "latitude"] if points else []), rows


def download(client, url: str, fmt: str, headers: dict):
    response = client.get(f"{url}&f={fmt}", headers=headers)
    assert response.status_code == 200, response.get_data()[:300]
    name = url.split("/")[2]
    assert response.headers["Content-Disposition"] == f'attachment; filename="{name}.{fmt}"'
    return response


@pytest.mark.parametrize("url", QUERIES)
def test_csv_is_the_json_page_row_by_row(app, national, url):
    client = app.test_client()
    body = client.get(url, headers=national).get_json()
    assert body["features"], url  # every query shows rows
    header, rows = expected_table(body)
    response = download(client, url, "csv", national)
    assert response.mimetype == "text/csv" and response.mimetype_params["charset"] == "utf-8"
    assert response.data.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8 right
    text = response.data.decode("utf-8-sig")
    assert unicodedata.is_normalized("NFC", text)
    table = list(csv.reader(io.StringIO(text, newline="")))
    assert table[0] == header
    assert len(table) - 1 == len(rows) == body["numberReturned"]
    for got, want in zip(table[1:], rows):
        assert got == [as_text(v) for v in want]


@pytest.mark.parametrize("url", QUERIES)
def test_xlsx_is_the_json_page_row_by_row(app, national, url):
    client = app.test_client()
    body = client.get(url, headers=national).get_json()
    header, rows = expected_table(body)
    response = download(client, url, "xlsx", national)
    assert response.mimetype == ("application/vnd.openxmlformats-officedocument."
                                 "spreadsheetml.sheet")
    book = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
    sheet = book.worksheets[0]
    assert sheet.title == url.split("/")[2][:31]
    table = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert table[0] == header
    assert len(table) - 1 == len(rows)
    for got, want in zip(table[1:], rows):
        cells = [as_text(v) if isinstance(v, (list, dict)) else v for v in want]
        assert got == [None if v == "" else v for v in cells]  # Excel keeps no empty text
    notes = [list(row) for row in book.worksheets[1].iter_rows(values_only=True)]
    assert notes == [[body["notice"]]]  # the demo data says it is synthetic


def test_vietnamese_names_survive_in_both_formats(app, national):
    client = app.test_client()
    url = "/collections/provinces/items?sortby=code"
    names = [f["properties"]["full_name"] for f in get(client, url)["features"]]
    assert any(ch in "".join(names) for ch in "ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữự")
    text = download(client, url, "csv", {}).data.decode("utf-8-sig")
    column = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [row["full_name"] for row in column] == names
    book = openpyxl.load_workbook(io.BytesIO(download(client, url, "xlsx", {}).data))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    position = rows[0].index("full_name")
    assert [row[position] for row in rows[1:]] == names


def test_an_empty_page_keeps_its_header(app):
    response = app.test_client().get("/collections/communes/items?q=zzzzzz&f=csv")
    table = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))
    assert len(table) == 1 and "name" in table[0] and "geometry" not in table[0]


def test_table_exports_keep_the_access_rules_and_the_error_shape(app, national):
    client = app.test_client()
    refused = client.get("/collections/incidents/items?f=csv")
    assert_error(refused.get_json(), 401)
    province = {"X-API-Key": create_key(services_of(app).store, "t08", "viewer", "08")[1]}
    text = download(client, "/collections/incidents/items?limit=1000", "csv",
                     province).data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert rows and {row["province_code"] for row in rows} == {"08"}
    for query in ("f=pdf", "f=csv&colour=red", "f=xlsx&limit=0"):
        bad = client.get(f"/collections/communes/items?{query}")
        assert bad.status_code == 400 and bad.mimetype == "application/json"
        assert_error(bad.get_json(), 400)
