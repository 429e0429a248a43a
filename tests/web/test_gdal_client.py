"""A real client: GDAL's OAPIF driver (ogrinfo, ogr2ogr) against the app in a real HTTP server.

The server runs on a free loopback port in a background thread; every request it answers is
recorded, so the tests can check what GDAL asked for and that nothing was refused.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

from tests.web.helpers import serving

pytestmark = pytest.mark.gdal

# CI sets this: there GDAL's clients must be installed and these tests must run, not skip.
REQUIRED = os.environ.get("GEOSERVICE_REQUIRE_GDAL") == "1"


def require_tool(tool: str) -> None:
    """Skip (or fail, where GDAL is required) when a GDAL command-line tool is missing."""
    if shutil.which(tool) is None:
        message = f"GDAL's {tool} is not on PATH (Debian package gdal-bin)"
        if REQUIRED:
            pytest.fail(f"{message}, but GEOSERVICE_REQUIRE_GDAL=1")
        pytest.skip(message)


@pytest.fixture(scope="session", autouse=True)  # session: checked before the fixture build
def _ogrinfo_installed():
    require_tool("ogrinfo")


@pytest.fixture(scope="module")
def server(loaded_db, tmp_path_factory):
    with serving(loaded_db, tmp_path_factory.mktemp("gdal-instance")) as running:
        yield running


def run_gdal(tool: str, *args: str) -> str:
    require_tool(tool)
    env = dict(os.environ)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.update({"GDAL_HTTP_TIMEOUT": "60", "CPL_DEBUG": "OFF"})
    done = subprocess.run([tool, *args], capture_output=True, timeout=180, env=env, check=False)
    stdout = done.stdout.decode("utf-8")
    stderr = done.stderr.decode("utf-8", errors="replace")
    assert done.returncode == 0, f"{tool} {' '.join(args)} failed:\n{stderr}\n{stdout[-2000:]}"
    assert "ERROR" not in stderr, stderr
    return stdout


BOUNDARY_TYPES = {"provinces": "Multi Polygon", "communes": "Multi Polygon",
                  "border-lines": "Multi Line String", "legacy-communes": "Multi Polygon",
                  "countries": "Multi Polygon", "sea": "Multi Polygon"}


def test_ogrinfo_lists_the_collections(server):
    server.clear()
    out = run_gdal("ogrinfo", "-ro", "-so", f"OAPIF:{server.url}")
    layers = dict(re.findall(r"^\d+: (\S+) \(title: .*\) \((.+)\)$", out, flags=re.M))
    assert {k: v for k, v in layers.items() if k in BOUNDARY_TYPES} == BOUNDARY_TYPES, out
    # Layers of layers/ follow as collections of their own (e.g. border communes by country).
    assert layers.get("border-communes-cn") == "Multi Polygon", out
    assert "Xã, phường, đặc khu (2025)" in out, "titles arrive as UTF-8"
    assert not server.failures(), server.failures()
    assert ("GET", "/collections", {}, 200) in server.requests


def test_ogrinfo_summary_of_a_layer_uses_our_extent_and_count(server, built):
    out = run_gdal("ogrinfo", "-ro", "-so", f"OAPIF:{server.url}", "legacy-communes")
    count = int(re.search(r"^Feature Count: (\d+)$", out, flags=re.M).group(1))
    assert count == len(built.layers["legacy_communes"])
    extent = re.search(r"^Extent: \(([-\d.]+), ([-\d.]+)\) - \(([-\d.]+), ([-\d.]+)\)$", out,
                       flags=re.M)
    bounds = built.layers["legacy_communes"].geometry.dropna().total_bounds
    assert [float(v) for v in extent.groups()] == pytest.approx(list(bounds), abs=1e-3)
    for field in (r"code: String", r"name: String", r"successors: StringList",
                  r"area_km2: Real"):
        assert re.search(rf"^{field} ", out, flags=re.M), (field, out)
    assert not server.failures(), server.failures()


def parse_features(out: str) -> list[dict]:
    """Parse ogrinfo's feature dump into {field: text} dicts (geometry under 'geometry')."""
    features, current = [], None
    for line in out.splitlines():
        if line.startswith("OGRFeature("):
            current = {"_fid": line.split(":", 1)[1].strip()}
            features.append(current)
        elif current is not None and (field := re.match(r"^  (\S+) \((.+?)\) = (.*)$", line)):
            current[field.group(1)] = field.group(3)
        elif current is not None and line.strip().startswith(("MULTIPOLYGON", "POLYGON",
                                                              "MULTILINESTRING")):
            current["geometry"] = line.strip()
    return features


def gdal_list(value: str) -> list:
    """A list property as ogrinfo prints it: JSON text (a String field) or, when GDAL typed
    the field as a StringList from the pages it read, ``(count:a,b)``."""
    match = re.match(r"^\((\d+):(.*)\)$", value)
    if match:
        return match.group(2).split(",") if int(match.group(1)) else []
    return json.loads(value)


def test_ogrinfo_reads_lung_cu_with_an_attribute_filter(server):
    server.clear()
    out = run_gdal("ogrinfo", "-ro", f"OAPIF:{server.url}", "communes",
                   "-where", "code = '00715'")
    (feature,) = parse_features(out)
    assert feature["code"] == "00715"
    assert feature["name"] == "Lũng Cú"
    assert feature["full_name"] == "Xã Lũng Cú"
    assert feature["province_code"] == "08"
    assert gdal_list(feature["border_neighbors"]) == ["CN"]
    assert feature["border_band"] == "0"
    assert float(feature["distance_to_border_km"]) == 0
    assert json.loads(feature["border_length_km"])["CN"] > 5
    assert feature["geometry"].startswith("MULTIPOLYGON (((105.")
    assert not server.failures(), server.failures()
    # GDAL read the OpenAPI document and the queryables, then let the server filter:
    # one page carrying the filter, no walk through every commune.
    paths = [path for _m, path, _q, _s in server.requests]
    assert "/api" in paths and "/collections/communes/queryables" in paths
    pages = [q for _m, p, q, _s in server.requests if p == "/collections/communes/items"]
    filters = [q["filter"] for q in pages if "filter" in q]  # (GDAL may read it twice)
    assert filters and all(f == ["code = '00715'"] for f in filters), pages
    assert all(q.get("offset", ["0"]) == ["0"] for q in pages), pages


def test_ogrinfo_spatial_filter_is_sent_as_bbox(server, built):
    server.clear()
    out = run_gdal("ogrinfo", "-ro", "-geom=NO", f"OAPIF:{server.url}", "communes",
                   "-spat", "105.28", "23.30", "105.32", "23.34")
    names = {f["code"]: f["name"] for f in parse_features(out)}
    assert names.get("00715") == "Lũng Cú", out[-3000:]
    sent = [q["bbox"][0] for _m, p, q, _s in server.requests
            if p == "/collections/communes/items" and "bbox" in q]
    assert sent, server.requests
    assert [float(v) for v in sent[0].split(",")] == pytest.approx([105.28, 23.30, 105.32, 23.34])
    assert not server.failures(), server.failures()


def test_ogrinfo_pushes_a_province_filter_to_the_server(server, built):
    server.clear()
    out = run_gdal("ogrinfo", "-ro", "-geom=NO", f"OAPIF:{server.url}", "communes",
                   "-where", "province_code = '11'")
    features = parse_features(out)
    communes = built.layers["communes"]
    assert sorted(f["code"] for f in features) == sorted(
        communes["code"][communes["province_code"] == "11"])
    assert {f["province_name"] for f in features} == {"Tỉnh Điện Biên"}
    # Since the service declares CQL2 (Part 3), GDAL sends the whole -where as a filter
    # (before, it had only our province_code parameter to translate it into).
    filtered = [q for _m, p, q, _s in server.requests
                if p == "/collections/communes/items" and (
                    q.get("province_code") == ["11"]
                    or "province_code" in q.get("filter", [""])[0])]
    assert filtered, "GDAL pushed the filter to the server"
    assert not server.failures(), server.failures()


def test_ogrinfo_reads_one_feature_by_fid(server):
    out = run_gdal("ogrinfo", "-ro", "-geom=NO", f"OAPIF:{server.url}", "border-lines",
                   "-fid", "1")
    (feature,) = parse_features(out)
    assert feature["neighbor"] in {"CN", "LA"} and float(feature["length_km"]) > 100


def test_ogr2ogr_copies_a_whole_collection(server, built, tmp_path):
    server.clear()
    target = tmp_path / "legacy.geojson"
    run_gdal("ogr2ogr", "-f", "GeoJSON", str(target), f"OAPIF:{server.url}", "legacy-communes")
    copied = json.loads(target.read_text(encoding="utf-8"))
    codes = [f["properties"]["code"] for f in copied["features"]]
    legacy = built.layers["legacy_communes"]
    assert sorted(codes) == sorted(legacy["code"])
    by_code = {f["properties"]["code"]: f for f in copied["features"]}
    assert by_code["00715"]["properties"]["name"] == "Lũng Cú"
    assert by_code["00688"]["properties"]["successors"] == ["00691", "00694"]
    assert by_code["03177"]["geometry"] is None
    offsets = {q.get("offset", ["0"])[0] for _m, p, q, _s in server.requests
               if p == "/collections/legacy-communes/items"}
    assert len(offsets) > 1, "GDAL followed the next links through the pages"
    assert not server.failures(), server.failures()


def test_ogr2ogr_where_on_a_number_gets_the_right_features(server, built, tmp_path):
    """GDAL pushes `area_km2 > 500` to the server as a CQL filter (it learns that
    `area_km2` is queryable from the queryables document): the server sends the few
    large communes, not every commune for GDAL to sort out."""
    server.clear()
    target = tmp_path / "large.geojson"
    run_gdal("ogr2ogr", "-f", "GeoJSON", str(target), f"OAPIF:{server.url}", "communes",
             "-where", "area_km2 > 500")
    copied = json.loads(target.read_text(encoding="utf-8"))
    communes = built.layers["communes"]
    expected = sorted(communes["code"][communes["area_km2"] > 500])
    assert expected and sorted(f["properties"]["code"] for f in copied["features"]) == expected
    pages = [q for _m, p, q, _s in server.requests if p == "/collections/communes/items"]
    # The first page is GDAL reading the schema; every page after it carries the filter.
    filtered = [q for q in pages[1:] if q.get("filter") == ["area_km2 > 500"]]
    assert filtered and len(filtered) == len(pages) - 1, pages
    assert not server.failures(), server.failures()

