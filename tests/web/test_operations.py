"""Operations: readiness of the data, /metrics (Prometheus text, its access, multiprocess
mode), the request log with its request id, and JSON logs."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest
from prometheus_client.parser import text_string_to_metric_families

from geoservice import logs, metrics
from geoservice.services import of as services_of
from tests.conftest import REPO_ROOT
from tests.security.conftest import key_headers
from tests.web.helpers import decode

REMOTE = {"REMOTE_ADDR": "10.1.2.3"}


@pytest.fixture
def loaded(make_app, loaded_db):
    return make_app(loaded_db)


def samples(text: str) -> dict:
    """{(sample name, sorted labels): value} of a Prometheus text exposition."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def scrape(client, **kwargs) -> dict:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/plain" and response.headers["Cache-Control"] == "no-store"
    return samples(response.get_data(as_text=True))


# --- readiness ----------------------------------------------------------------------------

def test_ready_needs_the_boundaries(empty_app):
    response = empty_app.test_client().get("/ready")
    body = decode(response, 503)
    assert body["checks"]["boundaries"] == "missing" and body["status"] == "degraded"
    assert body["checks"]["store"] == "ok" and int(response.headers["Retry-After"]) > 0


def test_ready_lists_the_data_checks_only_when_they_fail(loaded):
    body = decode(loaded.test_client().get("/ready"))
    assert body == {"status": "ok", "checks": {"store": "ok", "tile_cache": "ok",
                                               "rate_limits": "ok"}}


def test_ready_reports_layer_files_that_no_longer_pass(loaded, tmp_path, monkeypatch, caplog):
    from geoservice import resources

    folder = tmp_path / "layers"
    folder.mkdir()
    for path in resources.LAYERS_FOLDER.glob("*.toml"):
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "provinces.toml").write_text('access = "nobody"\n', encoding="utf-8")
    monkeypatch.setattr(resources, "LAYERS_FOLDER", folder)
    client = loaded.test_client()
    body = decode(client.get("/ready"))  # the running catalogue still serves: 200
    assert body["status"] == "degraded" and body["checks"]["layers"] == "invalid"
    assert any("provinces.toml" in r.getMessage() for r in caplog.records)
    original = REPO_ROOT / "layers" / "provinces.toml"
    (folder / "provinces.toml").write_bytes(original.read_bytes())
    assert decode(client.get("/ready"))["status"] == "ok"  # checked again after the change


def test_ready_without_layers_is_not_ready(loaded):
    services_of(loaded).catalog.clear()
    body = decode(loaded.test_client().get("/ready"), 503)
    assert body["checks"]["layers"] == "empty"


# --- metrics ------------------------------------------------------------------------------

def test_metrics_count_requests_by_route_template_and_status(loaded):
    client = loaded.test_client()
    key = ("geoservice_http_requests_total",
           (("method", "GET"), ("route", "/collections/<collection_id>/items"),
            ("status", "200")))
    before = scrape(client).get(key, 0)
    for collection in ("provinces", "communes"):
        assert client.get(f"/collections/{collection}/items?limit=1").status_code == 200
    client.get("/no/such/page/123")
    after = scrape(client)
    assert after[key] == before + 2
    assert after[("geoservice_http_requests_total", (("method", "GET"),
                                                     ("route", "unmatched"),
                                                     ("status", "404")))] >= 1
    buckets = [v for (name, labels), v in after.items()
               if name == "geoservice_http_request_duration_seconds_count"
               and ("route", "/collections/<collection_id>/items") in labels]
    assert buckets and buckets[0] >= 2


def test_tile_cache_counter_api(loaded):
    client = loaded.test_client()
    hit = ("geoservice_tile_cache_lookups_total", (("layer", "provinces"), ("result", "hit")))
    before = scrape(client).get(hit, 0)
    metrics.tile_cache_lookup("provinces", hit=True)
    metrics.tile_cache_lookup("provinces", hit=False)
    after = scrape(client)
    assert after[hit] == before + 1
    assert after[("geoservice_tile_cache_lookups_total",
                  (("layer", "provinces"), ("result", "miss")))] >= 1


def test_imports_are_counted_by_kind_and_status(loaded):
    client = loaded.test_client()
    headers = key_headers(services_of(loaded).store, role="editor")
    refused = ("geoservice_imports_total", (("kind", "certification"), ("status", "400")))
    before = scrape(client).get(refused, 0)
    response = client.post("/imports/certification", headers=headers, data={})
    assert response.status_code == 400  # no file
    client.post("/imports/no-such-kind", headers=headers, data={})
    after = scrape(client)
    assert after[refused] == before + 1
    assert any(name == "geoservice_imports_total" and ("kind", "other") in labels
               for name, labels in after)


def test_metrics_access(make_app, loaded_db):
    app = make_app(loaded_db)
    client, store = app.test_client(), services_of(app).store
    scrape(client)  # loopback, no proxy
    assert client.get("/metrics", environ_base=REMOTE).status_code == 403
    proxied = client.get("/metrics", headers={"X-Forwarded-For": "10.1.2.3"})
    assert proxied.status_code == 403  # a proxy on this host must not make clients local
    viewer = key_headers(store)
    assert client.get("/metrics", headers=viewer, environ_base=REMOTE).status_code == 403
    scrape(client, headers=key_headers(store, role="admin"), environ_base=REMOTE)
    admin_only = make_app(loaded_db, METRICS_ACCESS="admin").test_client()
    assert admin_only.get("/metrics").status_code == 403
    anyone = make_app(loaded_db, METRICS_ACCESS="anyone", PUBLIC_ACCESS=False).test_client()
    scrape(anyone, environ_base=REMOTE)


def test_multiprocess_mode_adds_up_the_workers(tmp_path):
    count = ("from geoservice import metrics\n"
             "metrics.request_answered('/health', 'GET', 200, 0.01)\n")
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    for _worker in range(2):
        subprocess.run([sys.executable, "-c", count], env=env, cwd=REPO_ROOT, check=True,
                       timeout=60)
    show = ("from geoservice import metrics\n"
            "import sys; sys.stdout.write(metrics.exposition()[0].decode())\n")
    text = subprocess.run([sys.executable, "-c", show], env=env, cwd=REPO_ROOT, check=True,
                          capture_output=True, text=True, timeout=60).stdout
    key = ("geoservice_http_requests_total",
           (("method", "GET"), ("route", "/health"), ("status", "200")))
    assert samples(text)[key] == 2
    subprocess.run([sys.executable, "-c", "from geoservice import metrics; "
                    "metrics.clear_multiproc_dir()"], env=env, cwd=REPO_ROOT, check=True,
                   timeout=60)
    assert not list(tmp_path.glob("*.db"))


# --- request log and request id --------------------------------------------------------------

def request_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "geoservice.request"]


def test_every_request_is_logged_once_with_its_id(loaded, caplog):
    caplog.set_level(logging.INFO, logger="geoservice.request")
    client = loaded.test_client()
    response = client.get("/collections/provinces/items?limit=1",
                          headers={"X-Request-Id": "lb-7f3a.2:x"})
    assert response.headers["X-Request-Id"] == "lb-7f3a.2:x"
    [line] = request_lines(caplog)
    assert (line.method, line.path, line.status, line.principal, line.request_id) == (
        "GET", "/collections/provinces/items", 200, "anonymous", "lb-7f3a.2:x")
    assert line.duration_ms >= 0 and "?" not in line.getMessage()
    caplog.clear()
    headers = key_headers(services_of(loaded).store)
    for sent in ("bad id with spaces", "x" * 65, "<script>"):
        got = client.get("/health", headers={"X-Request-Id": sent, **headers})
        assert got.headers["X-Request-Id"] != sent and len(got.headers["X-Request-Id"]) == 32
    assert [r.principal for r in request_lines(caplog)] == ["key"] * 3
    refused = client.get("/admin/users")  # refused by the guard: still logged, with an id
    assert refused.status_code == 401 and refused.headers["X-Request-Id"]
    assert request_lines(caplog)[-1].status == 401


def test_request_log_can_be_turned_off(make_app, loaded_db, caplog):
    caplog.set_level(logging.INFO, logger="geoservice.request")
    client = make_app(loaded_db, REQUEST_LOG="false").test_client()
    assert client.get("/health").headers["X-Request-Id"]
    assert request_lines(caplog) == []


def test_json_log_lines():
    record = logging.LogRecord("geoservice.request", logging.INFO, __file__, 1,
                               "GET %s %s", ("/health", 200), None)
    record.request_id, record.status, record.path = "abc", 200, "/health"
    entry = json.loads(logs.JsonFormatter().format(record))
    assert entry["message"] == "GET /health 200" and entry["request_id"] == "abc"
    assert entry["status"] == 200 and entry["level"] == "INFO"
    assert logs.request_id_from("ok-1") == "ok-1" and logs.request_id_from("") != ""


def test_log_format_setting_gives_our_handler_json(make_app, loaded_db):
    root = logging.getLogger()
    handler = logging.StreamHandler()
    setattr(handler, logs.MARK, True)
    root.addHandler(handler)
    try:
        make_app(loaded_db, LOG_FORMAT="json")
        assert isinstance(handler.formatter, logs.JsonFormatter)
        make_app(loaded_db, LOG_FORMAT="text")
        assert not isinstance(handler.formatter, logs.JsonFormatter)
    finally:
        root.removeHandler(handler)


@pytest.mark.parametrize("key, value", [("LOG_FORMAT", "xml"), ("METRICS_ACCESS", "all"),
                                        ("REQUEST_LOG", "maybe")])
def test_operations_settings_are_checked(tmp_path, key, value):
    from geoservice import config
    from geoservice.errors import ConfigError

    with pytest.raises(ConfigError, match=key):
        config.load(tmp_path, {key: value})
