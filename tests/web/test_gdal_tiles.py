"""Real clients of the tile services: GDAL's MVT driver reads our vector tiles (georeferenced
from the z/x/y in the URL, or a zoom level of them at once), GDAL's OGCAPI driver reads them
through the OGC API - Tiles documents, and GDAL's WMTS driver reads our capabilities and
fetches PNG tiles through them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pyproj
import pytest
import shapely
from PIL import Image

from tests.web.helpers import serving
from tests.web.test_gdal_client import parse_features, require_tool

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


# One zoom-9 tile over Lũng Cú (9/221/405), as the window GDAL's OGCAPI driver is given in
# EPSG:3857 metres: for vector tiles the driver takes the collection's extent as coordinates
# of the tile matrix set's CRS (InitWithTilesAPI, gdalogcapidataset.cpp, in 3.6 as in 3.12),
# and our extent is the standard CRS84 one, in degrees. Without the window every zoom level
# falls outside our tileMatrixSetLimits and the driver lists no layer.
LUNG_CU_WINDOW = (11722000, 2666000, 11735000, 2679000)
WINDOW_OPTIONS = dict(zip(("MINX", "MINY", "MAXX", "MAXY"), map(str, LUNG_CU_WINDOW)))
# GDAL 3.6.0 to 3.7.0 as built with CMake (Debian 12's 3.6.2 among them) have no vector tiles
# in the OGCAPI driver: frmts/ogcapi/CMakeLists.txt adds -DOGR_ENABLE_DRIVER_GML only
# `if(OGR_ENABLE_DRIVER_GML)`, an option declared later (ogr/ogrsf_frmts), so the whole
# vector branch of InitWithTilesAPI, the only place that makes a tiled layer, is compiled
# out; a vector open then fails without a message, whatever the server serves. GDAL 3.7.1
# fixed the build (OSGeo/gdal pull request 7993).
OGCAPI_WITHOUT_VECTOR_TILES = ((3, 6, 0), (3, 7, 1))


def gdal_version() -> tuple[int, ...]:
    """The version of the GDAL command-line tools on PATH."""
    text = run("ogrinfo", "--version")  # "GDAL 3.6.2, released 2023/01/02"
    return tuple(int(n) for n in re.match(r"GDAL (\d+)\.(\d+)\.(\d+)", text).groups())


def assert_is_lung_cu(geometry, built):
    """`geometry` (EPSG:3857, from a zoom-9 tile) covers what the fixture's Lũng Cú does."""
    to_degrees = pyproj.Transformer.from_crs(3857, 4326, always_xy=True)
    shape = shapely.transform(geometry, lambda xy: np.column_stack(
        to_degrees.transform(xy[:, 0], xy[:, 1])))
    communes = built.layers["communes"]
    real = communes.loc[communes["code"] == "00715"].geometry.iloc[0]
    assert shape.intersection(real).area / shape.union(real).area > 0.95, shape.bounds


def test_gdal_mvt_driver_reads_a_zoom_level_of_our_tiles(server, built):
    """What GDAL 3.6 reads a tile set by: a zoom level's folder of /tiles/{layer}/{z}/{x}/{y}.mvt
    with /tiles/{layer}/metadata.json beside it (docs/api.md), the tiles fetched by the filter."""
    require_tool("ogrinfo")
    server.clear()
    out = run("ogrinfo", "-ro", "-q", "-oo", "TILE_EXTENSION=mvt",
              "-spat", *map(str, LUNG_CU_WINDOW), f"MVT:{server.url}/tiles/communes/9",
              "communes")
    assert "Layer name: communes" in out and "ZOOM_LEVEL=9" in out
    (lung_cu,) = [f for f in parse_features(out) if f.get("name") == "Lũng Cú"]
    assert lung_cu["code"] == "00715" and lung_cu["province_code"] == "08"
    assert lung_cu["province_name"] == "Tỉnh Tuyên Quang"
    assert_is_lung_cu(shapely.from_wkt(lung_cu["geometry"]), built)
    assert ("GET", "/tiles/communes/9/405/221.mvt", {}, 200) in server.requests
    assert not server.failures(), server.failures()


def test_ogrinfo_reads_our_ogc_api_vector_tiles(server, built):
    """ogrinfo's OGCAPI driver on the standard path: collection, its tile set list, the tile
    set, the tile matrix set, then our MVT tiles by their {tileMatrix}/{tileRow}/{tileCol}
    template; one layer per zoom level ("Zoom level 9"), typed by the collection's
    `vectorType`."""
    require_tool("ogrinfo")
    version = gdal_version()
    low, high = OGCAPI_WITHOUT_VECTOR_TILES
    if low <= version < high:
        pytest.skip(f"GDAL {'.'.join(map(str, version))}'s OGCAPI driver was built without "
                    "vector tiles (OGR_ENABLE_DRIVER_GML unset, fixed in 3.7.1)")
    server.clear()
    dataset = f"OGCAPI:{server.url}/collections/communes"
    options = ["-oo", "API=TILES"]
    for name, value in WINDOW_OPTIONS.items():
        options += ["-oo", f"{name}={value}"]
    listing = run("ogrinfo", "-ro", "-so", dataset, *options, "Zoom level 9")
    assert "Layer name: Zoom level 9" in listing, listing
    assert "Geometry: Multi Polygon" in listing and "EPSG\",3857" in listing, listing
    # -q: GDAL 3.6 establishes the layer's fields from its first tile only when asked for a
    # feature before the field list (OGCAPITiledLayer::EstablishFields).
    out = run("ogrinfo", "-ro", "-q", dataset, *options, "Zoom level 9")
    (lung_cu,) = [f for f in parse_features(out) if f.get("name") == "Lũng Cú"]
    assert lung_cu["code"] == "00715" and lung_cu["province_code"] == "08"
    assert lung_cu["province_name"] == "Tỉnh Tuyên Quang"
    assert_is_lung_cu(shapely.from_wkt(lung_cu["geometry"]), built)
    paths = [(path, query) for _m, path, query, _s in server.requests]
    assert ("/collections/communes/tiles/WebMercatorQuad/9/221/405", {"f": ["mvt"]}) in paths
    assert not server.failures(), server.failures()


# Run apart from the server: pyogrio holds Python's lock while GDAL waits for our answer.
READ_WITH_PYOGRIO = """
import json, sys
import pyogrio
dataset, layer, options = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
info = pyogrio.read_info(dataset, layer=layer, **options)
frame = pyogrio.read_dataframe(dataset, layer=layer, **options)
print(json.dumps({
    "geometry_type": info["geometry_type"], "crs": info["crs"],
    "fields": [str(name) for name in info["fields"]],
    "features": [{"code": row["code"], "name": row["name"],
                  "province_code": row["province_code"], "wkt": row.geometry.wkt}
                 for _i, row in frame.iterrows()]}))
"""


def test_pyogrio_gdal_reads_our_ogc_api_vector_tiles(server, built):
    """The same OGC API - Tiles path through the GDAL that pyogrio bundles (a dependency of
    the project, 3.7.1 or later), so that it is read where the command-line GDAL is a 3.6."""
    pyogrio = pytest.importorskip("pyogrio")
    if pyogrio.__gdal_version__ < OGCAPI_WITHOUT_VECTOR_TILES[1]:
        pytest.skip(f"pyogrio's GDAL {pyogrio.__gdal_version_string__} has no OGCAPI "
                    "vector tiles")
    server.clear()
    env = {**os.environ, "GDAL_HTTP_TIMEOUT": "30", "NO_PROXY": "127.0.0.1",
           "no_proxy": "127.0.0.1"}
    done = subprocess.run(
        [sys.executable, "-c", READ_WITH_PYOGRIO, f"OGCAPI:{server.url}/collections/communes",
         "Zoom level 9", json.dumps({"API": "TILES", **WINDOW_OPTIONS})],
        capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    read = json.loads(done.stdout)
    assert read["geometry_type"] == "MultiPolygon" and read["crs"] == "EPSG:3857", read
    assert {"code", "name", "province_code"} <= set(read["fields"]), read["fields"]
    (lung_cu,) = [f for f in read["features"] if f["name"] == "Lũng Cú"]
    assert lung_cu["code"] == "00715" and lung_cu["province_code"] == "08"
    assert_is_lung_cu(shapely.from_wkt(lung_cu["wkt"]), built)
    paths = [(path, query) for _m, path, query, _s in server.requests]
    assert ("/collections/communes/tiles/WebMercatorQuad/9/221/405", {"f": ["mvt"]}) in paths
    assert not server.failures(), server.failures()
