"""What follows from the communes' geometry, re-derived after official boundaries are loaded
or an official border-commune list is: the labelled national outline, the land border
lines, each commune's border neighbours, lengths and distance, and the provinces
dissolved from their communes.

The derivation is the build's own (`geoservice.boundaries.border`); this module adapts
the stored communes to it. The outline is labelled with Natural Earth as the build does
(npm world-atlas); where that is not installed, the stored basemap (`countries`, which the
build made from Natural Earth to meet the communes) stands for it. Where an official list
designates a commune, its `border_neighbors` are the official ones (`border_source:
official`); the derived value stays beside it (`border_neighbors_derived`).
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from geoservice.boundaries import basemap, border, sources
from geoservice.boundaries.polygons import GRID
from geoservice.errors import SourceMissing
from geoservice.geodesy import area_km2
from geoservice.store import FeatureQuery, FeatureRow, Store
from geoservice.text import search_key

LOGGER = logging.getLogger(__name__)

ALL = 10**7
DERIVED, OFFICIAL = "derived", "official"
_NUMERIC = {alpha: numeric for numeric, (alpha, _vi, _en) in basemap.COUNTRIES.items()}


def stored(store: Store, collection: str) -> dict[str, tuple[dict, object]]:
    """Every feature of a stored collection: id -> (properties, geometry)."""
    page = store.query(collection, FeatureQuery(limit=ALL))
    return {fid: (props, geometry) for fid, props, geometry in page.features}


def derive_border(store: Store, communes: dict[str, tuple[dict, object]],
                  node_modules: Path | None = None):
    """The land border lines of these communes' outline, per drawn commune its metrics
    (`border.commune_border_metrics`, indexed by code), and what labelled the outline."""
    drawn = {code: geometry for code, (_props, geometry) in communes.items()
             if geometry is not None and not geometry.is_empty}
    frame = gpd.GeoDataFrame({"code": list(drawn)}, geometry=list(drawn.values()),
                             crs="EPSG:4326").set_index("code")
    countries, land, labelled_by = _label_sources(store, node_modules)
    national = shapely.union_all(frame.geometry.to_numpy(), grid_size=GRID)
    outline = border.label_outline(national, countries, land)
    lines = border.border_lines(outline)
    return lines, border.commune_border_metrics(frame, lines), labelled_by


def _label_sources(store: Store, node_modules: Path | None):
    """Natural Earth's countries and land as the build reads them (world-atlas), or where
    that is not installed the stored basemap in their place."""
    try:
        paths = sources.SourcePaths.locate(node_modules)
    except SourceMissing:
        return (*_basemap_sources(store), "the stored basemap (world-atlas not installed)")
    countries = basemap.without_archipelagos(sources.read_countries(paths.countries))
    return countries, sources.read_land(paths.land), "Natural Earth (world-atlas)"


def _basemap_sources(store: Store) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The stored basemap as `label_outline` reads Natural Earth: countries with their ISO
    numeric `id`, and land (every country, Vietnam included)."""
    shapes = stored(store, "countries")
    alpha = [props.get("iso_a2") for props, _geometry in shapes.values()]
    geometry = [g for _props, g in shapes.values()]
    countries = gpd.GeoDataFrame({"id": [_NUMERIC.get(a, "") for a in alpha]},
                                 geometry=geometry, crs="EPSG:4326")
    land = gpd.GeoDataFrame(geometry=geometry, crs="EPSG:4326")
    return countries, land


def with_border(props: dict, metrics: dict | None, designation: dict | None) -> dict:
    """A commune's properties with its derived border values and, where designated, the
    official neighbours in `border_neighbors`."""
    out = dict(props)
    if metrics is not None:
        out["border_length_km"] = metrics["border_length_km"]
        out["distance_to_border_km"] = metrics["distance_to_border_km"]
        out["border_band"] = metrics["border_band"]
        derived = list(metrics["border_neighbors"])
    else:
        derived = list(props.get("border_neighbors_derived", props.get("border_neighbors"))
                       or [])
    out["border_neighbors_derived"] = derived
    for stale in ("border_designation_reference", "border_designation_file"):
        out.pop(stale, None)
    if designation is None:
        out["border_neighbors"], out["border_source"] = derived, DERIVED
        return out
    out["border_neighbors"] = [n for n in border.NEIGHBOURS.values()
                               if n in designation["neighbors"]]
    out["border_source"] = OFFICIAL
    out["border_designation_reference"] = designation.get("reference")
    out["border_designation_file"] = designation.get("filename")
    return out


def commune_rows(communes: dict[str, tuple[dict, object]]) -> list[FeatureRow]:
    """The communes collection as stored by `boundaries.load` (search and neighbour columns)."""
    return [FeatureRow(id=code, properties=props, geometry=geometry,
                       province_code=props.get("province_code"),
                       neighbors=tuple(props.get("border_neighbors") or ()),
                       search=search_key(props.get("name")))
            for code, (props, geometry) in sorted(communes.items())]


def province_rows(provinces: dict[str, tuple[dict, object]],
                  communes: dict[str, tuple[dict, object]],
                  redraw: set[str]) -> list[FeatureRow]:
    """The provinces with border values summed from their communes; those in `redraw`
    dissolved again from their communes' geometry."""
    members: dict[str, list[tuple[dict, object]]] = {}
    for props, geometry in communes.values():
        members.setdefault(props.get("province_code"), []).append((props, geometry))
    rows = []
    for code, (props, geometry) in sorted(provinces.items()):
        group = members.get(code, [])
        out = dict(props)
        lengths: dict[str, float] = {}
        for member, _geometry in group:
            for neighbour, km in (member.get("border_length_km") or {}).items():
                lengths[neighbour] = round(lengths.get(neighbour, 0.0) + km, 3)
        facing = {n for member, _g in group for n in member.get("border_neighbors") or ()}
        out["border_neighbors"] = [n for n in border.NEIGHBOURS.values() if n in facing]
        out["border_length_km"] = lengths
        distances = [m["distance_to_border_km"] for m, g in group
                     if g is not None and m.get("distance_to_border_km") is not None]
        if distances:
            out["distance_to_border_km"] = float(min(distances))
            out["border_band"] = border.border_band(out["distance_to_border_km"])
        if code in redraw:
            geometry = _dissolve([g for _m, g in group if g is not None]) or geometry
            out["area_km2"] = round(float(area_km2(geometry)), 3)
        rows.append(FeatureRow(id=code, properties=out, geometry=geometry, province_code=code,
                               neighbors=tuple(out["border_neighbors"]),
                               search=search_key(out.get("name"))))
    return rows


def _dissolve(geometries: list):
    if not geometries:
        return None
    union = shapely.union_all(np.array(geometries, dtype=object), grid_size=GRID)
    parts = [p for p in shapely.get_parts(union) if p.geom_type == "Polygon"]
    return shapely.MultiPolygon(parts) if parts else None


def border_line_rows(lines: gpd.GeoDataFrame) -> list[FeatureRow]:
    """The border-lines collection: one feature per neighbour, named as the build names it."""
    rows = []
    for code, length, geometry in zip(lines["neighbor"], lines["length_km"], lines.geometry):
        name, name_en = basemap.NAMES[code]
        rows.append(FeatureRow(
            id=code, properties={"neighbor": code, "name": name, "name_en": name_en,
                                 "length_km": float(length)},
            geometry=geometry, neighbors=(code,), search=search_key(name)))
    return rows


def metrics_by_code(metrics) -> dict[str, dict]:
    """The metrics frame as code -> plain values."""
    return {code: {"border_neighbors": list(row["border_neighbors"]),
                   "border_length_km": dict(row["border_length_km"]),
                   "distance_to_border_km": _finite(row["distance_to_border_km"]),
                   "border_band": row["border_band"]}
            for code, row in metrics.iterrows()}


def _finite(value) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None
