"""Reading an official boundary file: GeoPackage, Shapefile (with its sidecars, or zipped)
or GeoJSON, through pyogrio; and finding its commune-code and name columns.

Nothing here decides what the file means: `read_boundary_file` returns the features, the
coordinate system the file declares (None when it declares none: a .shp without .prj) and
the SHA-256 of what was read; `find_columns` names the code and name columns.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pyogrio
from pyproj import CRS

from geoservice.errors import ContentRejected, InvalidParameter
from geoservice.text import ascii_fold, nfc

SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".zip")
SIDECARS = (".dbf", ".shx", ".prj", ".cpg")
# Header spellings, compared folded (no diacritics, lower case, letters and digits only).
CODE_HEADERS = ("maxa", "maxa2025", "maxaphuong", "maphuongxa", "madvhc", "madonvi",
                "communecode", "wardcode", "codexa", "xacode", "code", "ma", "gsocode")
NAME_HEADERS = ("tenxa", "tenxaphuong", "tenphuongxa", "tendvhc", "tendonvi", "communename",
                "wardname", "namexa", "ten", "name", "xa", "ward", "commune")
_FOLD = re.compile(r"[^a-z0-9]+")


@dataclass
class BoundaryFile:
    """The features of a boundary file as read, before any check."""

    name: str
    frame: gpd.GeoDataFrame
    crs: CRS | None  # as the file declares it; None: none declared
    sha256: str
    declared_by: str  # where the system came from: ".prj", "GeoPackage", "GeoJSON", "none"
    notes: list[str]
    shapefile: bool = False  # a .shp (alone or in a .zip)


def read_boundary_file(path: Path, name: str | None = None) -> BoundaryFile:
    """Read a boundary file; raise `ContentRejected` when it cannot be read as one."""
    name = name or path.name
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ContentRejected(f"{name}: not a boundary file; give a GeoPackage (.gpkg), a "
                              "Shapefile (.shp with its .dbf and .shx, or a .zip of them) or "
                              "GeoJSON (.geojson).", parameter="file")
    notes: list[str] = []
    if suffix == ".zip":
        target, parts, has_prj = _zip_member(path, name)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    else:
        target, parts = str(path), _sidecars(path, name)
        digest = hashlib.sha256(b"".join(p.read_bytes() for p in parts)).hexdigest()
        has_prj = suffix != ".shp" or any(p.suffix.lower() == ".prj" for p in parts)
    layer = _polygon_layer(target, name, notes)
    try:
        frame = gpd.read_file(target, layer=layer, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError) as exc:
        raise ContentRejected(f"{name}: cannot be read as a boundary file ({exc}).",
                              parameter="file") from None
    is_shp = target.lower().endswith(".shp")
    declared = ".prj" if is_shp else ("GeoPackage" if target.lower().endswith(".gpkg")
                                      else "GeoJSON")
    crs = frame.crs if (has_prj or not is_shp) else None
    if crs is None:
        declared = "none"
    return BoundaryFile(name, frame, crs, digest, declared, notes, shapefile=is_shp)


def _sidecars(path: Path, name: str) -> list[Path]:
    """The .shp and the sidecars beside it (any case); a Shapefile without .dbf or .shx is
    refused. Other formats: the file alone."""
    if path.suffix.lower() != ".shp":
        return [path]
    found = {p.suffix.lower(): p for p in path.parent.glob(path.stem + ".*")
             if p.suffix.lower() in SIDECARS}
    for needed, what in ((".dbf", "the attributes, with the commune codes"),
                         (".shx", "the index of the shapes")):
        if needed not in found:
            raise ContentRejected(f"{name}: the Shapefile has no {needed} beside it ({what}); "
                                  "give the .shp with its .dbf and .shx, or a .zip of them.",
                                  parameter="file")
    return [path, *(found[s] for s in SIDECARS if s in found)]


def _zip_member(path: Path, name: str) -> tuple[str, list, bool]:
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.namelist() if not m.endswith("/")]
    except zipfile.BadZipFile:
        raise ContentRejected(f"{name}: not a readable .zip file.", parameter="file") from None
    readable = [m for m in members if Path(m).suffix.lower() in (".shp", ".gpkg", ".geojson")]
    if len(readable) != 1:
        listed = ", ".join(readable) or "none"
        raise ContentRejected(f"{name}: the .zip must hold one boundary file (.shp with its "
                              f"sidecars, .gpkg or .geojson); it holds {listed}.",
                              parameter="file")
    member = readable[0]
    stem = member[: -len(Path(member).suffix)]
    has_prj = Path(member).suffix.lower() != ".shp" or any(
        m.lower() == (stem + ".prj").lower() for m in members)
    return f"/vsizip/{path}/{member}", [], has_prj


def _polygon_layer(target: str, name: str, notes: list[str]) -> str | None:
    """The one polygon layer of the file (a GeoPackage may hold several)."""
    try:
        layers = pyogrio.list_layers(target)
    except pyogrio.errors.DataSourceError as exc:
        raise ContentRejected(f"{name}: cannot be read as a boundary file ({exc}).",
                              parameter="file") from None
    polygonal = [str(n) for n, kind in layers if kind and "polygon" in str(kind).lower()]
    if len(layers) == 1:
        return str(layers[0][0])
    if len(polygonal) == 1:
        notes.append(f"layer '{polygonal[0]}' read (the file's only polygon layer)")
        return polygonal[0]
    listed = ", ".join(str(n) for n, _kind in layers)
    raise ContentRejected(f"{name}: holds {len(polygonal)} polygon layers ({listed}); give a "
                          "file with one layer of commune polygons.", parameter="file")


def fold_header(text: str) -> str:
    """A header as compared with the known spellings: "Mã xã" -> "maxa"."""
    return _FOLD.sub("", ascii_fold(nfc(str(text))).lower())


def find_columns(frame: gpd.GeoDataFrame, columns: dict[str, str] | None
                 ) -> tuple[str, str | None]:
    """The code column and the name column (None when the file has none).

    `columns` (``code``/``name`` -> header) names them when the headers are not known ones.
    """
    headers = [c for c in frame.columns if c != frame.geometry.name]
    folded = {fold_header(h): h for h in headers}
    for field in columns or {}:
        if field not in ("code", "name"):
            raise InvalidParameter(f"column: a boundary file has the columns code and name, "
                                   f"not '{field}'.", parameter="column")

    def given(field: str) -> str | None:
        header = (columns or {}).get(field)
        if header is None:
            return None
        if header in headers or fold_header(header) in folded:
            return header if header in headers else folded[fold_header(header)]
        raise InvalidParameter(f"column: the file has no column '{header}' for {field}; its "
                               f"columns: {', '.join(map(str, headers))}.", parameter="column")

    code = given("code") or next((folded[h] for h in CODE_HEADERS if h in folded), None)
    if code is None:
        raise ContentRejected(
            "no commune-code column found (looked for ma_xa, maxa, code, commune_code …); "
            f"the file's columns: {', '.join(map(str, headers))}. Name it with "
            "--column code=HEADER.", parameter="column")
    name = given("name") or next((folded[h] for h in NAME_HEADERS
                                  if h in folded and folded[h] != code), None)
    return code, name


def commune_code(value) -> str | None:
    """A code cell as a 5-digit 2025 commune code text ("2650", 2650.0 -> "02650")."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if text.isdigit() and len(text) < 5:
        text = text.zfill(5)
    return text or None
