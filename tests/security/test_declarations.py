"""Every route declares its access, and the declaration is what the request guard enforces.

The lists are not written down here: the tests enumerate the app's url_map and the paths of
its OpenAPI document (/api), so a route added without a declaration fails them."""

from __future__ import annotations

import re

import pytest

from geoservice import access
from geoservice.services import of as services_of
from tests.security.conftest import add_user, key_headers, sign_in
from tests.web.helpers import assert_error, decode


@pytest.fixture
def app(make_app, loaded_db):
    return make_app(loaded_db)


def undeclared(app) -> list[str]:
    return sorted(f"{rule.rule} ({rule.endpoint})" for rule in app.url_map.iter_rules()
                  if access.level_of(app.view_functions, rule.endpoint) not in access.LEVELS)


def test_every_route_of_the_url_map_declares_its_access(app):
    assert undeclared(app) == []


def sample_path(template: str) -> str:
    """An OpenAPI path template filled with sample values ('{z}' -> '1', others -> 'x')."""
    return re.sub(r"\{([^}]+)\}", lambda m: "1" if m.group(1) in ("z", "x", "y") else "x",
                  template)


def test_every_path_of_the_openapi_document_is_a_declared_route(app):
    document = decode(app.test_client().get("/api"))
    adapter = app.url_map.bind("localhost")
    problems = []
    for template, item in document["paths"].items():
        for method in item:
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            path = sample_path(template)
            try:
                endpoint, _args = adapter.match(path, method=method.upper())
            except Exception as error:  # noqa: BLE001 - reported below with the path
                problems.append(f"{method.upper()} {template}: no route ({error})")
                continue
            if access.level_of(app.view_functions, endpoint) not in access.LEVELS:
                problems.append(f"{method.upper()} {template}: {endpoint} declares nothing")
            statuses = set(item[method]["responses"])
            if not {"401", "403"} <= statuses:
                problems.append(f"{method.upper()} {template}: 401/403 not documented")
    assert problems == []
    assert len(document["paths"]) >= 30  # the features, tiles, imports and admin paths


def test_a_route_without_a_declaration_is_closed_to_everyone(make_app, loaded_db):
    app = make_app(loaded_db)
    app.add_url_rule("/undeclared", "undeclared", lambda: "open")
    assert undeclared(app) == ["/undeclared (undeclared)"]
    client = app.test_client()
    assert_error(decode(client.get("/undeclared"), 403), 403, "Forbidden")
    admin = key_headers(services_of(app).store, role="admin")
    body = decode(client.get("/undeclared", headers=admin), 403)
    assert "declares no access rule" in body["description"]
    app.view_functions["undeclared"] = access.public(lambda: "open")
    assert client.get("/undeclared").get_data(as_text=True) == "open"


@pytest.mark.parametrize("level, anonymous, viewer, editor, admin", [
    (access.ANYONE, 200, 200, 200, 200),
    (access.PUBLIC, 200, 200, 200, 200),
    (access.RESTRICTED, 401, 200, 200, 200),
    (access.EDITOR, 401, 403, 200, 200),
    (access.ADMIN, 401, 403, 403, 200),
])
def test_levels_admit_whom_they_say(make_app, loaded_db, level, anonymous, viewer, editor,
                                    admin):
    app = make_app(loaded_db)
    setattr(view := (lambda: "ok"), access.ATTRIBUTE, level)
    app.add_url_rule("/probe", "probe", view)
    store, client = services_of(app).store, app.test_client()
    got = [client.get("/probe", headers=headers).status_code for headers in (
        {}, key_headers(store, "viewer", "08"), key_headers(store, "editor", "08"),
        key_headers(store, "admin"))]
    assert got == [anonymous, viewer, editor, admin]
    # A signed-in user is admitted like a key of the same role.
    signed_in = sign_in(app, add_user(store, "editor", "11"))
    assert signed_in.get("/probe").status_code == editor


def test_without_public_access_everything_but_sign_in_needs_a_user_or_key(make_app, loaded_db):
    app = make_app(loaded_db, PUBLIC_ACCESS="false")
    client, store = app.test_client(), services_of(app).store
    for url in ("/collections", "/collections/provinces/items", "/tiles", "/api",
                "/tiles/provinces/5/25/14.mvt", "/styles/geoservice.json"):
        assert_error(decode(client.get(url), 401), 401, "Unauthorized")
    page = client.get("/collections", headers={"Accept": "text/html,*/*;q=0.8"})
    assert page.status_code == 303 and page.headers["Location"] == "/login?next=/collections"
    assert client.get("/login").status_code == 200
    viewer = key_headers(store, "viewer", "11")
    assert decode(client.get("/collections/provinces/items", headers=viewer))["features"]
    signed_in = sign_in(app, add_user(store))
    assert decode(signed_in.get("/collections/provinces/items"))["features"]


def test_public_access_setting_is_validated(tmp_path):
    from geoservice import config
    from geoservice.errors import ConfigError

    assert config.load(tmp_path, {"PUBLIC_ACCESS": "no"})["PUBLIC_ACCESS"] is False
    assert config.load(tmp_path)["PUBLIC_ACCESS"] is True
    with pytest.raises(ConfigError, match="PUBLIC_ACCESS"):
        config.load(tmp_path, {"PUBLIC_ACCESS": "maybe"})
    with pytest.raises(ConfigError, match="HEAVY_RATE_LIMIT"):
        config.load(tmp_path, {"HEAVY_RATE_LIMIT": "lots"})
