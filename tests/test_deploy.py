"""The deployment files in deploy/ parse: the compose file as YAML with the services it
promises, the nginx site with `nginx -t`, the systemd unit with `systemd-analyze verify`
(else read as INI). nginx may be absent on a developer's machine (the test then skips
with the reason); CI sets GEOSERVICE_REQUIRE_NGINX=1 and installs Debian's nginx."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
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


def test_nginx_site_passes_nginx_t(tmp_path):
    nginx = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",)
                                           if os.access(p, os.X_OK)), None)
    if nginx is None:
        if REQUIRE_NGINX:
            pytest.fail("nginx is needed here (GEOSERVICE_REQUIRE_NGINX=1): apt-get install "
                        "nginx")
        pytest.skip("nginx is not installed (apt-get install nginx); CI requires it with "
                    "GEOSERVICE_REQUIRE_NGINX=1")
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
