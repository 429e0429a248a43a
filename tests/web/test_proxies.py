"""Behind a reverse proxy (TRUSTED_PROXIES): links use the client's scheme and host, and the
client's address is the one the service sees; without the setting the headers are ignored."""

from __future__ import annotations

import pytest
from flask import request

from geoservice.errors import ConfigError
from tests.web.helpers import decode

FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "gis.example.gov.vn",
             "X-Forwarded-For": "203.0.113.7", "X-Forwarded-Port": "443"}


def _hrefs(body: dict) -> list[str]:
    return [link["href"] for link in body["links"]]


def test_links_follow_the_proxy_when_it_is_trusted(make_app, loaded_db):
    client = make_app(loaded_db, TRUSTED_PROXIES=1).test_client()
    body = decode(client.get("/collections/communes/items?limit=2", headers=FORWARDED))
    assert all(h.startswith("https://gis.example.gov.vn/collections/communes/items?")
               for h in _hrefs(body)), _hrefs(body)
    tilejson = decode(client.get("/tiles/communes.json", headers=FORWARDED))
    assert tilejson["tiles"][0].startswith("https://gis.example.gov.vn/tiles/communes/")


def test_the_client_address_is_the_forwarded_one(make_app, loaded_db):
    app = make_app(loaded_db, TRUSTED_PROXIES=1)
    seen = []
    app.before_request(lambda: seen.append(request.remote_addr))
    app.test_client().get("/conformance", headers=FORWARDED,
                          environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert seen == ["203.0.113.7"]


def test_forwarded_headers_are_ignored_without_the_setting(make_app, loaded_db):
    app = make_app(loaded_db)
    seen = []
    app.before_request(lambda: seen.append(request.remote_addr))
    client = app.test_client()
    body = decode(client.get("/collections/communes/items?limit=2", headers=FORWARDED,
                             environ_base={"REMOTE_ADDR": "127.0.0.1"}))
    assert all(h.startswith("http://localhost/") for h in _hrefs(body))
    assert seen == ["127.0.0.1"]


def test_the_setting_is_a_whole_number(make_app):
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        make_app(None, TRUSTED_PROXIES="one")
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES must be at least 0"):
        make_app(None, TRUSTED_PROXIES=-1)
