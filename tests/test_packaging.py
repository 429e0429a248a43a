"""The wheel is enough to run the service: it carries the layer catalogue and the map's JS/CSS.

The wheel is built from this working tree (its build inputs copied to a temporary folder,
so the build writes nothing here) and installed into a fresh virtual environment with
``--no-deps``; a ``.pth`` file lends it this environment's site-packages for the
dependencies, so nothing is downloaded but the build backend (setuptools, from the package
index, as for any wheel build). The installed package then serves the session's fixture
boundaries on a loopback port.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from dataclasses import dataclass
from pathlib import Path

import mapbox_vector_tile
import pytest
import requests

from tests.conftest import _copy_database

REPO_ROOT = Path(__file__).resolve().parents[1]
# What setuptools reads to build the wheel (pyproject.toml: readme; setup.py: the folders).
BUILD_INPUTS = ("pyproject.toml", "setup.py", "README.md", "geoservice", "layers", "static")
PACKAGE_DATA = ("templates/map/page.html", "translations/vi/LC_MESSAGES/messages.po",
                "store/migrations/env.py", "store/migrations/script.py.mako")
SERVER = """\
import sys

from werkzeug.serving import make_server

from geoservice import create_app

app = create_app({"INSTANCE_PATH": sys.argv[1]})
server = make_server("127.0.0.1", 0, app, threaded=True)
print(server.server_port, flush=True)
server.serve_forever()
"""
DESCRIBE = """\
import json

import flask

import geoservice
from geoservice import resources

print(json.dumps({"package": geoservice.__file__, "flask": flask.__file__,
                  "layers": str(resources.LAYERS_FOLDER),
                  "static": str(resources.STATIC_FOLDER)}))
"""


@dataclass
class Installed:
    """A fresh virtual environment holding the wheel."""

    venv: Path
    python: Path
    site_packages: Path
    wheel: Path

    def run(self, *args, **kwargs) -> subprocess.CompletedProcess:
        """Run the environment's python in a neutral folder (not the checkout)."""
        return subprocess.run([str(self.python), *args], cwd=self.venv, env=_clean_env(),
                              capture_output=True, text=True, timeout=120, check=True, **kwargs)


def _clean_env() -> dict[str, str]:
    """This environment without what would point the new one at the checkout or a config."""
    return {k: v for k, v in os.environ.items()
            if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
            and not k.startswith("GEOSERVICE_")}


def _run(*command, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True,
                            timeout=600, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, command))}:\n{result.stdout[-3000:]}" \
                                   f"\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installed:
    """Build the wheel from the working tree and install it into a fresh environment."""
    work = tmp_path_factory.mktemp("packaging")
    source = work / "source"
    source.mkdir()
    for name in BUILD_INPUTS:
        origin = REPO_ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(origin, source / name)
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir",
         work / "dist", source)
    (wheel,) = (work / "dist").glob("geoservice-*.whl")
    venv = work / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
         "--no-index", wheel)
    site_packages = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_path("
                                            "'purelib'))").stdout.strip())
    ours = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
    (site_packages / "zz_test_dependencies.pth").write_text("\n".join(ours) + "\n")
    return Installed(venv, python, site_packages, wheel)


def test_the_installed_package_is_imported_not_the_checkout(installed):
    described = json.loads(installed.run("-c", DESCRIBE).stdout)
    package = Path(described["package"]).parent
    assert package == installed.site_packages / "geoservice", described
    assert not Path(described["flask"]).is_relative_to(installed.venv), \
        "flask should come from the lent site-packages"
    assert Path(described["layers"]) == package / "_data" / "layers"
    assert Path(described["static"]) == package / "_data" / "static"


def test_the_wheel_holds_the_layers_the_static_files_and_the_package_data(installed):
    package = installed.site_packages / "geoservice"
    for folder in ("layers", "static"):
        expected = {p.relative_to(REPO_ROOT / folder) for p in (REPO_ROOT / folder).rglob("*")
                    if p.is_file()}
        shipped = {p.relative_to(package / "_data" / folder)
                   for p in (package / "_data" / folder).rglob("*") if p.is_file()}
        assert shipped == expected, folder
    for name in PACKAGE_DATA:
        assert (package / name).is_file(), name
    assert (installed.venv / "bin" / "geoservice").is_file(), "console script missing"


def test_the_installed_service_serves_collections_tiles_and_the_map_script(
        installed, loaded_db, tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    _copy_database(loaded_db, instance / "geoservice.sqlite")
    script = tmp_path / "serve.py"
    script.write_text(SERVER)
    log = tmp_path / "server.log"
    with log.open("w") as errors:
        server = subprocess.Popen([str(installed.python), str(script), str(instance)],
                                  cwd=installed.venv, env=_clean_env(), stdout=subprocess.PIPE,
                                  stderr=errors, text=True)
    try:
        port = server.stdout.readline().strip()  # printed once the app is created
        assert port.isdigit(), log.read_text()[-3000:]
        base = f"http://127.0.0.1:{port}"

        collections = requests.get(f"{base}/collections", timeout=60,
                                   headers={"Accept": "application/json"})
        assert collections.status_code == 200, collections.text[:500]
        served = {c["id"] for c in collections.json()["collections"]}
        public_layers = {p.stem for p in (REPO_ROOT / "layers").glob("*.toml")
                         if tomllib.loads(p.read_text(encoding="utf-8"))["access"] == "public"}
        assert public_layers <= served, public_layers - served

        tile = requests.get(f"{base}/tiles/provinces/6/50/28.mvt", timeout=60)
        assert tile.status_code == 200, tile.text[:500]
        features = mapbox_vector_tile.decode(tile.content)["provinces"]["features"]
        assert {f["properties"]["code"] for f in features} >= {"08", "11"}

        script_js = requests.get(f"{base}/static/js/map.js", timeout=60)
        assert script_js.status_code == 200
        assert script_js.content == (REPO_ROOT / "static" / "js" / "map.js").read_bytes()
    finally:
        server.terminate()
        server.wait(timeout=30)
        server.stdout.close()
