"""Report PDFs of the fixture (provinces 08 and 11 with the synthetic demo records): the
Vietnamese names, every key figure equal to what the indicator functions give for the unit
and year, the fonts embedded, the map drawn in the classification colours, English."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pytest
from fontTools.ttLib import TTFont
from shapely.geometry import box

from geoservice.indicators import compute as ind
from geoservice.layers.catalog import load_catalog
from geoservice.layers.params import with_params
from geoservice.render.fonts import font_path
from geoservice.render.png import render_image
from geoservice.reports.labels import partner_name
from geoservice.services import of as services_of
from tests.conftest import NODE_MODULES
from tests.reports.conftest import key_headers
from tests.reports.helpers import (
    MISSING,
    count,
    exact_rate,
    flat,
    fonts,
    landscape_pages,
    largest_image,
    page_texts,
    points,
    rate,
    read_pdf,
    units_short,
    unsigned,
)

CATALOG = load_catalog()
YEAR = 2024
GROUP_LABELS = {
    "vi": {"residential": "Khu dân cư (thôn, tổ dân phố)", "commune": "Xã, phường, đặc khu",
           "agencies_enterprises_schools": "Cơ quan, doanh nghiệp, cơ sở giáo dục"},
    "en": {"residential": "Residential areas", "commune": "Commune-level units",
           "agencies_enterprises_schools": "Agencies, enterprises and schools"},
}


def get_pdf(app, url: str, headers=None):
    response = app.test_client().get(url, headers=headers or {})
    assert response.status_code == 200, response.get_data()[:300]
    assert response.mimetype == "application/pdf"
    reader = read_pdf(response.data)
    return reader, page_texts(reader)


def before_map(reader, texts) -> str:
    """The text of the pages before the landscape map page (title and key figures)."""
    return flat(" ".join(texts[:landscape_pages(reader)[0]]))


BASIS_WORDS = {"vi": {"registered": "đăng ký", "reviewed": "được đánh giá"},
               "en": {"registered": "registered", "reviewed": "reviewed"}}


def certification_row(row, lang="vi") -> str:
    """A certification table row as printed: group, registered, reviewed, certified, the
    rate (certified ÷ reviewed), change, what the target is counted against, the share
    certified of those, the gap and the units short — the last three redone here from the
    printed counts, so the row reconciles on paper."""
    registered, reviewed, certified = (None if row[k] != row[k] or row[k] is None
                                       else int(row[k])
                                       for k in ("registered", "reviewed", "certified"))
    change = row["change_vs_previous_year"]
    change = None if change is None or change != change else change
    basis = row["gap_basis"]
    base = registered if basis == "registered" else reviewed
    gap = (Decimal(100) - Decimal(certified) * 100 / Decimal(base)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP)
    return " ".join([GROUP_LABELS[lang][row["group"]],
                     MISSING if registered is None else count(registered, lang),
                     count(reviewed, lang), count(certified, lang),
                     exact_rate(certified, reviewed, lang),
                     MISSING if change is None else points(change, lang),
                     BASIS_WORDS[lang][basis], exact_rate(certified, base, lang),
                     unsigned(float(gap), lang),
                     count(units_short(certified, base), lang)])


def assert_fonts_embedded(reader, text: str = ""):
    """Every font is DejaVu Sans, embedded as a TrueType (CID) font — no Type 3 or base-14
    substitute — and every character of `text` has a glyph in DejaVu Sans."""
    cmap = TTFont(font_path("regular", NODE_MODULES)).getBestCmap()
    missing = sorted({c for c in text if not c.isspace() and ord(c) not in cmap})
    assert not missing, f"no glyph for {missing}"
    used = fonts(reader)
    assert used, "no font in the PDF"
    for font in used:
        assert "DejaVu" in font["name"], font
        assert font["subtype"] == "/Type0" and font["descendant"] == "/CIDFontType2", font
        assert font["embedded"], f"{font['name']} is not embedded (/FontFile2)"


def class_colour(symbol) -> tuple:
    """The colour a class symbol gives a commune's interior on the map (over the province
    fill, as the report draws it), computed by the renderer itself."""
    under = CATALOG["provinces"].style.symbol()
    image = render_image([(box(0, 0, 20, 20), under), (box(0, 0, 20, 20), symbol)], 20, 20)
    return image.convert("RGB").getpixel((10, 10))


def assert_map_classified(reader, store, communes: list[str], year: int):
    """The map shows the classes of the unit's communes in their legend colours."""
    image = largest_image(reader)
    pixels = np.asarray(image).reshape(-1, 3)
    colours, counts = np.unique(pixels, axis=0, return_counts=True)
    assert len(colours) > 100, "the map image looks blank"
    found = {tuple(int(v) for v in c): int(n) for c, n in zip(colours, counts)}
    values = ind.unit_indicators(store, "commune", year, codes=communes)
    layer = with_params(CATALOG["certification-rate"], year=year)
    classes: dict = {}
    for code in communes:
        symbol = layer.symbol_for({"certification_rate_residential":
                                   values[code]["certification_rate_residential"]})
        classes[symbol] = classes.get(symbol, 0) + 1
    assert classes
    for symbol, members in classes.items():
        if members >= 3:
            colour = class_colour(symbol)
            assert found.get(colour, 0) > 200, (symbol, colour, members)


def test_province_report_has_the_indicator_values_fonts_and_map(backend_app):
    store = services_of(backend_app).store
    reader, texts = get_pdf(backend_app, f"/reports/province/08.pdf?year={YEAR}&lang=vi",
                            key_headers(backend_app, "national"))
    everything = flat(" ".join(texts))
    assert "Báo cáo an ninh, trật tự: Tỉnh Tuyên Quang" in everything
    assert "Năm 2024" in everything and "Dữ liệu minh họa tổng hợp" in everything
    key = before_map(reader, texts)
    values = ind.unit_indicators(store, "province", YEAR, codes=["08"])["08"]
    frame = ind.certification_rates(store, YEAR, "province", province_code="08")
    for group in GROUP_LABELS["vi"]:
        row = frame[frame["group"] == group].iloc[0]
        assert certification_row(row) in key, group
    models = ind.model_coverage(store, YEAR, level="province", province_code="08")
    anyone = models[models["model_type"] == "any"].iloc[0]
    assert (f"Bất kỳ mô hình nào {count(anyone['models'])} {count(anyone['covered_communes'])}"
            f" / {count(anyone['communes'])} {rate(values['model_coverage_any'])}") in key
    for label, name in (("Số buổi tuyên truyền", "awareness_sessions"),
                        ("Số người tham gia", "awareness_participants"),
                        ("Tập thể được khen thưởng", "awareness_commended_collectives"),
                        ("Cá nhân được khen thưởng", "awareness_commended_individuals"),
                        ("Số vụ việc ghi nhận", "incidents"),
                        ("Hoạt động hợp tác qua biên giới", "cooperation_activities")):
        assert f"{label} {count(values[name])}" in key, name
    assert len(landscape_pages(reader)) == 1
    assert_fonts_embedded(reader, everything)
    communes = ind.unit_codes(store, "commune", "08")["code"].tolist()
    assert_map_classified(reader, store, communes, YEAR)
    top, sections = reader.outline[0], reader.outline[1]  # bookmarks: h1, then its h2s
    assert top.title == "Báo cáo an ninh, trật tự: Tỉnh Tuyên Quang"
    assert "Số liệu chính" in [item.title for item in sections if not isinstance(item, list)]


def test_commune_report_of_a_border_commune(app):
    store = services_of(app).store
    reader, texts = get_pdf(app, f"/reports/commune/00715.pdf?year={YEAR}",
                            key_headers(app, "08"))
    everything = flat(" ".join(texts))
    assert "Báo cáo an ninh, trật tự: Xã Lũng Cú" in everything
    assert "Báo cáo cấp xã (Tỉnh Tuyên Quang)" in everything
    values = ind.unit_indicators(store, "commune", YEAR, codes=["00715"])["00715"]
    frame = ind.certification_rates(store, YEAR, "commune", province_code="08")
    frame = frame[frame["code"] == "00715"]
    text = flat(" ".join(texts[:2]))
    for group in GROUP_LABELS["vi"]:
        row = frame[frame["group"] == group].iloc[0]
        assert certification_row(row) in text, group
    assert f"Số vụ việc ghi nhận {count(values['incidents'])}" in text
    assert "Khu vực biên giới xã Lũng Cú" in everything  # its planted hot spot (restricted)
    assert not landscape_pages(reader)  # a commune's map fits a portrait page
    assert_fonts_embedded(reader, everything)
    assert len(np.unique(np.asarray(largest_image(reader)).reshape(-1, 3), axis=0)) > 100


def test_border_sector_report_rolls_up_the_communes_facing_laos(backend_app):
    store = services_of(backend_app).store
    reader, texts = get_pdf(backend_app, f"/reports/border/LA.pdf?year={YEAR}",
                            key_headers(backend_app, "national"))
    everything = flat(" ".join(texts))
    assert "Báo cáo an ninh, trật tự: Biên giới Việt Nam – Lào" in everything
    key = before_map(reader, texts)
    sector = ind.by_border_neighbor(ind.certification_rates(store, YEAR, "commune"), store)
    sector = sector[sector["neighbor"] == "LA"]
    for group in GROUP_LABELS["vi"]:
        row = sector[sector["group"] == group].iloc[0]
        assert certification_row(row) in key, group
    awareness = ind.by_border_neighbor(ind.awareness_totals(store, YEAR), store)
    awareness = awareness[awareness["neighbor"] == "LA"].iloc[0]
    assert f"Số người tham gia {count(awareness['participants'])}" in key
    start, end = date(YEAR, 1, 1), date(YEAR, 12, 31)
    activities = ind.by_border_neighbor(ind.activity_counts(store, start, end,
                                                            partner_country="LA"), store)
    total = int(activities[activities["neighbor"] == "LA"]["activities"].sum())
    assert total > 0
    assert f"Hoạt động hợp tác qua biên giới {count(total)}" in key
    communes = [c for c in ind.unit_codes(store, "commune")["code"]
                if "LA" in (store.get("communes", c)[1].get("border_neighbors") or [])]
    records = ind.records_frame(store, "cooperation", date_from=start, date_to=end)
    localities = set(records[records["commune_code"].isin(communes)
                             & (records["partner_country"] == "LA")]["partner_locality"])
    # Partner localities by their Vietnamese names in a Vietnamese report (Luang Prabang
    # prints as Luông Pha Bang), never the records' romanisation.
    assert localities
    for name in localities:
        vietnamese = partner_name(name, "vi")
        assert vietnamese in everything, name
        assert vietnamese == name or name not in everything, name
    assert "Điện Biên" in everything
    assert_fonts_embedded(reader, everything)
    assert_map_classified(reader, store, communes, YEAR)


def test_english_report_has_english_headings_and_numbers(app):
    store = services_of(app).store
    reader, texts = get_pdf(app, f"/reports/province/11.pdf?year={YEAR}&lang=en")
    everything = flat(" ".join(texts))
    for heading in ("Security and order report: Điện Biên Province", "Key figures",
                    "Certification as safe in security and order", "About these figures",
                    "Self-management and security models", "Page 1 / "):
        assert heading in everything, heading
    for vietnamese in ("Số liệu chính", "Báo cáo an ninh", "Giải thích số liệu", "Trang 1"):
        assert vietnamese not in everything, vietnamese
    values = ind.unit_indicators(store, "province", YEAR, codes=["11"])["11"]
    frame = ind.certification_rates(store, YEAR, "province", province_code="11")
    row = frame[frame["group"] == "residential"].iloc[0]
    assert certification_row(row, "en") in before_map(reader, texts)
    assert f"Participants {count(values['awareness_participants'], 'en')}" in everything


@pytest.mark.parametrize("lang,sentence", [
    ("vi", "Không có số liệu công nhận hoặc tuyên truyền năm 1999"),
    ("en", "There are no certification or awareness records for 1999"),
])
def test_a_year_without_records_gives_a_report_saying_so(app, lang, sentence):
    reader, texts = get_pdf(app, f"/reports/province/08.pdf?year=1999&lang={lang}")
    everything = flat(" ".join(texts))
    assert sentence in everything
    assert "2022, 2023, 2024, 2025" in everything  # the years that have records
    assert_fonts_embedded(reader)
