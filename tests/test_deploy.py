"""The deployment files in deploy/ parse: the compose file as YAML with the services it
promises, the nginx site with `nginx -t`, the systemd unit with `systemd-analyze verify`
(else read as INI). The nginx site also runs in front of the app: it serves a public
layer's versioned tile from the public tile folder with the service stopped, and passes a
restricted tile to the service, which refuses it without a key. nginx may be absent on a
developer's machine (the tests then skip with the reason); CI sets
GEOSERVICE_REQUIRE_NGINX=1 and installs Debian's nginx."""

from __future__ import annotations

import configparser
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO_ROOT

DEPLOY = REPO_ROOT / "deploy"
REQUIRE_NGINX = os.environ.get("GEOSERVICE_REQUIRE_NGINX") == "1"


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def test_compose_file_has_the_service_and_what_it_stands_on():
    services = compose()["services"]
    assert set(services) == {"geoservice", "postgis", "redis", "nginx"}
    app = services["geoservice"]
    assert app["build"]["dockerfile"] == "deploy/Dockerfile"
    env = app["environment"]
    assert env["GEOSERVICE_DATABASE_URL"].startswith("postgresql://")
    assert "@postgis:5432/" in env["GEOSERVICE_DATABASE_URL"]
    assert env["GEOSERVICE_TILE_CACHE"] == "redis://redis:6379/0"
    assert env["GEOSERVICE_TRUSTED_PROXIES"] == "1"  # nginx in front
    assert services["nginx"]["network_mode"] == "service:geoservice"
    mounted = [volume.split(":")[0] for volume in services["nginx"]["volumes"]]
    assert "./nginx/geoservice.conf" in mounted
    for source in mounted:
        if source.startswith("./"):
            assert (DEPLOY / source).exists(), source


def test_every_environment_setting_of_the_compose_file_is_a_setting():
    from geoservice.config import DEFAULTS, ENV_PREFIX

    names = set(compose()["services"]["geoservice"]["environment"])
    names |= {line.split("=", 1)[0] for line in (DEPLOY / "geoservice.env.example")
              .read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")}
    unknown = {name for name in names if name.startswith(ENV_PREFIX)
               and name[len(ENV_PREFIX):] not in DEFAULTS
               and not name.startswith(("GEOSERVICE_GUNICORN_", "GEOSERVICE_DEMO_DATA"))}
    assert unknown == set()


def test_dockerfile_runs_as_a_user_and_installs_pinned():
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert text.count("FROM python:3.11-slim") == 2
    assert "USER geoservice" in text and "npm ci" in text
    assert "-c /opt/geoservice/constraints.txt" in text
    assert os.access(DEPLOY / "entrypoint.sh", os.X_OK)
    assert "build-data --if-missing" in (DEPLOY / "entrypoint.sh").read_text(encoding="utf-8")


def nginx_binary() -> str:
    """nginx's path (the test skips, or fails with GEOSERVICE_REQUIRE_NGINX=1, without)."""
    nginx = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",)
                                           if os.access(p, os.X_OK)), None)
    if nginx is None:
        if REQUIRE_NGINX:
            pytest.fail("nginx is needed here (GEOSERVICE_REQUIRE_NGINX=1): apt-get install "
                        "nginx")
        pytest.skip("nginx is not installed (apt-get install nginx); CI requires it with "
                    "GEOSERVICE_REQUIRE_NGINX=1")
    return nginx


def test_nginx_site_passes_nginx_t(tmp_path):
    nginx = nginx_binary()
    site = (DEPLOY / "nginx" / "geoservice.conf").read_text(encoding="utf-8")
    assert "/var/cache/nginx/geoservice" in site
    (tmp_path / "site.conf").write_text(site.replace("/var/cache/nginx/geoservice",
                                                     str(tmp_path / "cache")))
    (tmp_path / "logs").mkdir()
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/logs/error.log;\nevents {{}}\n"
        f"http {{\n    access_log off;\n    include {tmp_path}/site.conf;\n}}\n")
    result = subprocess.run([nginx, "-t", "-c", str(tmp_path / "nginx.conf"), "-p",
                             str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    for header in ("X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host",
                   "X-Forwarded-Port"):
        assert f"proxy_set_header {header}" in site


def test_systemd_unit_verifies(tmp_path):
    unit = (DEPLOY / "geoservice.service").read_text(encoding="utf-8")
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read_string(unit)
    service = parser["Service"]
    assert service["User"] == "geoservice" and service["Type"] == "notify"
    assert "gunicorn_conf" in service["ExecStart"] and "build-data" in service["ExecStartPre"]
    assert parser["Install"]["WantedBy"] == "multi-user.target"
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        return  # parsed as INI above: the most this machine can check
    venv = Path(sys.executable).parent.parent  # the commands must exist for verify
    local = tmp_path / "geoservice.service"
    local.write_text(unit.replace("/opt/geoservice/venv", str(venv)))
    result = subprocess.run([analyze, "verify", str(local)], capture_output=True, text=True,
                            timeout=60)
    problems = [line for line in result.stderr.splitlines() if "geoservice.service" in line]
    assert result.returncode == 0 and not problems, result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def nginx_in_front(folder: Path, upstream: int, public_tiles: Path):
    """The shipped site in front of 127.0.0.1:`upstream`, its folders moved under
    `folder`; yields nginx's base URL."""
    nginx, port = nginx_binary(), _free_port()
    site = (DEPLOY / "nginx" / "geoservice.conf").read_text(encoding="utf-8")
    for shipped, local in (("/var/cache/nginx/geoservice", str(folder / "cache")),
                           ("/var/lib/geoservice/public-tiles", str(public_tiles)),
                           ("server 127.0.0.1:5000;", f"server 127.0.0.1:{upstream};"),
                           ("listen 80;", f"listen 127.0.0.1:{port};"),
                           ("listen 9464;", f"listen 127.0.0.1:{_free_port()};")):
        assert shipped in site, shipped
        site = site.replace(shipped, local)
    (folder / "logs").mkdir(parents=True)
    (folder / "site.conf").write_text(site)
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers read the test's folders
    (folder / "nginx.conf").write_text(
        f"{user}pid {folder}/nginx.pid;\nerror_log {folder}/logs/error.log;\ndaemon off;\n"
        f"events {{}}\nhttp {{\n    access_log off;\n"
        + "".join(f"    {kind}_temp_path {folder}/{kind};\n" for kind in (
            "client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        + f"    include {folder}/site.conf;\n}}\n")
    process = subprocess.Popen([nginx, "-c", str(folder / "nginx.conf"), "-p", str(folder)],
                               stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            assert process.poll() is None, process.stderr.read().decode()
            time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        process.wait(10)


def fetch(url: str, headers: dict | None = None):
    """(status, headers, body) of a GET; redirects are not followed."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers or {}),
                         timeout=30) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_nginx_serves_kept_public_tiles_without_the_service(tmp_path, loaded_db):
    import mapbox_vector_tile

    from geoservice.api import tile_urls
    from geoservice.services import of as services_of
    from tests.web.helpers import assert_error, serving

    instance = tmp_path / "instance"
    instance.mkdir()
    with serving(loaded_db, instance) as app_server:
        current = services_of(app_server.httpd.app)
        url = tile_urls.tile_template(current, "", [current.catalog["communes"]])
        z, x, y = 9, 405, 221  # over the fixture's province 08
        path = url.format(z=z, x=x, y=y)
        assert path.startswith("/tiles/v/")
        upstream = int(app_server.url.rsplit(":", 1)[1])
        with nginx_in_front(tmp_path / "nginx", upstream, instance / "public-tiles") as base:
            status, _headers, first = fetch(base + path)
            assert status == 200 and mapbox_vector_tile.decode(first)["communes"]["features"]
            refused = fetch(f"{base}/tiles/incidents/{z}/{x}/{y}.mvt")
            assert refused[0] == 401
            from json import loads

            assert_error(loads(refused[2]), 401)
            guessed = fetch(f"{base}/tiles/v/{'0' * 16}/incidents/{z}/{x}/{y}.mvt")
            assert guessed[0] == 401
            asked = len(app_server.requests)
            assert asked == 3
            app_server.httpd.shutdown()  # the service is gone: nginx alone answers
            app_server.httpd.server_close()
            status, headers, again = fetch(base + path)
            assert status == 200 and again == first
            assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
            assert headers["Content-Type"] == "application/vnd.mapbox-vector-tile"
            assert headers["X-Cache-Status"] == "STATIC"
            assert len(app_server.requests) == asked
            assert fetch(base + path.replace(f"/{y}.mvt", f"/{y + 1}.mvt"))[0] == 502
            assert fetch(f"{base}/tiles/incidents/{z}/{x}/{y}.mvt")[0] == 502


# The oldest Python the shipped install ways run on: Debian 12's (docs/deploying.md, 2b).
OLDEST_PYTHON = "3.11.2"


def test_every_pinned_package_installs_on_debian_12s_python():
    """Each pin of constraints.txt that this environment holds admits Python 3.11.2 by its
    Requires-Python (pip refuses the pin otherwise, and the install fails as a whole)."""
    from importlib.metadata import distributions

    from packaging.specifiers import SpecifierSet
    from packaging.utils import canonicalize_name

    pins = {}
    for line in (REPO_ROOT / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            pins[canonicalize_name(name)] = version.strip()
    checked, refused = 0, []
    for dist in distributions():
        name = canonicalize_name(dist.metadata["Name"])
        if pins.get(name) != dist.version:
            continue
        checked += 1
        wanted = dist.metadata.get("Requires-Python")
        if wanted and not SpecifierSet(wanted).contains(OLDEST_PYTHON):
            refused.append(f"{name}=={dist.version} (Requires-Python {wanted})")
    assert checked > 50, "the environment holds too few of the pins to check them"
    assert not refused, refused
