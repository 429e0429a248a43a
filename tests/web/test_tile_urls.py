"""Versioned, immutable public tile URLs: what the templates give, what those URLs answer,
an old version redirected to the current one, the folder nginx serves them from (public
layers only), and restricted layers kept on their plain, access-checked URLs."""

from __future__ import annotations

import re

import mapbox_vector_tile
import pytest

from geoservice.api import tile_urls
from geoservice.auth import create_key
from geoservice.services import of as services_of
from tests.web.helpers import assert_error, decode
from tests.web.test_tiles import demo_db, tile_of  # noqa: F401 - fixtures and helper

VERSIONED = re.compile(r"^http://localhost/tiles/v/([0-9a-f]{16})/([a-z0-9,-]+)/"
                       r"\{z\}/\{x\}/\{y\}\.(mvt|png)$")


@pytest.fixture
def app(make_app, demo_db):  # noqa: F811 - the fixture imported above
    return make_app(demo_db)


def template(app, *layer_ids: str, fmt: str = "mvt") -> str:
    current = services_of(app)
    return tile_urls.tile_template(current, "http://localhost",
                                   [current.catalog[i] for i in layer_ids], fmt)


def path_of(url_template: str, z: int, x: int, y: int) -> str:
    return url_template.removeprefix("http://localhost").format(z=z, x=x, y=y)


def test_a_public_tile_has_an_immutable_versioned_url_and_is_kept_for_nginx(app):
    client, current = app.test_client(), services_of(app)
    url = template(app, "communes")
    version, layer, fmt = VERSIONED.match(url).groups()
    assert (layer, fmt) == ("communes", "mvt")
    (z, x, y), *_ = tile_of("communes", app, 9)
    answer = client.get(path_of(url, z, x, y))
    assert answer.status_code == 200, answer.data[:300]
    assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    plain = client.get(f"/tiles/communes/{z}/{x}/{y}.mvt")
    assert plain.headers["Cache-Control"] == "public, max-age=300" and "ETag" in plain.headers
    decoded = mapbox_vector_tile.decode(answer.data)["communes"]["features"]
    assert decoded and len(decoded) == len(
        mapbox_vector_tile.decode(plain.data)["communes"]["features"])
    kept = current.instance_path / "public-tiles" / "communes" / version / str(z) / str(x)
    assert (kept / f"{y}.mvt").read_bytes() == answer.data
    png = template(app, "communes", fmt="png")
    image = client.get(path_of(png, z, x, y))
    assert image.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert (kept / f"{y}.png").read_bytes() == image.data


def test_an_old_version_redirects_to_the_current_one(app):
    from geoservice.store.records import ImportBatch, RecordWrite

    client, store = app.test_client(), services_of(app).store
    (z, x, y), *_ = tile_of("certification-rate", app)
    before = template(app, "certification-rate")
    first = client.get(path_of(before, z, x, y))
    assert first.status_code == 200
    features = mapbox_vector_tile.decode(first.data)["certification-rate"]["features"]
    code = features[0]["properties"]["code"]
    year = store.record_years("certification")[-1]
    province = store.get("communes", code)[1]["province_code"]
    store.apply_records([RecordWrite(
        kind="certification", natural_key=f"{code}|{year}|residential", commune_code=code,
        province_code=province, year=year, category="residential",
        properties={"year": year, "group": "residential", "reviewed": 9, "certified": 9})],
        ImportBatch("certification", "sua.xlsx", "4" * 64, "tester"))
    after = template(app, "certification-rate")
    assert after != before
    moved = client.get(path_of(before, z, x, y) + "?lang=vi")
    assert moved.status_code == 302
    assert moved.headers["Location"] == path_of(after, z, x, y).join(
        ["http://localhost", "?lang=vi"])
    assert "immutable" not in moved.headers["Cache-Control"]
    new = client.get(path_of(after, z, x, y))
    properties = next(f["properties"] for f in mapbox_vector_tile.decode(new.data)[
        "certification-rate"]["features"] if f["properties"]["code"] == code)
    assert properties["certification_rate_residential"] == 1.0
    folder = services_of(app).instance_path / "public-tiles" / "certification-rate"
    assert [p.name for p in folder.iterdir()] == [VERSIONED.match(after).group(1)]


def test_layer_parameters_travel_in_the_query_and_are_not_kept_for_nginx(app):
    client, current = app.test_client(), services_of(app)
    (z, x, y), *_ = tile_of("certification-rate", app)
    url = template(app, "certification-rate")
    year = current.store.record_years("certification")[0]
    answer = client.get(f"{path_of(url, z, x, y)}?year={year}&group=commune")
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"].endswith("immutable")
    plain = client.get(f"/tiles/certification-rate/{z}/{x}/{y}.mvt?year={year}&group=commune")
    assert answer.data == plain.data
    assert not (current.instance_path / "public-tiles").exists()


def test_restricted_layers_keep_plain_urls_and_their_access_decision(app):
    client, current = app.test_client(), services_of(app)
    url = template(app, "incidents")
    assert url == "http://localhost/tiles/incidents/{z}/{x}/{y}.mvt"
    assert template(app, "provinces", "incidents").startswith("http://localhost/tiles/prov")
    (z, x, y), *_ = tile_of("incidents", app, 9)
    guessed = f"/tiles/v/{'0' * 16}/incidents/{z}/{x}/{y}.mvt"
    assert_error(decode(client.get(guessed), 401), 401)
    key = {"X-API-Key": create_key(current.store, "k", "viewer", "national")[1]}
    moved = client.get(guessed, headers=key)
    assert moved.status_code == 302
    assert moved.headers["Location"] == f"http://localhost/tiles/incidents/{z}/{x}/{y}.mvt"
    assert not (current.instance_path / "public-tiles" / "incidents").exists()


def test_the_public_folder_forgets_layers_no_longer_public(app, tmp_path):
    catalog = services_of(app).catalog
    for name in ("provinces", "incidents", "provinces,incidents", "gone"):
        (tmp_path / name / ("a" * 16)).mkdir(parents=True)
    tile_urls.PublicTiles(tmp_path, catalog)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["provinces"]


@pytest.mark.parametrize("url, status, parameter", [
    ("/tiles/v/notaversion/provinces/6/50/28.mvt", 400, "version"),
    ("/tiles/v/0123456789abcdef/nope/6/50/28.mvt", 404, None),
    ("/tiles/v/0123456789abcdef/provinces/6/50/x.mvt", 400, "y"),
])
def test_bad_versioned_urls_get_the_json_error_shape(app, url, status, parameter):
    assert_error(decode(app.test_client().get(url), status), status, parameter=parameter)


def _request_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "geoservice.request"]


def test_a_kept_public_tile_is_answered_from_its_file_as_the_app_answers_it(app, caplog):
    """geoservice/web/publicfiles.py: what nginx serves from the public folder, the service
    serves from it too, before Flask — the same bytes, ETag and headers, counted and logged."""
    client = app.test_client()
    (z, x, y), *_ = tile_of("communes", app, 9)
    path = path_of(template(app, "communes"), z, x, y)
    caplog.set_level("INFO", logger="geoservice.request")
    drawn = client.get(path)  # drawn by the app, kept in the public folder
    assert drawn.status_code == 200 and not any("unchecked" in line
                                                for line in _request_lines(caplog))
    caplog.clear()
    kept = client.get(path)
    assert _request_lines(caplog) and "unchecked" in _request_lines(caplog)[-1]
    assert kept.status_code == 200 and kept.data == drawn.data
    for header in ("Content-Type", "Cache-Control", "ETag", "X-Content-Type-Options",
                   "Content-Security-Policy"):
        assert kept.headers[header] == drawn.headers[header], header
    assert kept.headers["X-Request-Id"]
    assert client.get(path, headers={"If-None-Match": kept.headers["ETag"]}).status_code == 304
    assert client.head(path).data == b""
    metrics = client.get("/metrics").get_data(as_text=True)
    found = re.search(r'geoservice_http_requests_total\{method="GET",route="/tiles/v/<version>/'
                      r'<layer_id>/<z>/<x>/<name>",status="200"\} ([0-9.e+]+)', metrics)
    assert found and float(found.group(1)) >= 2, metrics  # process-wide: at least these two


def test_only_public_layers_files_are_answered_so(app, caplog):
    """A file under a restricted layer's name (planted: the app never keeps one) is not
    served; the app's access decision answers. A query string goes to the app too."""
    client, current = app.test_client(), services_of(app)
    (z, x, y), *_ = tile_of("incidents", app, 9)
    folder = tile_urls.public_tiles(current).root
    planted = folder / "incidents" / ("a" * 16) / str(z) / str(x) / f"{y}.mvt"
    planted.parent.mkdir(parents=True)
    planted.write_bytes(b"secret")
    answer = client.get(f"/tiles/v/{'a' * 16}/incidents/{z}/{x}/{y}.mvt")
    assert answer.status_code in (302, 400, 401, 404) and answer.data != b"secret"
    path = path_of(template(app, "communes"), *tile_of("communes", app, 9)[0])
    client.get(path)
    caplog.set_level("INFO", logger="geoservice.request")
    caplog.clear()
    assert client.get(path + "?nope=1").status_code == 400  # the app: unknown parameter
    assert client.get(path, headers={"Origin": "http://elsewhere"}).status_code == 200
    assert not any("unchecked" in line for line in _request_lines(caplog))
