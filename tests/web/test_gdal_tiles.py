"""Real clients of the tile services: GDAL's MVT driver reads our vector tiles (georeferenced
from the z/x/y in the URL) and GDAL's WMTS driver reads our capabilities and fetches PNG
tiles through them."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from PIL import Image

from tests.web.helpers import serving
from tests.web.test_gdal_client import require_tool

pytestmark = pytest.mark.gdal


@pytest.fixture(scope="module")
def server(loaded_db, tmp_path_factory):
    with serving(loaded_db, tmp_path_factory.mktemp("gdal-tiles")) as running:
        yield running


def run(*args: str, cache=None) -> str:
    env = {"GDAL_HTTP_TIMEOUT": "30", "CPL_VSIL_CURL_CACHE_SIZE": "0", "PATH": "/usr/bin:/bin"}
    if cache is not None:  # GDAL's WMTS driver caches tiles; keep them out of the checkout
        env["GDAL_DEFAULT_WMS_CACHE_PATH"] = str(cache)
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_gdal_reads_our_vector_tiles(server):
    require_tool("ogrinfo")
    # Zoom 9 tile over Lũng Cú (105.3 E, 23.35 N), in province 08 of the fixture.
    out = run("ogrinfo", "-ro", "-al", "-geom=NO",
              f"/vsicurl/{server.url}/tiles/communes/9/405/221.mvt")
    assert "Layer name: communes" in out and "Geometry: Multi Polygon" in out
    assert "Lũng Cú" in out and "EPSG\",3857" in out
    count = int(out.split("Feature Count: ")[1].split()[0])
    assert count > 3


def test_gdal_reads_our_wmts(server, tmp_path):
    require_tool("gdal_translate")
    capabilities = f"WMTS:{server.url}/wmts/1.0.0/WMTSCapabilities.xml"
    info = run("gdalinfo", capabilities, cache=tmp_path / "wms-cache")
    assert f"{capabilities},layer=provinces" in info
    target = tmp_path / "provinces.png"
    # A window around the fixture's two provinces, at about zoom 9.
    run("gdal_translate", "-of", "PNG", "-outsize", "256", "256", "-projwin",
        "11470000", "2700000", "11760000", "2450000", f"{capabilities},layer=provinces",
        str(target), cache=tmp_path / "wms-cache")
    pixels = np.asarray(Image.open(target).convert("RGBA"))
    assert pixels[..., 3].any(), "the WMTS window is blank"
    assert not server.failures(), server.failures()
