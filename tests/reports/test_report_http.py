"""The reports over HTTP: errors in the one JSON shape (a readable page for the HTML
preview), the preview page itself, its fonts, the province's ZIP of commune reports and the
OpenAPI entries."""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from geoservice.services import of as services_of
from geoservice.store import FeatureQuery
from tests.reports.helpers import flat, page_texts, read_pdf
from tests.web.helpers import assert_error, decode


@pytest.mark.parametrize("url,status,parameter", [
    ("/reports/province/99.pdf", 404, "code"),
    ("/reports/province/8.pdf", 404, "code"),
    ("/reports/commune/12345.pdf", 404, "code"),
    ("/reports/commune/00715x.pdf", 404, "code"),
    ("/reports/border/TH.pdf", 404, "code"),
    ("/reports/district/08.pdf", 404, "kind"),
    ("/reports/province/08.docx", 404, "format"),
    ("/reports/province/08.pdf?year=24", 400, "year"),
    ("/reports/province/08.pdf?year=abcd", 400, "year"),
    ("/reports/province/08.pdf?year=1800", 400, "year"),
    ("/reports/province/08.pdf?lang=fr", 400, "lang"),
    ("/reports/province/08.pdf?group=commune", 400, "group"),
    ("/reports/province/99/communes.zip", 404, "code"),
    ("/reports/province/08/communes.zip?communes=03127", 400, "communes"),
    ("/reports/province/08/communes.zip?year=x", 400, "year"),
])
def test_bad_requests_get_the_json_error_shape(app, url, status, parameter):
    body = decode(app.test_client().get(url), status, "application/json")
    assert_error(body, status, parameter=parameter)


@pytest.mark.parametrize("url,status,words", [
    ("/reports/province/99.html", 404, "99"),
    ("/reports/border/XX.html?lang=en", 404, "XX"),
    ("/reports/commune/00715.html?year=20x4", 400, "year"),
])
def test_preview_errors_are_readable_pages(app, url, status, words):
    response = app.test_client().get(url)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "<h1>" in page and words in page and f"{status}" in page


def test_preview_is_the_same_report_as_a_page(app):
    client = app.test_client()
    response = client.get("/reports/border/LA.html?year=2024&lang=vi")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])[1]
    assert f'<style nonce="{nonce}">' in page
    assert "<script" not in page and "file://" not in page
    for text in ("Báo cáo an ninh, trật tự: Biên giới Việt Nam – Lào", "Số liệu chính",
                 "<svg", 'src="data:image/png;base64,'):
        assert text in page, text
    fonts = re.findall(r'url\("([^"]+\.ttf)"\)', page)
    assert len(fonts) == 2
    for url in fonts:
        font = client.get(url)
        assert font.status_code == 200 and font.data[:4] == b"\x00\x01\x00\x00"  # TrueType
    assert client.get("/reports/assets/fonts/other.ttf").status_code == 404


def test_province_zip_of_commune_reports(app):
    store = services_of(app).store
    codes = [fid for fid, _p, _g in store.query("communes", FeatureQuery(
        limit=2, province_code="11")).features]
    response = app.test_client().get(
        f"/reports/province/11/communes.zip?year=2024&communes={','.join(codes)}")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert archive.namelist() == [f"report-commune-{code}-2024-vi.pdf" for code in codes]
    for code in codes:
        texts = page_texts(read_pdf(archive.read(f"report-commune-{code}-2024-vi.pdf")))
        name = store.get("communes", code)[1]["full_name"]
        assert f"Báo cáo an ninh, trật tự: {name}" in flat(" ".join(texts))


def test_openapi_lists_the_report_paths(app):
    paths = decode(app.test_client().get("/api"))["paths"]
    for path in ("/reports/{kind}/{code}.pdf", "/reports/{kind}/{code}.html",
                 "/reports/province/{code}/communes.zip"):
        assert "200" in paths[path]["get"]["responses"], path
