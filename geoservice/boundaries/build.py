"""`geoservice build-data`: from the registry packages to boundaries.gpkg and a quality report.

The output GeoPackage (in the instance folder) holds the layers `communes`, `provinces`,
`legacy_communes`, `border_lines`, `outline` (the national outline labelled by neighbour or
sea), the basemap layers `countries` and `sea` (see `basemap`) and the table `lineage`.
The same function builds a part of the country (a list of 2025 province codes), which is
how the tests make their fixture.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoservice.boundaries import basemap, border, islands, sources
from geoservice.boundaries.assemble import ASSEMBLY_STEPS, assemble
from geoservice.boundaries.polygons import GRID, sea_km2
from geoservice.boundaries.quality import quality_report, write_report
from geoservice.errors import DataNotBuilt
from geoservice.geodesy import area_km2
from geoservice.progress import Progress, Steps
from geoservice.text import ascii_fold

LOGGER = logging.getLogger(__name__)

GPKG_NAME = "boundaries.gpkg"
DUST_KM2 = 1e-4  # parts of a unit smaller than 100 m² are digitising dust, dropped
OVERLAP_TOLERANCE_KM2 = 0.001  # the stated tolerance: overlaps and holes below this are noise
LIST_FIELDS = ("border_neighbors", "border_length_km", "successors")
# The geometry layers `write_geopackage` writes (besides the table `lineage`).
LAYERS = ("communes", "provinces", "legacy_communes", "border_lines", "outline", "countries",
          "sea")


@dataclass
class Boundaries:
    """All products of one build, as frames."""

    communes: gpd.GeoDataFrame
    provinces: gpd.GeoDataFrame
    legacy: gpd.GeoDataFrame
    lineage: pd.DataFrame
    border_lines: gpd.GeoDataFrame
    outline: gpd.GeoDataFrame
    countries: gpd.GeoDataFrame
    sea: gpd.GeoDataFrame
    report: dict


# The steps of a build, in order, as `build` tells its `progress`.
BUILD_STEPS = ("reading the sources", *ASSEMBLY_STEPS, "placing the islands",
               "drawing the outline", "drawing the basemap", "measuring the borders",
               "checking the quality", "writing boundaries.gpkg")


def build(
    instance: Path, provinces: list[str] | None = None, node_modules: Path | None = None,
    progress: Progress | None = None,
) -> Boundaries:
    """Build the boundaries into `instance` (all of Vietnam, or only `provinces`).

    `progress(step, steps done, steps in all)` hears as each of `BUILD_STEPS` begins, and
    ``("done", n, n)`` once the files are written."""
    started, steps = time.monotonic(), Steps(progress, BUILD_STEPS)
    steps.start("reading the sources")
    paths = sources.SourcePaths.locate(node_modules)
    units = sources.read_units_2025(paths.admin_db)
    legacy = sources.read_units_legacy(paths.admin_db)
    conversion = sources.read_conversion(paths.converter)
    polygons = sources.read_polygons(paths.polygons)
    if provinces:
        units, legacy, polygons = _subset(units, legacy, polygons, conversion, provinces)
    land = sources.read_land(paths.land)
    coast = sources.land_shape(land, polygons.total_bounds)
    assembly = assemble(polygons, units, legacy, conversion, coast, step=steps.start)
    steps.start("placing the islands")
    found = islands.island_geometry(units, assembly.communes, land)
    communes = _communes(assembly.communes, units, found)
    steps.start("drawing the outline")
    drawn = communes.geometry.notna().to_numpy()
    national = shapely.union_all(communes.geometry[drawn].to_numpy(), grid_size=GRID)
    countries = sources.read_countries(paths.countries)
    outline = border.label_outline(national, basemap.without_archipelagos(countries), land)
    steps.start("drawing the basemap")
    background = basemap.build_basemap(national, outline, countries)
    steps.start("measuring the borders")
    lines = border.border_lines(outline)
    communes = _with_border_metrics(communes, border.commune_border_metrics(
        communes[drawn], lines))
    result = Boundaries(
        communes=communes,
        provinces=_provinces(communes, units),
        legacy=_legacy(assembly.legacy, legacy, assembly.lineage),
        lineage=assembly.lineage[["legacy_code", "code", "relation", "is_default", "area_km2"]],
        border_lines=_named_lines(lines),
        outline=outline,
        countries=background.countries,
        sea=background.sea,
        report={},
    )
    steps.start("checking the quality")
    result.report = quality_report(
        communes, units, assembly.stats, lines, topology(communes.geometry[drawn].to_numpy()),
        full_country=not provinces, seconds=time.monotonic() - started,
        islands=[source.as_dict() for source in found.sources],
        sea_km2=sea_km2(communes.geometry.to_numpy(),
                        sources.land_shape(land, communes.total_bounds)),
        references=assembly.references,
    )
    steps.start("writing boundaries.gpkg")
    write_geopackage(result, instance / GPKG_NAME)
    write_report(result.report, instance)
    steps.finish()
    LOGGER.info("boundaries built in %.1f s", time.monotonic() - started)
    return result


def topology(geoms: np.ndarray) -> dict:
    """Return overlap and hole totals (km²) between polygons, and whether they are in tolerance.

    Overlap is the sum of the areas less the area of their union.
    """
    union = shapely.union_all(geoms, grid_size=GRID)
    overlap_km2 = max(float(area_km2(geoms).sum() - area_km2(union)), 0.0)
    holes = [shapely.Polygon(r) for p in shapely.get_parts(union) for r in p.interiors]
    hole_km2 = float(area_km2(np.array(holes, dtype=object)).sum()) if holes else 0.0
    return {
        "overlap_km2": round(overlap_km2, 6),
        "hole_count": len(holes),
        "hole_km2": round(hole_km2, 6),
        "tolerance_km2": OVERLAP_TOLERANCE_KM2,
        "within_tolerance": overlap_km2 <= OVERLAP_TOLERANCE_KM2
        and hole_km2 <= OVERLAP_TOLERANCE_KM2,
    }


def write_geopackage(result: Boundaries, path: Path) -> None:
    """Write every product into one GeoPackage, replacing the file atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.gpkg")
    partial.unlink(missing_ok=True)
    layers = {
        "communes": result.communes,
        "provinces": result.provinces,
        "legacy_communes": result.legacy,
        "border_lines": result.border_lines,
        "outline": result.outline,
        "countries": result.countries,
        "sea": result.sea,
    }
    for name, frame in layers.items():
        _encode_lists(frame).to_file(partial, layer=name, driver="GPKG")
    lineage = gpd.GeoDataFrame(result.lineage.copy(), geometry=None)
    lineage.to_file(partial, layer="lineage", driver="GPKG")
    partial.replace(path)


def read_geopackage(path: Path) -> dict[str, gpd.GeoDataFrame]:
    """Read the layers written by `write_geopackage`, lists and maps decoded.

    Raises `DataNotBuilt` for a GeoPackage written by an older build that lacks layers.
    """
    missing = set((*LAYERS, "lineage")) - set(gpd.list_layers(path)["name"])
    if missing:
        raise DataNotBuilt(f"{path} has no layer {', '.join(sorted(missing))}: run "
                           "'geoservice build-data' to rebuild it")
    layers = {}
    for name in (*LAYERS, "lineage"):
        frame = gpd.read_file(path, layer=name)
        for field in LIST_FIELDS:
            if field in frame.columns:
                frame[field] = frame[field].map(json.loads)
        layers[name] = frame
    return layers


def _encode_lists(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = frame.copy()
    for field in LIST_FIELDS:
        if field in out.columns:
            out[field] = out[field].map(lambda v: json.dumps(v, ensure_ascii=False))
    return out


def _subset(units, legacy, polygons, conversion, provinces):
    from geoservice.boundaries.lineage import lineage_table
    from geoservice.boundaries.matching import province_codes

    units = units[units["province_code"].isin(provinces)].reset_index(drop=True)
    table = lineage_table(conversion, units, legacy)
    old_provinces = set(legacy.loc[legacy["code"].isin(table["legacy_code"]), "province_code"])
    poly_province = province_codes(polygons, legacy)
    legacy = legacy[legacy["province_code"].isin(old_provinces)].reset_index(drop=True)
    polygons = polygons[poly_province.isin(old_provinces).to_numpy()].reset_index(drop=True)
    return units, legacy, polygons


def _drop_dust(geometry):
    if geometry is None:
        return None
    parts = [p for p in shapely.get_parts(geometry) if area_km2(p) >= DUST_KM2]
    return shapely.MultiPolygon(parts) if parts else geometry


def _communes(assembled: gpd.GeoDataFrame, units: pd.DataFrame,
              found: islands.Islands) -> gpd.GeoDataFrame:
    """Every 2025 unit built: its assembled polygon, its islands, or no geometry (None)."""
    frame = units.merge(pd.DataFrame(assembled), on="code", how="left")
    from_islands = frame["code"].isin(found.geometry).to_numpy()
    geometry = [found.geometry[code] if island else _drop_dust(_geometry_or_none(g))
                for code, island, g in zip(frame["code"], from_islands, frame["geometry"])]
    frame["geometry"] = geometry
    frame["match"] = frame["match"].where(frame["match"].notna(), "none")
    frame.loc[from_islands, "match"] = islands.MATCH
    frame["area_guided"] = frame["area_guided"].fillna(False).astype(bool)
    frame["name_ascii"] = frame["name"].map(ascii_fold)
    frame["area_km2"] = area_km2(np.array(geometry, dtype=object)).round(3)
    frame["area_ratio"] = (frame["area_km2"] / frame["official_area_km2"]).round(4)
    columns = ["code", "name", "full_name", "name_ascii", "unit_type", "province_code",
               "province_name", "official_area_km2", "area_km2", "area_ratio", "match",
               "area_guided", "lat", "lon", "geometry"]
    return gpd.GeoDataFrame(frame[columns], geometry="geometry", crs="EPSG:4326")


def _geometry_or_none(value):
    return value if isinstance(value, shapely.Geometry) and not value.is_empty else None


def _with_border_metrics(communes: gpd.GeoDataFrame, metrics: pd.DataFrame) -> gpd.GeoDataFrame:
    """Join the border metrics; a unit without geometry faces nothing, its distance unknown."""
    out = communes.join(metrics)
    out["border_neighbors"] = [v if isinstance(v, list) else [] for v in out["border_neighbors"]]
    out["border_length_km"] = [v if isinstance(v, dict) else {} for v in out["border_length_km"]]
    return out


def _provinces(communes: gpd.GeoDataFrame, units: pd.DataFrame) -> gpd.GeoDataFrame:
    rows = []
    for code, group in communes.groupby("province_code"):
        unit_rows = units[units["province_code"] == code]
        full_name = unit_rows["province_name"].iat[0]
        lengths: dict = {}
        for per_commune in group["border_length_km"]:
            for neighbour, km in per_commune.items():
                lengths[neighbour] = round(lengths.get(neighbour, 0.0) + km, 3)
        drawn = group[group.geometry.notna()]
        distance = float(drawn["distance_to_border_km"].min())
        rows.append({
            "code": code,
            "name": unit_rows["province_short"].iat[0],
            "full_name": full_name,
            "name_ascii": ascii_fold(unit_rows["province_short"].iat[0]),
            "unit_type": "thành phố" if full_name.startswith("Thành phố") else "tỉnh",
            "commune_count": int(len(unit_rows)),
            "official_area_km2": round(float(unit_rows["official_area_km2"].sum()), 3),
            "border_neighbors": [n for n in border.NEIGHBOURS.values() if n in lengths],
            "border_length_km": lengths,
            "distance_to_border_km": distance,
            "border_band": border.border_band(distance),
            "geometry": shapely.union_all(drawn.geometry.to_numpy(), grid_size=GRID),
        })
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    frame["geometry"] = [g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g])
                         for g in frame.geometry]
    frame["area_km2"] = area_km2(frame.geometry.to_numpy()).round(3)
    return frame


def _legacy(assembled, legacy, lineage) -> gpd.GeoDataFrame:
    successors = lineage.groupby("legacy_code")["code"].agg(lambda s: sorted(set(s)))
    frame = legacy.merge(assembled, on="code", how="left")
    frame["successors"] = frame["code"].map(successors).map(
        lambda v: v if isinstance(v, list) else [])
    frame["name_ascii"] = frame["name"].map(ascii_fold)
    frame["match"] = frame["match"].fillna("none")
    geometry = [g if g is not None and not (isinstance(g, float)) else None
                for g in frame["geometry"]]
    out = gpd.GeoDataFrame(
        frame[["code", "name", "full_name", "name_ascii", "unit_type", "district_code",
               "district_name", "province_code", "province_name", "successors", "match"]],
        geometry=geometry, crs="EPSG:4326",
    )
    out["area_km2"] = [round(float(area_km2(g)), 3) if g is not None else None
                       for g in out.geometry]
    return out


def _named_lines(lines: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = lines.copy()
    out["name"] = out["neighbor"].map(lambda n: basemap.NAMES[n][0])
    out["name_en"] = out["neighbor"].map(lambda n: basemap.NAMES[n][1])
    return out[["neighbor", "name", "name_en", "length_km", "geometry"]]
