"""Fixtures of the report tests: the two-province fixture with the synthetic demo records
(the `demo_db` session store, and the same loaded into a PostGIS schema), apps on them,
and API keys of each kind of reader."""

from __future__ import annotations

import uuid

import pytest

from geoservice.auth import create_key
from geoservice.services import of as services_of
from tests.conftest import _drop_schema, _postgis_schema_url, _require_postgis
from tests.web.test_tiles import demo_db  # noqa: F401 - the shared session fixture


@pytest.fixture(scope="session")
def demo_postgis(built):
    """A PostGIS schema with the fixture boundaries and the demo records (read-mostly)."""
    from geoservice.boundaries.load import load_boundaries
    from geoservice.demo.dataset import load_demo
    from geoservice.store import open_store

    _require_postgis()
    schema = f"r_{uuid.uuid4().hex[:12]}"
    url = _postgis_schema_url(schema)
    store = open_store(url)
    load_boundaries(store, built.gpkg)
    load_demo(store)
    store.close()
    yield url
    _drop_schema(schema)


@pytest.fixture
def app(make_app, demo_db):  # noqa: F811
    """An app on a copy of the demo store (SQLite)."""
    return make_app(demo_db)


@pytest.fixture(params=["sqlite", "postgis"])
def backend_app(request, make_app, demo_db):  # noqa: F811
    """The demo data on each store backend."""
    if request.param == "sqlite":
        return make_app(demo_db)
    return make_app(None, DATABASE_URL=request.getfixturevalue("demo_postgis"))


def key_headers(app, area: str) -> dict:
    """Headers with a new viewer key for `area` ('national' or a province code)."""
    _row, key = create_key(services_of(app).store, f"reports {area}", "viewer",
                           area)
    return {"X-API-Key": key}
