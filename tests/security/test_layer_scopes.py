"""A key scoped to layers holds on every route derived from a layer: every analyses route
(found in the app's url_map, so a new one is covered without editing this file) refuses a
key whose scope holds no layer showing the analysis — the ``hotspots-*`` layers for Gi*
and emerging hot spots, ``incidents`` for density and the border view — with 403 in the
one JSON error shape, as the analysis layers' own tiles do.

Re-run: ``.venv/bin/python -m pytest -q -p no:cacheprovider tests/security/test_layer_scopes.py``
"""

from __future__ import annotations

import itertools
import re

import pytest

from geoservice.hotspots.params import METHODS
from tests.security.conftest import key_headers
from tests.web.helpers import assert_error, decode

ARGUMENT = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
SAMPLES = {"z": ("8",), "x": ("202",), "y": ("112",)}
SHOWN_BY_LAYERS = ("gistar", "emerging")  # the methods that hotspots-* layers show


def analysis_requests(app, run_ids: dict[str, str]) -> list[tuple[str, str, str]]:
    """(HTTP method, URL, analysis method) of every analyses rule, for every analysis
    method and run its arguments can name."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/analyses"):
            continue
        values = {name: SAMPLES.get(name, ()) for name in
                  sorted(set(rule.arguments) - set(rule.defaults or {}))}
        if "method" in values:
            values["method"] = METHODS
        if "run_id" in values:
            values["run_id"] = tuple(run_ids.values())
        missing = [name for name, options in values.items() if not options]
        assert not missing, f"{rule.rule}: no sample value for {missing}: add one here"
        names = list(values)
        for combination in itertools.product(*(values[n] for n in names)):
            chosen = dict(zip(names, combination))
            url = ARGUMENT.sub(lambda m, c=chosen: c[m.group(1)], rule.rule)
            method = chosen.get("method") or next(
                (m for m, i in run_ids.items() if i == chosen.get("run_id")), "density")
            for verb in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                found.append((verb, url, method))
    return found


@pytest.fixture
def run_ids(world):
    """One run of every analysis method, started by a national key without a scope."""
    client, national = world.app.test_client(), key_headers(world.store)
    ids = {}
    for method in METHODS:
        response = client.post(f"/analyses/{method}", headers=national)
        assert response.status_code in (200, 202), response.get_data()[:300]
        ids[method] = decode(response, response.status_code)["id"]
    return ids


def status_of(client, verb: str, url: str, headers: dict):
    return client.open(url, method=verb, headers=headers)


def test_every_analyses_route_holds_the_layer_scope(world, run_ids):
    client = world.app.test_client()
    national = key_headers(world.store)
    public_only = key_headers(world.store, layers=["provinces", "communes"])
    incidents_only = key_headers(world.store, layers=["incidents"])
    requests = analysis_requests(world.app, run_ids)
    assert len({url for _verb, url, _method in requests}) >= 20
    assert {method for _verb, _url, method in requests} == set(METHODS)
    for verb, url, method in requests:
        unscoped = status_of(client, verb, url, national).status_code
        assert unscoped < 500, (verb, url, unscoped)
        refused = [public_only] + ([incidents_only] if method in SHOWN_BY_LAYERS else [])
        for headers in refused:
            response = status_of(client, verb, url, headers)
            if unscoped == 404 and response.status_code == 404:
                continue  # the route has no such method (zones of density): nothing to hide
            body = decode(response, 403)
            assert_error(body, 403, "Forbidden")
            assert "not scoped" in body["description"], (verb, url)
        if method not in SHOWN_BY_LAYERS:  # density and the border view read incidents
            allowed = status_of(client, verb, url, incidents_only).status_code
            assert allowed == unscoped or allowed in (200, 202), (verb, url, allowed, unscoped)


def test_the_gistar_layer_scope_reads_its_own_zones_only(world, run_ids):
    client = world.app.test_client()
    communes = key_headers(world.store, layers=["hotspots-gistar"])
    hexagons = key_headers(world.store, layers=["hotspots-gistar-hex"])
    # The layer's tiles and the analysis' zones answer alike for the same key.
    assert client.get("/tiles/hotspots-gistar/5/25/14.mvt", headers=communes).status_code \
        in (200, 204, 503)
    assert client.get("/analyses/gistar/zones.geojson", headers=communes).status_code \
        in (200, 202)
    assert client.get(f"/analyses/runs/{run_ids['gistar']}", headers=communes) \
        .status_code == 200
    for url, headers in (("/analyses/gistar/zones.geojson?zones=hex", communes),
                         ("/analyses/gistar/zones.geojson", hexagons),
                         ("/tiles/hotspots-gistar/5/25/14.mvt", hexagons),
                         ("/analyses/emerging/zones.geojson", communes),
                         ("/analyses/density/legend.json", communes),
                         (f"/analyses/runs/{run_ids['density']}", communes)):
        assert_error(decode(client.get(url, headers=headers), 403), 403, "Forbidden")
    assert client.get("/analyses/gistar/zones.geojson?zones=hex", headers=hexagons) \
        .status_code in (200, 202)


def test_report_sections_follow_the_layer_scope(world):
    from geoservice.auth import principal_for
    from geoservice.reports.restricted import scopes
    from geoservice.reports.units import find_unit

    store = world.store
    unit = find_unit(store, "province", "08")
    for layers, shown in ((["incidents"], {"incidents"}),
                          (["provinces", "hotspots-gistar"], set()),
                          (None, {"incidents", "hot_spots", "cooperation"})):
        principal = principal_for(store, key_headers(store, layers=layers))
        allowed = {name for name, scope in scopes(principal, unit).items() if scope.allowed}
        assert allowed == shown, layers
