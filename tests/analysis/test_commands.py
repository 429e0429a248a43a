"""The hot-spot commands on the fixture with the synthetic demo data: the planted hot areas
of the fixture provinces come out hot, and the density GeoTIFF peaks at one of them."""

from __future__ import annotations

import json
import math

import rasterio
from click.testing import CliRunner

from geoservice.cli import main
from geoservice.demo.planted import PLANTED_AREAS
from tests.conftest import _copy_database
from tests.web.test_tiles import demo_db  # noqa: F401 - the shared session fixture

FIXTURE_AREAS = [(a.lon, a.lat) for a in PLANTED_AREAS
                 if a.commune_code in ("00715", "00694", "03158", "03127")]


def run(instance, *args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False,
                              env={"GEOSERVICE_INSTANCE_PATH": str(instance)})


def test_hotspots_find_the_planted_area(tmp_path, demo_db):  # noqa: F811
    _copy_database(demo_db, tmp_path / "geoservice.sqlite")
    out = tmp_path / "gi.geojson"
    result = run(tmp_path, "hotspots", "--zones", "hex", "--size-km", "5", "--output",
                 str(out))
    assert result.exit_code == 0, result.output
    features = json.loads(out.read_text())["features"]
    hot = [f for f in features if f["properties"]["gi_bin"] == 3]
    assert hot, result.output
    best = max(hot, key=lambda f: f["properties"]["z"])
    ring = best["geometry"]["coordinates"][0]
    lon = sum(p[0] for p in ring[:-1]) / (len(ring) - 1)
    lat = sum(p[1] for p in ring[:-1]) / (len(ring) - 1)
    assert min(math.dist((lon, lat), area) for area in FIXTURE_AREAS) < 0.15, (lon, lat)


def test_kde_writes_a_cog_peaking_at_the_planted_area(tmp_path, demo_db):  # noqa: F811
    _copy_database(demo_db, tmp_path / "geoservice.sqlite")
    out = tmp_path / "kde.tif"
    result = run(tmp_path, "kde", "-o", str(out), "--province", "08", "--bandwidth-km", "3")
    assert result.exit_code == 0, result.output
    with rasterio.open(out) as surface:
        data = surface.read(1)
        row, col = divmod(int(data.argmax()), data.shape[1])
        x, y = surface.xy(row, col)
        assert surface.crs.to_epsg() == 32648 and surface.tags()["PROVINCE"] == "08"
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(32648, 4326, always_xy=True).transform(x, y)
    assert min(math.dist((lon, lat), area) for area in FIXTURE_AREAS) < 0.1, (lon, lat)
