"""Every error goes through the one table and the one handler: the JSON shape (with the
error's headers) on API routes, the one HTML error page on page routes — including the
errors the libraries find (CSRF, rate limits) and analyses that are not ready yet."""

from __future__ import annotations

import contextlib
import re
import threading

import pytest
from flask import template_rendered

from geoservice import errors
from geoservice.auth import create_key
from geoservice.errors import (
    AnalysisNotReady,
    CsrfRejected,
    GeoserviceError,
    RateLimited,
    status_for,
)
from geoservice.services import of as services_of
from tests.security.conftest import csrf_token
from tests.web.helpers import assert_error, decode

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
HEADING = re.compile(r"<h1>([^<]+)</h1>")


@contextlib.contextmanager
def templates(app):
    """The names of the templates rendered while the block runs."""
    names: list[str] = []

    def note(_sender, template, context, **_extra):
        names.append(template.name)

    template_rendered.connect(note, app)
    try:
        yield names
    finally:
        template_rendered.disconnect(note, app)


def error_page(response, status: int) -> str:
    """Assert that `response` is the one HTML error page with `status`; return its text."""
    assert response.status_code == status, response.get_data()[:300]
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert page.count('<main class="error-page">') == 1, page[:500]
    assert HEADING.search(page), page[:500]
    assert f"{status}" in page
    return page


def test_the_table_holds_the_new_errors():
    class FakeRun:
        id, status, percent, stage, error = "abc", "running", 40, "computing", None

    not_ready = AnalysisNotReady(FakeRun(), 7)
    limited = RateLimited("3 per 1 minute", 42)
    assert status_for(CsrfRejected("no token")) == 400
    assert status_for(limited) == 429 and limited.headers == {"Retry-After": "42"}
    assert status_for(not_ready) == 503
    assert not_ready.headers == {"Retry-After": "7", "X-Analysis-Status": "running"}
    assert "/analyses/runs/abc" in not_ready.message
    for cls in (CsrfRejected, RateLimited, AnalysisNotReady):
        assert cls in errors.STATUS_CODES and issubclass(cls, GeoserviceError)


def test_one_handler_answers_every_domain_error(empty_app):
    handlers = empty_app.error_handler_spec[None][None]
    assert GeoserviceError in handlers
    assert not {AnalysisNotReady, CsrfRejected, RateLimited} & set(handlers)
    for blueprint, spec in empty_app.error_handler_spec.items():
        assert blueprint is None or not spec, f"blueprint {blueprint} answers errors itself"


def test_an_analysis_not_ready_is_a_503_in_the_one_shape(empty_app, monkeypatch):
    from geoservice.hotspots import compute

    gate = threading.Event()
    real = compute.COMPUTE["gistar"]

    def held(*args):
        assert gate.wait(60)
        return real(*args)

    monkeypatch.setitem(compute.COMPUTE, "gistar", held)
    store = services_of(empty_app).store
    key = {"X-API-Key": create_key(store, "reader", "viewer", None)[1]}
    try:
        response = empty_app.test_client().get("/collections/hotspots-gistar/items",
                                               headers=key)
        body = decode(response, 503, "application/json")
        assert_error(body, 503, "AnalysisNotReady")
        headers = response.headers
        assert int(headers["Retry-After"]) > 0
        assert headers["X-Analysis-Status"] in ("queued", "running")
        run = re.search(r"/analyses/runs/(\w+)", body["description"])[1]
        assert headers["X-Analysis-Run"] == f"http://localhost/analyses/runs/{run}"
        assert headers["Cache-Control"] == "no-store"
    finally:
        gate.set()


def test_a_missing_csrf_token_is_a_400_in_the_one_shape_or_the_page(empty_app):
    client = empty_app.test_client()
    response = client.post("/logout")
    assert_error(decode(response, 400, "application/json"), 400, "CSRFError")
    for headers in ({}, BROWSER):  # not a page route: JSON even for a browser
        assert_error(decode(client.post("/logout", headers=headers), 400), 400, "CSRFError")
    # The sign-in form is a page for a browser: the one error page, leading back to it.
    with templates(empty_app) as rendered:
        page = error_page(client.post("/login", headers=BROWSER,
                                      data={"username": "x", "next": "/map"}), 400)
    assert rendered == ["error.html"]
    assert "Biểu mẫu đã hết hạn" in page and 'href="/login?next=/map&amp;lang=vi"' in page
    assert_error(decode(client.post("/login", data={"username": "x"}), 400), 400, "CSRFError")


def test_a_rate_limit_is_a_429_in_the_one_shape_with_retry_after(make_app):
    app = make_app(None, LOGIN_RATE_LIMIT="1 per minute")
    client = app.test_client()
    token = csrf_token(client)
    form = {"username": "x", "password": "y" * 10, "csrf_token": token}
    assert client.post("/login", data=form).status_code == 401
    response = client.post("/login", data=form)
    body = decode(response, 429, "application/json")
    assert_error(body, 429, "TooManyRequests")
    assert "1 per 1 minute" in body["description"]
    assert 0 < int(response.headers["Retry-After"]) <= 60
    with templates(app) as rendered:
        browser = client.post("/login", data=form, headers=BROWSER)
    page = error_page(browser, 429)
    assert rendered == ["error.html"] and "1 per 1 minute" in page
    assert 0 < int(browser.headers["Retry-After"]) <= 60


def test_page_routes_answer_the_one_error_page(make_app, loaded_db):
    app = make_app(loaded_db, HEAVY_RATE_LIMIT="1 per minute")
    client = app.test_client()
    admin = {"X-API-Key": create_key(services_of(app).store, "boss", "admin",
                                     None)[1]}
    # The map page, and a report preview (in the view, then by the one handler for the
    # rate limit its route shares with the PDF).
    assert "lang" in error_page(client.get("/map?lang=fr"), 400)
    assert "Không lập được báo cáo" in error_page(client.get("/reports/province/99.html"),
                                                  404)
    with templates(app) as rendered:
        limited = client.get("/reports/province/99.html?lang=en")
    assert rendered == ["error.html"]
    assert "The report cannot be made" in error_page(limited, 429)
    assert limited.headers["Retry-After"]
    # The audit page for a browser; the same page for a script, and the exports: JSON.
    with templates(app) as rendered:
        page = error_page(client.get("/admin/audit?limit=0", headers={**admin, **BROWSER}),
                          400)
    assert rendered == ["error.html"] and "limit" in page
    assert_error(decode(client.get("/admin/audit?limit=0", headers=admin), 400), 400,
                 "InvalidParameter", "limit")
    assert_error(decode(client.get("/admin/audit.json?limit=0",
                                   headers={**admin, **BROWSER}), 400), 400)


@pytest.mark.parametrize("url", ["/collections/nowhere", "/collections/communes/items?x=1",
                                 "/tiles/nowhere/1/0/0.mvt", "/no/such/page"])
def test_api_routes_answer_json_even_to_a_browser(empty_app, url):
    response = empty_app.test_client().get(url, headers=BROWSER)
    assert 400 <= response.status_code < 500
    assert_error(decode(response, response.status_code, "application/json"),
                 response.status_code)
