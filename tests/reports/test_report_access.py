"""Restricted sections of reports (incidents, designated hot spots, cooperation details):
shown only when the reader's area covers the unit, otherwise replaced by one sentence —
and nothing of them leaks: no figure, no hot-spot name, no partner locality, no hot spot
drawn on the map."""

from __future__ import annotations

from datetime import date

import numpy as np
from shapely.geometry import box

from geoservice.indicators import compute as ind
from geoservice.layers.catalog import load_catalog
from geoservice.layers.params import with_params
from geoservice.render.png import render_image
from geoservice.reports.labels import partner_name
from geoservice.services import of as services_of
from tests.reports.conftest import key_headers
from tests.reports.helpers import count, flat, largest_image, page_texts, read_pdf

CATALOG = load_catalog()
YEAR = 2024
SIGN_IN = "vì báo cáo được yêu cầu khi chưa đăng nhập hoặc không có khóa API"
OTHER_AREA = "vì phạm vi của khóa không bao gồm đơn vị này"
RESTRICTED_LABELS = ("Số vụ việc ghi nhận", "Số địa bàn, điểm nóng đang theo dõi",
                     "Vụ việc theo lĩnh vực", "Địa phương đối diện bên kia biên giới",
                     "Vụ việc về ANTT: synthetic")


def report(app, url: str, headers=None) -> tuple[str, object]:
    response = app.test_client().get(url, headers=headers or {})
    assert response.status_code == 200, response.get_data()[:300]
    assert "no-store" in response.headers["Cache-Control"]
    reader = read_pdf(response.data)
    return flat(" ".join(page_texts(reader))), reader


def hot_spot_names(store, province: str) -> set[str]:
    """Names of the province's hot spots in force in YEAR (what the report lists)."""
    frame = ind.records_frame(store, "hot-spots", province_code=province)
    designated = frame["designated_on"].fillna("0000")
    resolved = frame["resolved_on"].fillna("9999") if "resolved_on" in frame else "9999"
    keep = (designated <= f"{YEAR}-12-31") & (resolved >= f"{YEAR}-01-01")
    return set(frame[keep]["name"])


def partner_localities(store, province: str) -> set[str]:
    frame = ind.records_frame(store, "cooperation", province_code=province,
                              date_from=date(YEAR, 1, 1), date_to=date(YEAR, 12, 31))
    return set(frame["partner_locality"])


def assert_omitted(text: str, store, province: str, reason: str):
    assert reason in text
    for label in RESTRICTED_LABELS:
        assert label not in text, label
    for name in hot_spot_names(store, province) | partner_localities(store, province):
        assert name not in text, name


def hot_spot_colour(store, year: int) -> tuple:
    """The colour inside the planted active hot spot of Lũng Cú (00715) on its map:
    the hot-spot fill over the commune's class colour over the province fill."""
    value = ind.unit_indicators(store, "commune", year, codes=["00715"])["00715"]
    commune = with_params(CATALOG["certification-rate"], year=year).symbol_for(
        {"certification_rate_residential": value["certification_rate_residential"]})
    spot = CATALOG["hot-spots"].symbol_for({"status": "active"})
    square = box(0, 0, 20, 20)
    image = render_image([(square, CATALOG["provinces"].style.symbol()), (square, commune),
                          (square, spot)], 20, 20)
    return image.convert("RGB").getpixel((10, 10))


def pixels_of(reader, colour) -> int:
    pixels = np.asarray(largest_image(reader)).reshape(-1, 3)
    return int((pixels == np.array(colour, np.uint8)).all(axis=1).sum())


def test_anonymous_readers_get_the_public_sections_only(app):
    store = services_of(app).store
    text, reader = report(app, f"/reports/province/08.pdf?year={YEAR}")
    assert_omitted(text, store, "08", SIGN_IN)
    assert text.count(SIGN_IN) == 1  # one sentence, where the sections would be
    assert "Số liệu chính" in text and "Tỷ lệ" in text  # the public sections are there
    assert "Người nhận công khai: chỉ các mục công khai" in text


def test_national_and_other_province_keys(app):
    store = services_of(app).store
    text, _reader = report(app, f"/reports/province/08.pdf?year={YEAR}",
                           key_headers(app, "11"))
    assert_omitted(text, store, "08", OTHER_AREA)
    text, _reader = report(app, f"/reports/province/08.pdf?year={YEAR}",
                           key_headers(app, "national"))
    assert SIGN_IN not in text and OTHER_AREA not in text
    values = ind.unit_indicators(store, "province", YEAR, codes=["08"])["08"]
    assert f"Số vụ việc ghi nhận {count(values['incidents'])}" in text
    names = hot_spot_names(store, "08")
    assert names and all(name in text for name in names)
    localities = partner_localities(store, "08")  # by their Vietnamese names (Vân Nam)
    assert localities and all(partner_name(name, "vi") in text for name in localities)


def test_hot_spots_are_drawn_only_for_readers_who_may_see_them(app):
    store = services_of(app).store
    colour = hot_spot_colour(store, YEAR)
    url = f"/reports/commune/00715.pdf?year={YEAR}"
    _text, allowed = report(app, url, key_headers(app, "08"))
    assert pixels_of(allowed, colour) > 500  # the planted area, 1.5 km across
    for headers in ({}, key_headers(app, "11")):
        text, refused = report(app, url, headers)
        assert pixels_of(refused, colour) < 20  # a few anti-aliased edges may match
        assert "Khu vực biên giới xã Lũng Cú" not in text


def test_a_province_key_sees_only_its_own_rows_of_a_border_sector(app):
    store = services_of(app).store
    text, _reader = report(app, f"/reports/border/CN.pdf?year={YEAR}",
                           key_headers(app, "08"))
    assert "Số liệu hạn chế chỉ gồm các xã, phường thuộc Tỉnh Tuyên Quang" in text
    own, other = hot_spot_names(store, "08"), hot_spot_names(store, "11")
    facing_china = {name for name in own if name in text}
    assert facing_china, "no hot spot of 08 in its border sector report"
    for name in other:
        assert name not in text, name
    start, end = date(YEAR, 1, 1), date(YEAR, 12, 31)
    frame = ind.incident_counts(store, start, end, province_code="08")
    sector = ind.by_border_neighbor(frame, store)
    own_total = int(sector[sector["neighbor"] == "CN"]["incidents"].sum())
    assert f"Số vụ việc ghi nhận {count(own_total)}" in text
    text, _reader = report(app, f"/reports/border/CN.pdf?year={YEAR}",
                           key_headers(app, "national"))
    assert "Số liệu hạn chế chỉ gồm" not in text
    national = ind.by_border_neighbor(ind.incident_counts(store, start, end), store)
    total = int(national[national["neighbor"] == "CN"]["incidents"].sum())
    assert total > own_total and f"Số vụ việc ghi nhận {count(total)}" in text
