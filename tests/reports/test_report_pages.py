"""Issue 18, the page format: A4 or A3, portrait or landscape, over HTTP (`page=`) and the
command line (`--page`). The PDF's pages have the size asked (the map page the landscape
sheet of that size), the map grows with the sheet, and nothing is laid out beyond the
page's printable area that was not already on A4."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from geoservice.access import ANONYMOUS
from geoservice.cli import main
from geoservice.reports.document import report_context
from geoservice.reports.heading import ReportOptions
from geoservice.reports.pdf import layout, render_html, write_document
from geoservice.reports.units import parse_request
from geoservice.services import of as services_of
from tests.conftest import _copy_database
from tests.reports.helpers import flat, largest_image, page_texts, read_pdf

YEAR = 2024
MM = 72 / 25.4  # PDF points per millimetre
SHEETS = {"A4": (210, 297), "A3": (297, 420)}
FORMATS = {"a4": ("A4", False), "a4-landscape": ("A4", True), "a3": ("A3", False),
           "a3-landscape": ("A3", True)}
LEAVES = ("TextBox", "InlineReplacedBox", "BlockReplacedBox")


def sheet_size(sheet: str, landscape: bool) -> tuple[int, int]:
    """(width, height) in whole points of a sheet."""
    short, long = SHEETS[sheet]
    width, height = (long, short) if landscape else (short, long)
    return round(width * MM), round(height * MM)


def sizes(reader) -> list[tuple[int, int]]:
    return [(round(float(p.mediabox.width)), round(float(p.mediabox.height)))
            for p in reader.pages]


def overflowing(document) -> list[tuple[int, str]]:
    """(page, text) of every laid-out text or image reaching past its page's printable
    area (the running header and footer, in the margins, excepted)."""
    found = []
    for number, page in enumerate(document.pages, 1):
        box = page._page_box
        right = box.content_box_x() + box.width + 1
        bottom = box.content_box_y() + box.height + 1
        for child in box.children:
            if type(child).__name__ == "MarginBox":
                continue
            for leaf in child.descendants():
                if type(leaf).__name__ not in LEAVES or leaf.width is None:
                    continue
                if (leaf.position_x + leaf.margin_width() > right
                        or leaf.position_y + leaf.margin_height() > bottom):
                    found.append((number, getattr(leaf, "text", type(leaf).__name__)))
    return found


def laid_out(app, kind: str, code: str, page: str):
    """The report laid out on `page` (WeasyPrint document) and its PDF read back."""
    services = services_of(app)
    with app.test_request_context("/", query_string={"lang": "vi"}):
        request = parse_request(services.store, kind, code, str(YEAR), "vi",
                                ReportOptions(page=page))
        context = report_context(services, request, ANONYMOUS)
        document = layout(render_html(context, node_modules=services.node_modules),
                          services.node_modules)
        return document, read_pdf(write_document(document))


@pytest.mark.parametrize("kind,code", [("province", "08"), ("commune", "00715")])
def test_every_page_format_has_its_size_and_nothing_overflows(app, kind, code):
    results = {page: laid_out(app, kind, code, page) for page in FORMATS}
    a4_document, a4_reader = results["a4"]
    a4_overflow = overflowing(a4_document)
    a4_map = largest_image(a4_reader)
    for page, (sheet, landscape) in FORMATS.items():
        document, reader = results[page]
        body, across = sheet_size(sheet, landscape), sheet_size(sheet, True)
        texts = [flat(text) for text in page_texts(reader)]
        for number, (size, text) in enumerate(zip(sizes(reader), texts), 1):
            is_map_page = kind != "commune" and text.startswith("Bản đồ")
            assert size == (across if is_map_page else body), (page, number, size)
        if kind != "commune":  # the province's map has a landscape page of its own
            assert any(text.startswith("Bản đồ") for text in texts), page
        assert len(overflowing(document)) <= len(a4_overflow), (page, overflowing(document))
        if sheet == "A3":  # more paper, not more pages: the text fits as on A4
            assert len(reader.pages) <= len(a4_reader.pages), page
            assert largest_image(reader).width > 1.3 * a4_map.width, page
        joined = " ".join(texts)
        assert "Báo cáo an ninh, trật tự" in joined and "Giải thích số liệu" in joined


def test_the_page_parameter_over_http(app):
    response = app.test_client().get(f"/reports/commune/00715.pdf?year={YEAR}"
                                     "&page=a3-landscape")
    assert response.status_code == 200, response.get_data()[:300]
    reader = read_pdf(response.data)
    assert set(sizes(reader)) == {sheet_size("A3", True)}


def test_the_page_option_on_the_command_line(tmp_path, demo_db):
    _copy_database(demo_db, tmp_path / "geoservice.sqlite")
    out = tmp_path / "a3.pdf"
    result = CliRunner().invoke(
        main, ["report", "commune", "00715", "--year", str(YEAR), "--page", "a3", "-o",
               str(out)], env={"GEOSERVICE_INSTANCE_PATH": str(tmp_path)},
        catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert set(sizes(read_pdf(out.read_bytes()))) == {sheet_size("A3", False)}
    result = CliRunner().invoke(
        main, ["report", "commune", "00715", "--page", "a5", "-o", str(tmp_path / "x.pdf")],
        env={"GEOSERVICE_INSTANCE_PATH": str(tmp_path)})
    assert result.exit_code == 2 and "--page" in result.output
