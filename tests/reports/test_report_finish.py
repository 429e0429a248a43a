"""Issue 18: figures that reconcile and round once, maps that name communes and show the
Hoàng Sa and Trường Sa archipelagos, numbered hot spots, one language and one date
format per report, no nearly empty last page, and the PDF's metadata."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest
import shapely

from geoservice.reports.content import target_gap
from geoservice.reports.document import map_texts
from geoservice.reports.format import Formatter, share
from geoservice.reports.map_inset import archipelagos_for
from geoservice.reports.maps import MapSpec, unit_map
from geoservice.reports.restricted import hot_spots
from geoservice.reports.units import Unit, find_unit
from geoservice.services import of as services_of
from tests.reports.conftest import key_headers
from tests.reports.helpers import flat, page_texts, read_pdf

YEAR = 2024
ARCHIPELAGOS = {"vi": ["Quần đảo Hoàng Sa", "Quần đảo Trường Sa"],
                "en": ["Hoang Sa (Paracel) Islands", "Truong Sa (Spratly) Islands"]}


@pytest.mark.parametrize("part,whole,lang,printed", [
    (27, 38, "vi", "71,1 %"),  # 71,052… : once, half-up (not 71,0)
    (21, 22, "vi", "95,5 %"),  # 95,454…
    (27, 38, "en", "71.1%"),
    (1, 8, "vi", "12,5 %"),
    (917, 917, "vi", "100,0 %"),
])
def test_a_rate_is_rounded_once_half_up(part, whole, lang, printed):
    assert Formatter(lang).rate(share(part, whole)) == printed


@pytest.mark.parametrize("value,threshold,printed", [
    (Fraction(7402, 10000), 0.74, "74,02 %"),  # above 74 %: never "74,0 %"
    (Fraction(7398, 10000), 0.74, "73,98 %"),  # below: never "74,0 %"
    (Fraction(9999, 10000), 1.0, "99,99 %"),  # short of the target: never "100,0 %"
    (Fraction(999999, 1000000), 1.0, "99,999 %"),  # at most three decimals, cut down
    (Fraction(7451, 10000), 0.74, "74,5 %"),  # away from the threshold: one decimal
    (Fraction(74, 100), 0.74, "74,0 %"),  # on it
])
def test_a_rate_never_reads_on_the_wrong_side_of_a_threshold(value, threshold, printed):
    assert Formatter("vi").rate(value, [threshold]) == printed


@pytest.mark.parametrize("registered,reviewed,certified,basis,short,gap", [
    (949, 917, 760, "registered", 189, "19,9"),  # Lai Châu: 949 − 760, not 917 − 760
    (10, 8, 8, "registered", 2, "20,0"),  # Phường Nha Trang's agencies: 10 − 8
    (None, 917, 760, "reviewed", 157, "17,1"),
    (5, 5, 5, "registered", 0, "0,0"),
])
def test_the_gap_is_counted_from_the_printed_counts(registered, reviewed, certified, basis,
                                                   short, gap):
    counts = {"registered": registered, "reviewed": reviewed, "certified": certified}
    row = target_gap(counts, basis, 1.0)
    assert row["units_short"] == short == row["basis_count"] - certified
    assert Formatter("vi").points(row["gap_to_target"], signed=False) == gap


def _map(app, kind, code, lang="vi", hot=()):
    services = services_of(app)
    with app.test_request_context("/", query_string={"lang": lang}):
        texts = map_texts("unit")
        unit = find_unit(services.store, kind, code)
        spec = MapSpec(unit, YEAR, lang, "portrait" if kind == "commune" else "landscape",
                       1.0, node_modules=services.node_modules)
        return unit, unit_map(services.store, services.catalog, spec, list(hot), texts)


def _no_overlaps(labels):
    boxes = [shapely.box(*label["box"]) for label in labels]
    for i, one in enumerate(boxes):
        for other in boxes[i + 1:]:
            assert not one.intersects(other), (one.bounds, other.bounds)


def test_a_province_map_names_its_communes_without_collisions(app):
    unit, drawn = _map(app, "province", "08")
    names = drawn.names("commune")
    own = {c["name"] for c in unit.communes}
    assert len(names) >= 40 and set(names) <= own  # most of its 124 communes, no others
    _no_overlaps([label for label in drawn.labels if label["kind"] != "archipelago"])
    assert not drawn.insets  # Tuyên Quang holds neither archipelago


def test_labels_keep_clear_of_the_scale_bar_and_north_arrow(app):
    _unit, drawn = _map(app, "border", "LA")
    bar = shapely.box(0, drawn.height - 50, drawn.width * 0.25 + 30, drawn.height)
    arrow = shapely.box(drawn.width - 50, 0, drawn.width, 60)
    for label in drawn.labels:
        if label["kind"] != "archipelago":
            box = shapely.box(*label["box"])
            assert not box.intersects(bar) and not box.intersects(arrow), label


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_border_sector_map_shows_both_archipelagos(app, lang):
    _unit, drawn = _map(app, "border", "LA", lang)
    assert drawn.insets == ["hoang_sa", "truong_sa"]
    assert drawn.names("archipelago") == ARCHIPELAGOS[lang]
    assert len(drawn.names("commune")) >= 10  # the sector's communes are named too


def test_provinces_holding_an_archipelago_show_it():
    def province(code, zone):
        return Unit("province", code, "x", "x", "thành phố", code, "x",
                    ({"code": "1", "name": zone, "province_code": code},))

    assert archipelagos_for(province("48", "Hoàng Sa"), None) == ["hoang_sa"]
    assert archipelagos_for(province("56", "Trường Sa"), None) == ["truong_sa"]
    assert archipelagos_for(province("08", "Lũng Cú"), None) == []


def test_hot_spots_are_numbered_as_in_their_table(app):
    store = services_of(app).store
    unit = find_unit(store, "commune", "00715")
    spots = hot_spots(store, unit, YEAR, None)
    assert spots
    _unit, drawn = _map(app, "commune", "00715", hot=spots)
    assert [m["number"] for m in drawn.markers] == list(range(1, len(spots) + 1))
    response = app.test_client().get(f"/reports/commune/00715.pdf?year={YEAR}",
                                     headers=key_headers(app, "08"))
    text = flat(" ".join(page_texts(read_pdf(response.data))))
    assert f"1 {spots[0][0]['name']}" in text


def test_an_english_report_is_all_english_with_one_date_format(app):
    response = app.test_client().get(f"/reports/border/LA.pdf?year={YEAR}&lang=en",
                                     headers=key_headers(app, "national"))
    text = flat(" ".join(page_texts(read_pdf(response.data))))
    assert "Synthetic demo data, not real figures" in text
    for vietnamese in ("minh hoạ", "minh họa", "không phải số liệu", "Vân Nam"):
        assert vietnamese not in text, vietnamese
    assert not re.search(r"\b\d{2}/\d{2}/\d{4}\b|\b\d{4}-\d{2}-\d{2}\b", text)
    assert re.search(r"\b\d{1,2} (January|February|March|April|May|June|July|August|"
                     r"September|October|November|December) \d{4}\b", text)


def test_a_vietnamese_report_has_one_notice_and_one_date_format(app):
    response = app.test_client().get(f"/reports/border/CN.pdf?year={YEAR}",
                                     headers=key_headers(app, "national"))
    text = flat(" ".join(page_texts(read_pdf(response.data))))
    assert text.count("không phải số liệu thật") == 1
    assert "synthetic demo data" not in text and "generated by" not in text
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", text)  # dates as 02/12/2026 only
    assert re.search(r"\b\d{2}/\d{2}/\d{4}\b", text)
    assert "Yunnan" not in text and "Guangxi" not in text


@pytest.mark.parametrize("url", [f"/reports/commune/00721.pdf?year={YEAR}",
                                 f"/reports/province/08.pdf?year={YEAR}"])
def test_no_report_ends_on_a_nearly_empty_page(app, url):
    reader = read_pdf(app.test_client().get(url).data)
    texts = [flat(text) for text in page_texts(reader)]
    running = 120  # the running header and footer of a page
    assert texts[-1].startswith("Bản đồ") or len(texts[-1]) > running + 500, texts[-1]
    about = next(text for text in texts if "Giải thích số liệu" in text)
    assert len(about) > running + 1000  # the definitions share their page


def test_the_pdf_carries_its_metadata_and_tags(app):
    response = app.test_client().get(f"/reports/province/08.pdf?year={YEAR}&lang=en")
    reader = read_pdf(response.data)
    meta = reader.metadata
    assert meta.title.startswith("Security and order report: Tuyên Quang Province")
    assert meta.author == "geoservice"
    assert meta.creation_date is not None
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "en"
    assert root["/MarkInfo"]["/Marked"] and "/StructTreeRoot" in root


def test_the_output_file_is_checked_before_any_work(tmp_path):
    from geoservice.errors import InvalidParameter
    from geoservice.reports.output import BATCH_FORMATS, check_output

    assert check_output(tmp_path / "r.PDF") == "pdf"
    assert check_output(tmp_path / "r.html") == "html"
    assert check_output(tmp_path / "b.zip", BATCH_FORMATS) == "zip"
    for bad, formats in ((tmp_path / "r.docx", ("pdf", "html")),
                         (tmp_path / "missing" / "r.pdf", ("pdf",)),
                         (tmp_path / "r.html", BATCH_FORMATS)):
        with pytest.raises(InvalidParameter) as raised:
            check_output(bad, formats)
        assert raised.value.parameter == "output"
