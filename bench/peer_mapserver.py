"""Our PNG tiles beside MapServer 8's, on the same features and the same classes, in one run.

The layers' features are read from our features API (the same rows our tiles draw: the
choropleth with its indicator joined, border communes, every incident) into one GeoPackage;
a mapfile is written from each layer's legend JSON (the same property, class breaks or
categories, colours, opacity, outlines and point sizes); MapServer draws with Debian's
python3-mapscript, kept warm in one process (bench/mapserver_tiles.py). Each tile is asked
of us (PNG, tile cache off, process warm) and of MapServer alternately, z 6–12; the figure
kept is the ratio of the medians per layer and zoom group (below 1: ours is faster).
"""

from __future__ import annotations

import json
import tempfile
import urllib.request
from pathlib import Path

from bench import measure
from bench.measure import percentiles
from bench.places import zoom_group

ROOT = Path(__file__).resolve().parents[1]
PYTHON = "/usr/bin/python3"
LAYERS = ("certification-rate", "border-communes", "incidents")
TARGET = 0.8  # issue: ours ≤ 0.8 × MapServer's p50 at z6–12
MERCATOR = ("+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 "
            "+units=m +nadgrids=@null +wktext +no_defs")


def available() -> str | None:
    """Why the comparison cannot run here (None when it can)."""
    import subprocess

    done = subprocess.run([PYTHON, "-c", "import mapscript"], capture_output=True,
                          check=False)
    if done.returncode != 0:
        return "MapServer's mapscript is missing: apt-get install python3-mapscript"
    return None


def compare(instance: Path, tiles: list, key: str) -> dict:
    """p50/p99 per layer and zoom group through us and MapServer, with the ratios."""
    missing = available()
    if missing:
        return {"skipped": missing}
    tiles = [t for t in tiles if 6 <= t[0] <= 12]
    headers = {"X-API-Key": key}
    with tempfile.TemporaryDirectory(prefix="bench-mapserver-") as tmp, \
            measure.server(instance, tile_cache="none", port=5077) as ours:
        folder = Path(tmp)
        legends = {layer: _json(ours, f"/tiles/{layer}/legend.json", headers)
                   for layer in LAYERS}
        gpkg = _export(ours, legends, folder / "layers.gpkg", headers)
        mapfile = folder / "bench.map"
        mapfile.write_text(_mapfile(legends, gpkg), encoding="utf-8")
        with measure.running([PYTHON, str(ROOT / "bench" / "mapserver_tiles.py"),
                              str(mapfile), "5080"], {}, 5080, "/") as theirs:
            return _time(ours, theirs, tiles, headers)


def _time(ours: str, theirs: str, tiles: list, headers: dict) -> dict:
    a, b = measure._client(ours), measure._client(theirs)
    samples: dict = {}
    drawn: dict = {}
    for layer in LAYERS:
        paths = [(f"/tiles/{layer}/{z}/{x}/{y}.png", f"/{layer}/{z}/{x}/{y}.png", z)
                 for z, x, y in tiles]
        for mine, peer, _z in paths[:2]:  # warm-up: both prepare their layer
            measure.timed_get(a, mine, headers)
            measure.timed_get(b, peer, {})
        drawn[layer] = _drawn(ours, theirs, paths, headers)
        for mine, peer, z in paths:
            ours_s, status, _ = measure.timed_get(a, mine, headers)
            theirs_s, peer_status, _ = measure.timed_get(b, peer, {})
            if status != 200 or peer_status != 200:
                raise RuntimeError(f"{mine}: {status}, MapServer {peer}: {peer_status}")
            cell = samples.setdefault(layer, {}).setdefault(zoom_group(z), ([], []))
            cell[0].append(ours_s)
            cell[1].append(theirs_s)
    out: dict = {"_about": {"mapserver": "8 (Debian python3-mapscript)",
                            "target_ratio": TARGET},
                 # Both drew the same tiles: painted pixels of every tile, summed.
                 "_painted_pixels": drawn}
    for layer, groups in samples.items():
        for group, (mine, peer) in groups.items():
            ours_p, theirs_p = percentiles(mine), percentiles(peer)
            ratio = round(ours_p["p50"] / theirs_p["p50"], 3)
            out.setdefault(layer, {})[group] = {"ours": ours_p, "mapserver": theirs_p,
                                                "ratio": ratio, "met": ratio <= TARGET}
    return out


def _drawn(ours: str, theirs: str, paths: list, headers: dict) -> dict:
    """Painted (non-transparent) pixels over the layer's tiles, ours and MapServer's: a
    comparison with a peer drawing blank tiles would mean nothing."""
    import io

    import numpy as np
    from PIL import Image

    counts = {"ours": 0, "mapserver": 0}
    for mine, peer, _z in paths:
        for who, base, path, sent in (("ours", ours, mine, headers),
                                      ("mapserver", theirs, peer, {})):
            request = urllib.request.Request(base + path, headers=sent)
            with urllib.request.urlopen(request, timeout=300) as response:
                image = Image.open(io.BytesIO(response.read())).convert("RGBA")
            counts[who] += int((np.asarray(image)[..., 3] > 0).sum())
    return counts


def _json(base: str, path: str, headers: dict) -> dict:
    request = urllib.request.Request(base + path, headers=headers)
    with urllib.request.urlopen(request, timeout=300) as response:
        return json.loads(response.read())


def _export(base: str, legends: dict, target: Path, headers: dict) -> Path:
    """Every feature of each layer, as our features API gives it, into one GeoPackage."""
    import geopandas as gpd

    for layer, legend in legends.items():
        features, offset = [], 0
        while True:
            page = _json(base, f"/collections/{layer}/items?limit=1000&offset={offset}",
                         headers)
            features += page["features"]
            offset += 1000
            if offset >= page.get("numberMatched", 0) or not page["features"]:
                break
        prop = legend.get("property")
        for feature in features:
            value = feature["properties"].get(prop) if prop else None
            if isinstance(value, list):  # border_neighbors ["CN", "LA"] → "CN,LA"
                value = ",".join(sorted(value))
            feature["properties"] = {"value": value}
        frame = gpd.GeoDataFrame.from_features(features, crs="EPSG:4326")
        frame.to_file(target, layer=layer.replace("-", "_"), driver="GPKG")
    return target


def _mapfile(legends: dict, gpkg: Path) -> str:
    layers = "\n".join(_layer(layer, legend, gpkg) for layer, legend in legends.items())
    return f"""MAP
  SIZE 256 256
  EXTENT -20037508 -20037508 20037508 20037508
  UNITS METERS
  IMAGETYPE "png"
  PROJECTION "{MERCATOR}" END
  OUTPUTFORMAT
    NAME "png" DRIVER AGG/PNG MIMETYPE "image/png" IMAGEMODE RGBA TRANSPARENT ON
    EXTENSION "png"
  END
  SYMBOL NAME "circle" TYPE ELLIPSE FILLED TRUE POINTS 1 1 END END
{layers}
END
"""


def _layer(layer: str, legend: dict, gpkg: Path) -> str:
    kind = "POINT" if legend["geometry"] == "point" else "POLYGON"
    classes = "\n".join(_class(entry, kind, legend["kind"]) for entry in legend["entries"]
                        if entry["role"] in ("class", "category", "single", "no_data"))
    return f"""  LAYER
    NAME "{layer}" TYPE {kind} STATUS OFF
    CONNECTIONTYPE OGR CONNECTION "{gpkg}" DATA "{layer.replace("-", "_")}"
    PROJECTION "+proj=longlat +datum=WGS84 +no_defs" END
{classes}
  END"""


def _class(entry: dict, kind: str, style_kind: str) -> str:
    if entry["role"] == "no_data":
        test = "EXPRESSION ('[value]' = '')"
    elif style_kind == "categorical":
        test = f"EXPRESSION ('[value]' = '{entry['value']}')"
    elif style_kind == "classed":
        parts = [f"[value] >= {entry['min']}" if entry.get("min") is not None else None,
                 f"[value] < {entry['max']}" if entry.get("max") is not None else None]
        test = "EXPRESSION (" + " AND ".join(p for p in parts if p) + ")"
    else:
        test = ""
    opacity = _opacity(entry.get("fill"))
    colour = entry.get("color") or "#808080"
    outline = entry.get("stroke") or colour
    width = entry.get("stroke_width") or 0.5
    if kind == "POINT":
        size = 2 * (entry.get("radius") or 3)
        style = (f'STYLE SYMBOL "circle" SIZE {size} COLOR "{colour}" '
                 f'OUTLINECOLOR "{outline}" WIDTH {width} END')
    else:
        fill = f'COLOR "{colour}" OPACITY {opacity} ' if entry.get("fill") else ""
        style = f'STYLE {fill}OUTLINECOLOR "{outline}" WIDTH {width} END'
    return f"    CLASS {test} {style} END"


def _opacity(fill: str | None) -> int:
    """The percentage of an "rgba(r, g, b, a)" fill (100 for a plain colour)."""
    if fill and fill.startswith("rgba("):
        return round(float(fill.rstrip(")").split(",")[-1]) * 100)
    return 100


if __name__ == "__main__":
    import os

    from bench.places import tile_list

    os.chdir(ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        copy = measure.copy_instance(ROOT / "instance", Path(tmp) / "instance")
        result = compare(copy, tile_list(quick=True), measure.national_key(copy))
    print(json.dumps(result, indent=1, ensure_ascii=False))
