"""The basemap: the countries and the sea around Vietnam, so the map needs no internet.

Two layers, both clipped to `REGION`:

- `countries`: one MultiPolygon per country of Natural Earth 1:10m (world-atlas) with
  `iso_a2`, a Vietnamese `name` and `name_en`. Vietnam is the union of the built communes,
  so the basemap lines up with our own boundaries, completed by what the communes lack:
  islands missing from the demo polygons (e.g. Côn Đảo), the archipelagos (below), and in
  a partial build the rest of the country (Natural Earth's Vietnam beyond the built part).
- `sea`: the region less every country above, one MultiPolygon.

Natural Earth's Vietnam and the communes differ by 1-5 km along the coast and the land
border. The strips of Natural Earth's Vietnam outside the communes go to whatever the
national outline faces there (`border.label_outline`): the sea or the neighbour. So the
neighbours and the sea meet the communes exactly, and countries and sea tile the region:
all outlines are noded together into faces, each face gets one owner, and each owner's
faces are merged (a coverage union, exact and fast).

The archipelagos Hoàng Sa and Trường Sa are Vietnamese units in the 2025 unit list (đặc khu);
Natural Earth draws the first inside China and the second as "Spratly Is." without a
country. Land wholly inside `ARCHIPELAGOS` is drawn as Vietnam's.

No simplification: inside the region the sources hold about 10,000 (Natural Earth) and
50,000 (communes) vertices, light enough to serve, and any tolerance would move Vietnam's
outline off the communes.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoservice.boundaries.border import SEA
from geoservice.boundaries.polygons import GRID, polygonal
from geoservice.geodesy import length_km
from geoservice.text import ascii_fold

LOGGER = logging.getLogger(__name__)

# The basemap's extent: west, south, east, north (degrees, WGS 84). Vietnam, its neighbours,
# the Gulf of Tonkin, the Gulf of Thailand and the whole East Sea with Hoàng Sa and Trường Sa
# (whose islands reach 117.8° E), and around them as far as the map page shows at its
# widest zoom (5): no edge of the basemap comes into a national view.
REGION = (80.0, -8.0, 135.0, 36.0)
VIETNAM = "VN"
# world-atlas ids are ISO 3166-1 numeric codes: the countries that fall inside `REGION`.
COUNTRIES = {  # numeric -> (alpha-2, Vietnamese name, English name)
    "704": ("VN", "Việt Nam", "Vietnam"),
    "156": ("CN", "Trung Quốc", "China"),
    "418": ("LA", "Lào", "Laos"),
    "116": ("KH", "Campuchia", "Cambodia"),
    "764": ("TH", "Thái Lan", "Thailand"),
    "104": ("MM", "Myanmar", "Myanmar"),
    "458": ("MY", "Malaysia", "Malaysia"),
    "360": ("ID", "Indonesia", "Indonesia"),
    "096": ("BN", "Brunei", "Brunei"),
    "344": ("HK", "Hồng Kông", "Hong Kong"),
    "446": ("MO", "Ma Cao", "Macao"),
    "608": ("PH", "Phi-líp-pin", "Philippines"),
    "158": ("TW", "Đài Loan", "Taiwan"),
    "702": ("SG", "Xin-ga-po", "Singapore"),
    "356": ("IN", "Ấn Độ", "India"),
    "050": ("BD", "Băng-la-đét", "Bangladesh"),
    "064": ("BT", "Bu-tan", "Bhutan"),
    "524": ("NP", "Nê-pan", "Nepal"),
    "144": ("LK", "Xri Lan-ca", "Sri Lanka"),
    "392": ("JP", "Nhật Bản", "Japan"),
    "410": ("KR", "Hàn Quốc", "South Korea"),
    "585": ("PW", "Pa-lau", "Palau"),
}
NAMES = {code: (name, name_en) for code, name, name_en in COUNTRIES.values()}
# Natural Earth's features without a code in the region, other than the archipelagos' land.
NAMES["SCARBOROUGH-REEF"] = ("Bãi cạn Scarborough", "Scarborough Reef")
# Land wholly inside these boxes (west, south, east, north) belongs to Vietnam's đặc khu.
ARCHIPELAGOS = {
    "Hoàng Sa": (111.0, 15.5, 113.0, 17.5),
    "Trường Sa": (111.5, 6.5, 116.0, 12.0),
}
# Natural Earth lies 1-5 km off the communes, so a strip is no wider; a longer cut would
# run across land (in a partial build, into an unbuilt province) rather than a strip.
CUT_REACH_KM = 6.0
SEA_ID = "sea"
SEA_NAMES = ("Biển", "Sea")


@dataclass
class Basemap:
    """The two basemap layers, as frames in WGS 84."""

    countries: gpd.GeoDataFrame
    sea: gpd.GeoDataFrame


def build_basemap(
    national: shapely.Geometry, outline: gpd.GeoDataFrame, countries: gpd.GeoDataFrame
) -> Basemap:
    """Return the basemap around `national` (the union of the built communes, on `GRID`).

    `outline` is the national outline labelled by what it faces (`border.label_outline`);
    `countries` is Natural Earth as read by `sources.read_countries`.
    """
    # Communes cannot reach past the region; clipped all the same, so the faces tile it.
    national = polygonal(shapely.intersection(national, shapely.box(*REGION), grid_size=GRID))
    shapes, names = _region_countries(countries)
    names.setdefault(VIETNAM, NAMES[VIETNAM])
    cuts = _cuts(outline, shapes.get(VIETNAM, shapely.Polygon()))
    faces = _faces([shapely.box(*REGION), national, *shapes.values()], cuts)
    owners = _owners(faces, national, shapes, outline)
    rows = [
        {"iso_a2": code, "name": names[code][0], "name_en": names[code][1],
         "geometry": _merge(faces[owners == code])}
        for code in sorted(set(owners) - {SEA})
    ]
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    sea = _merge(faces[owners == SEA])
    LOGGER.info("basemap: %d countries, %d sea polygons", len(frame), len(sea.geoms))
    return Basemap(
        countries=frame,
        sea=gpd.GeoDataFrame({"id": [SEA_ID], "name": [SEA_NAMES[0]],
                              "name_en": [SEA_NAMES[1]]}, geometry=[sea], crs="EPSG:4326"),
    )


def without_archipelagos(countries: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return Natural Earth countries less their land wholly inside `ARCHIPELAGOS`.

    That land is Vietnam's (the special zones Hoàng Sa and Trường Sa), so the national
    outline must not face China across it (`border.label_outline`). Vietnam's row is
    kept as it is; rows left with no land are dropped.
    """
    boxes = [shapely.box(*bounds) for bounds in ARCHIPELAGOS.values()]
    kept = []
    for numeric, name, shape in zip(countries["id"], countries["name"], countries.geometry):
        if shape is None or country_code(numeric, name) == VIETNAM:
            kept.append(shape)
            continue
        parts = [p for p in shapely.get_parts(shape) if not any(p.within(b) for b in boxes)]
        kept.append(shapely.MultiPolygon(parts) if parts else None)
    out = countries.copy()
    out["geometry"] = kept
    return out[[shape is not None for shape in kept]].reset_index(drop=True)


def country_code(numeric: str | float | None, name: str) -> str:
    """Return the alpha-2 code of a world-atlas country, or a stable stand-in.

    Unlisted countries keep their numeric code; features without one (missing, or NaN as
    pandas reads it: Natural Earth's disputed areas) get their English name in capitals,
    e.g. "SCARBOROUGH-REEF".
    """
    if not isinstance(numeric, str) or not numeric:
        return re.sub(r"[^A-Z0-9]+", "-", ascii_fold(name).upper()).strip("-")
    if numeric in COUNTRIES:
        return COUNTRIES[numeric][0]
    return numeric


def _region_countries(countries: gpd.GeoDataFrame) -> tuple[dict, dict]:
    """Return Natural Earth's countries in `REGION` (valid, on `GRID`) and their names.

    Both by code; land in `ARCHIPELAGOS` goes to Vietnam, unlisted countries keep their
    English name in both languages.
    """
    clipped = shapely.make_valid(shapely.clip_by_rect(countries.geometry.to_numpy(), *REGION))
    snapped = shapely.set_precision(clipped, GRID)
    boxes = [shapely.box(*bounds) for bounds in ARCHIPELAGOS.values()]
    parts: dict = {}
    names: dict = {}
    for numeric, name, shape in zip(countries["id"], countries["name"], snapped):
        code = country_code(numeric, name)
        for part in shapely.get_parts(polygonal(shape)):
            if code != VIETNAM and any(part.within(box) for box in boxes):
                parts.setdefault(VIETNAM, []).append(part)
            else:
                parts.setdefault(code, []).append(part)
                names[code] = NAMES.get(code, (name, name))
    shapes = {code: shapely.union_all(found, grid_size=GRID) for code, found in parts.items()}
    return shapes, names


def _faces(shapes: list, cuts: np.ndarray) -> np.ndarray:
    """Node every outline and cut together and return the faces they bound (a partition)."""
    lines = [*shapely.boundary(np.array(shapes, dtype=object)), *cuts]
    noded = shapely.union_all(lines, grid_size=GRID)
    return shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))


def _cuts(outline: gpd.GeoDataFrame, ne_vietnam) -> np.ndarray:
    """Return short lines across the strips where the outline changes label.

    A strip of Natural Earth's Vietnam outside the communes can run past the place where the
    outline stops facing, say, China (a tripoint, the coast, or in a partial build an unbuilt
    province); cut there, each piece faces one thing. Lines longer than `CUT_REACH_KM` are
    not drawn.
    """
    if ne_vietnam.is_empty or len(outline) == 0:
        return np.array([], dtype=object)
    ends = pd.DataFrame(
        np.vstack([shapely.get_coordinates(shapely.get_point(outline.geometry, i))
                   for i in (0, -1)]), columns=["x", "y"])
    ends["label"] = np.tile(outline["label"].to_numpy(), 2)
    junctions = ends.groupby(["x", "y"])["label"].nunique().loc[lambda n: n > 1].index
    points = shapely.points(np.array(list(junctions), dtype=float).reshape(-1, 2))
    cuts = shapely.shortest_line(points, shapely.boundary(ne_vietnam))
    return cuts[length_km(cuts) <= CUT_REACH_KM]


def _owners(faces: np.ndarray, national, shapes: dict, outline: gpd.GeoDataFrame) -> np.ndarray:
    """Return the code owning each face: a country code, or `SEA`.

    A face belongs to Vietnam inside the communes, else to the Natural Earth country around
    it, else to the sea; Natural Earth's Vietnam outside the communes goes by `_facing`.
    """
    xy = shapely.get_coordinates(shapely.point_on_surface(faces))
    owners = np.full(len(faces), SEA, dtype=object)
    for code, shape in shapes.items():
        owners[shapely.contains_xy(shape, xy[:, 0], xy[:, 1])] = code
    inside = shapely.contains_xy(national, xy[:, 0], xy[:, 1])
    strips = (owners == VIETNAM) & ~inside
    owners[strips] = [
        label if label == SEA or (label in shapes and label != VIETNAM) else VIETNAM
        for label in _facing(faces[strips], outline)
    ]
    owners[inside] = VIETNAM
    return owners


def _facing(strips: np.ndarray, outline: gpd.GeoDataFrame) -> np.ndarray:
    """Return, per strip, the outline label it shares most edge with (None: shares none).

    Islands the communes lack share none; in a partial build, so does most of the rest of
    the country, or it shares edges labelled interior.
    """
    owners = np.full(len(strips), None, dtype=object)
    if len(strips) == 0 or len(outline) == 0:
        return owners
    runs = outline.geometry.to_numpy()
    edges = shapely.boundary(strips)
    left, right = shapely.STRtree(runs).query(edges, predicate="intersects")
    shared = pd.DataFrame({
        "strip": left,
        "label": outline["label"].to_numpy()[right],
        "length": shapely.length(shapely.intersection(edges[left], runs[right],
                                                      grid_size=GRID)),
    })
    totals = shared[shared["length"] > 0].groupby(["strip", "label"])["length"].sum()
    best = totals.reset_index().sort_values("length").drop_duplicates("strip", keep="last")
    owners[best["strip"].to_numpy()] = best["label"].to_numpy()
    return owners


def _merge(faces: np.ndarray) -> shapely.MultiPolygon:
    """Merge faces of the partition (edges match exactly) into one valid MultiPolygon."""
    merged = shapely.coverage_union_all(faces)
    if not merged.is_valid:
        merged = shapely.make_valid(merged)
    merged = polygonal(merged)
    if merged.geom_type == "MultiPolygon":
        return merged
    return shapely.MultiPolygon([merged] if not merged.is_empty else [])
