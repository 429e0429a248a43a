"""One parser per parameter: the same value gets the same answer on every route.

Before the parsers were shared, `year=02024` was taken by two routes and refused by two,
and `province_code=٠٨` (Arabic-Indic digits) was taken by the features API alone. Every
route taking a parameter is walked here with the same good and bad values; the JSON routes
must refuse a bad one with the same message naming the parameter, the HTML routes with the
same status.
"""

from __future__ import annotations

import pytest

from geoservice import params as P
from geoservice.auth import create_key
from geoservice.errors import InvalidParameter
from geoservice.services import of as services_of
from tests.web.helpers import assert_error, decode
from tests.web.test_tiles import demo_db  # noqa: F401 - the shared session fixture

# Indicator years also take 'latest' (the default); record filters take a year only.
INDICATOR_YEAR = "year must be 'latest' or a four-digit year from 1900 to 2100, e.g. 2024."
RECORD_YEAR = "year must be a four-digit year from 1900 to 2100, e.g. 2024."
YEAR_ROUTES = [  # (url taking ?year=, the message of a bad year, or "html")
    ("/collections/communes/items", INDICATOR_YEAR),
    ("/collections/provinces/items/08", INDICATOR_YEAR),
    ("/collections/certification/items", RECORD_YEAR),
    ("/collections/certification-rate/items", INDICATOR_YEAR),
    ("/collections/incidents/items", RECORD_YEAR),
    ("/tiles/certification-rate/7/102/56.mvt", INDICATOR_YEAR),
    ("/tiles/certification-rate.json", INDICATOR_YEAR),
    ("/tiles/certification-rate/legend.json", INDICATOR_YEAR),
    ("/tiles/incidents/9/405/221.mvt", INDICATOR_YEAR),
    ("/analyses/density", RECORD_YEAR),
    ("/reports/province/08.html", "html"),
    ("/map", "html"),
]
PROVINCE_ROUTES = [
    "/collections/communes/items",
    "/collections/certification/items",
    "/collections/certification-rate/items",
    "/collections/incidents/items",
    "/analyses/density",
]
BAD_YEARS = ["02024", "24", "2024.0", "２０２４", "1899", "2101", " 2024", "latest2"]
BAD_PROVINCES = ["٠٨", "８", "8", "008", "0８", "ab"]


@pytest.fixture
def demo_app(make_app, demo_db):  # noqa: F811
    return make_app(demo_db)


@pytest.fixture
def national_key(demo_app):
    store = services_of(demo_app).store
    return {"X-API-Key": create_key(store, "knational", "viewer", "national")[1]}


def _answer(client, url, headers):
    """(status, description or None) of a GET."""
    response = client.get(url, headers=headers)
    if response.mimetype == "application/json" and response.status_code >= 400:
        body = decode(response, response.status_code)
        assert_error(body, response.status_code)
        return response.status_code, body.get("parameter"), body["description"]
    return response.status_code, None, None


def _with(url: str, query: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{query}"


@pytest.mark.parametrize("value", BAD_YEARS)
def test_a_bad_year_gets_one_answer_everywhere(demo_app, national_key, value):
    client = demo_app.test_client()
    answers = {url: _answer(client, _with(url, f"year={value}"), national_key)
               for url, _kind in YEAR_ROUTES}
    expected = {url: (400, None, None) if message == "html" else (400, "year", message)
                for url, message in YEAR_ROUTES}
    assert answers == expected


@pytest.mark.parametrize("value", ["2024", "2025"])
def test_a_good_year_is_taken_everywhere(demo_app, national_key, value):
    client = demo_app.test_client()
    for url, _kind in YEAR_ROUTES:
        status = _answer(client, _with(url, f"year={value}"), national_key)
        assert status[0] in (200, 202), (url, status)


@pytest.mark.parametrize("value", BAD_PROVINCES)
def test_a_bad_province_code_gets_one_answer_everywhere(demo_app, national_key, value):
    client = demo_app.test_client()
    answers = {_answer(client, _with(url, f"province_code={value}"), national_key)
               for url in PROVINCE_ROUTES}
    assert answers == {(400, "province_code", "province_code must be a province code of 2 "
                                              "digits, e.g. 08.")}, answers


def test_a_good_province_code_is_taken_everywhere(demo_app, national_key):
    client = demo_app.test_client()
    for url in PROVINCE_ROUTES:
        status = _answer(client, _with(url, "province_code=08"), national_key)
        assert status[0] in (200, 202), (url, status)


def test_an_unknown_parameter_gets_one_message_shape_everywhere(demo_app, national_key):
    client = demo_app.test_client()
    urls = [url for url, message in YEAR_ROUTES if message != "html"] + [
        "/search?q=lung", "/tiles", "/styles/geoservice.json", "/viewer/style.json",
        "/analyses/density/legend.json"]
    for url in urls:
        status, parameter, text = _answer(client, _with(url, "colour=red"), national_key)
        assert (status, parameter) == (400, "colour"), (url, status, parameter, text)
        assert text.startswith("Unknown parameter 'colour'. Accepted: "), (url, text)


def test_a_bad_language_gets_one_answer_everywhere(demo_app, national_key):
    client = demo_app.test_client()
    urls = ["/tiles", "/tiles/certification-rate.json", "/tiles/certification-rate/legend.json",
            "/styles/geoservice.json", "/analyses/density/legend.json"]
    answers = {_answer(client, _with(url, "lang=AAA"), national_key) for url in urls}
    assert answers == {(400, "lang", "lang must be one of vi, en.")}, answers


@pytest.mark.parametrize("text", ["2024", "1900", "2100"])
def test_the_year_parser_takes_four_ascii_digits(text):
    assert P.year(text) == int(text)
    assert P.YEAR.get({"year": text}) == int(text)


@pytest.mark.parametrize("text", BAD_YEARS)
def test_the_year_parser_refuses_everything_else(text):
    with pytest.raises(InvalidParameter) as caught:
        P.year(text)
    assert caught.value.parameter == "year"
    assert "four-digit year" in caught.value.message


def test_unknown_names_of_any_kind_are_refused_alike():
    with pytest.raises(InvalidParameter) as caught:
        P.known({None: "1", "year": "2024", "zz": "2"}, ("year",))  # a form field without name
    assert caught.value.parameter == "None"
    with pytest.raises(InvalidParameter) as caught:
        P.known({"x" * 80: "1"}, ("year",))
    assert caught.value.parameter == "x" * 50
