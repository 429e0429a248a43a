"""Shared fixtures: the two-province boundary build (once per session) and a fresh app per test.

The fixture is built with the real pipeline from the installed registry packages:
province 08 (Tuyên Quang, incl. the former Hà Giang, facing China) and 11 (Điện Biên,
facing China and Laos, with the CN-LA tripoint).
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from geoservice.services import of as services_of

REPO_ROOT = Path(__file__).resolve().parents[1]
NODE_MODULES = REPO_ROOT / "node_modules"
FIXTURE_PROVINCES = ["08", "11"]


@dataclass
class BuiltFixture:
    """What the session build produced: the instance folder and its files, decoded."""

    instance: Path
    gpkg: Path
    result: object  # geoservice.boundaries.build.Boundaries, as returned by build()
    layers: dict  # the GeoPackage read back with read_geopackage()
    quality: dict  # quality.json, decoded
    progress: list = field(default_factory=list)  # the build's progress calls, in order


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> BuiltFixture:
    """Build provinces 08 and 11 once per session into a temporary instance folder."""
    from geoservice.boundaries.build import GPKG_NAME, build, read_geopackage

    instance = tmp_path_factory.mktemp("fixture-instance")
    heard = []  # what the build told its progress callback (tests/test_cli.py checks it)
    result = build(instance, provinces=FIXTURE_PROVINCES, node_modules=NODE_MODULES,
                   progress=lambda *call: heard.append(call))
    gpkg = instance / GPKG_NAME
    assert gpkg.exists(), "build() did not write the GeoPackage"
    quality = json.loads((instance / "quality.json").read_text(encoding="utf-8"))
    return BuiltFixture(instance, gpkg, result, read_geopackage(gpkg), quality, heard)


@pytest.fixture(scope="session")
def loaded_db(built, tmp_path_factory) -> Path:
    """An SQLite store into which the session GeoPackage was loaded with load_boundaries().

    Loaded once; every test gets its own copy (see `app`), so tests cannot see each other's
    writes and nothing is re-read from the GeoPackage per test.
    """
    from geoservice.boundaries.load import load_boundaries
    from geoservice.store import open_store

    path = tmp_path_factory.mktemp("loaded-store") / "geoservice.sqlite"
    store = open_store(f"sqlite:///{path}")
    counts = load_boundaries(store, built.gpkg)
    from geoservice.boundaries.load import SOURCES

    assert counts == {collection: len(built.layers[layer])
                      for collection, (layer, _key) in SOURCES.items()}
    store.close()
    return path


def _copy_database(source: Path, target: Path) -> None:
    """Copy an SQLite database consistently (WAL included) with the backup API."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


@pytest.fixture(autouse=True)
def _no_geoservice_configuration(monkeypatch):
    """Keep the machine's GEOSERVICE_<setting> variables out of the apps the tests create.

    Only the variables that configure the app are removed; test switches such as
    GEOSERVICE_REQUIRE_GDAL stay visible.
    """
    from geoservice.config import DEFAULTS, ENV_PREFIX

    for key in [*DEFAULTS, "INSTANCE_PATH"]:
        monkeypatch.delenv(ENV_PREFIX + key, raising=False)


@pytest.fixture
def made_apps():
    """The apps `make_app` made in this test: closed (their work after imports done) before
    the test's PostGIS schema is dropped, and again when the test ends."""
    return []


def _close(apps: list) -> None:
    for app in apps:
        services_of(app).close()


@pytest.fixture
def make_app(tmp_path_factory, made_apps):
    """Factory: a fresh app on a fresh instance folder; `loaded` copies in the fixture store."""

    def factory(loaded_from: Path | None = None, **config):
        from geoservice import create_app

        instance = tmp_path_factory.mktemp("app-instance")
        if loaded_from is not None:
            _copy_database(loaded_from, instance / "geoservice.sqlite")
        app = create_app({"INSTANCE_PATH": str(instance), **config})
        made_apps.append(app)
        return app

    yield factory
    _close(made_apps)


@pytest.fixture
def app(backend_app):
    """A fresh app per test, on each backend, with the fixture boundaries loaded."""
    return backend_app


@pytest.fixture
def client(app):
    """Flask test client of `app`."""
    return app.test_client()


@pytest.fixture
def empty_app(make_app):
    """An app whose store has nothing loaded."""
    return make_app(None)


# --- the two store backends -------------------------------------------------------------
# The same tests run against the embedded SQLite store and PostGIS. PostGIS tests use the
# database named by GEOSERVICE_TEST_DATABASE_URL (default: the local `test` database) and a
# fresh schema per test; they skip with the reason when that database or the PostGIS
# extension is not there, and fail instead when GEOSERVICE_REQUIRE_POSTGIS=1 (as in CI).
POSTGIS_URL = os.environ.get("GEOSERVICE_TEST_DATABASE_URL",
                             "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_POSTGIS = os.environ.get("GEOSERVICE_REQUIRE_POSTGIS") == "1"
_postgis_problem: list = []


def _postgis_available() -> str | None:
    """Return None when PostGIS can be used, else why not (checked once per session)."""
    if not _postgis_problem:
        try:
            import psycopg

            with psycopg.connect(POSTGIS_URL, connect_timeout=3, autocommit=True) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            _postgis_problem.append(None)
        except Exception as exc:  # noqa: BLE001 - any failure means "not available here"
            _postgis_problem.append(f"PostGIS test database {POSTGIS_URL} unusable: {exc}")
    return _postgis_problem[0]


def _require_postgis() -> None:
    problem = _postgis_available()
    if problem:
        if REQUIRE_POSTGIS:
            pytest.fail(f"{problem} (GEOSERVICE_REQUIRE_POSTGIS=1)")
        pytest.skip(problem)


def _drop_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(POSTGIS_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _postgis_schema_url(schema: str) -> str:
    separator = "&" if "?" in POSTGIS_URL else "?"
    return f"{POSTGIS_URL}{separator}schema={schema}"


@pytest.fixture(params=["sqlite", "postgis"])
def store_url(request, tmp_path, made_apps):
    """A database URL for an empty store of each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
        return
    _require_postgis()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield _postgis_schema_url(schema)
    _close(made_apps)  # no app still reads the schema (DROP ... CASCADE would deadlock)
    _drop_schema(schema)


@pytest.fixture(scope="session")
def loaded_postgis(built):
    """A PostGIS schema holding the fixture boundaries, loaded once (read-only use)."""
    from geoservice.boundaries.load import load_boundaries
    from geoservice.store import open_store

    _require_postgis()
    schema = f"s_{uuid.uuid4().hex[:12]}"
    url = _postgis_schema_url(schema)
    store = open_store(url)
    load_boundaries(store, built.gpkg)
    store.close()
    yield url
    _drop_schema(schema)


@pytest.fixture(params=["sqlite", "postgis"])
def backend_app(request, make_app, loaded_db):
    """A fresh app on each backend, with the fixture boundaries loaded."""
    if request.param == "sqlite":
        return make_app(loaded_db)
    return make_app(None, DATABASE_URL=request.getfixturevalue("loaded_postgis"))


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium through Playwright, one per test module (tests/browser.py:
    skipped with the reason where it is absent, failing instead in CI)."""
    from tests.browser import launch_chromium, require_chromium

    sync_api = require_chromium()
    with sync_api.sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()
