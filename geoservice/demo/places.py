"""The communes as arrays, and placing generated points in them or near their border.

A commune's point is shapely's ``point_on_surface`` of its geometry when there is one, else
its recorded ``lon``/``lat``. Scattered points (models, incidents, hot spots) are drawn
around it and re-drawn closer when they fall outside the commune's geometry (finally the
point itself). Near-border points: a point Q is scattered in the commune, T is the nearest
point of the neighbour's border line (the ``border-lines`` collection, clipped to the
commune's surroundings) and the point is Q + f·(T − Q) with f in [0.5, 0.9], pulled back
towards Q while it falls outside the commune. Without border lines the direction of the
neighbour is assumed (China: north; Laos: west; Cambodia: west-north-west) and T lies half
the commune's size away from Q in that direction.
"""

from __future__ import annotations

import json
import math
import unicodedata
from dataclasses import dataclass

import numpy as np
import shapely

KM_PER_DEG_LAT = 110.57
KM_PER_DEG_LON = 111.32

# Assumed direction of each neighbour (east, north) when no border line is available.
NEIGHBOUR_DIRECTION = {"CN": (0.0, 1.0), "LA": (-1.0, 0.0), "KH": (-0.894, 0.447)}

UNIT_PREFIX = {"xã": "Xã", "phường": "Phường", "đặc khu": "Đặc khu"}


@dataclass
class Units:
    """The communes, sorted by code, as parallel columns; commune ``i`` is row ``i``."""

    code: list
    name: list
    full_name: list
    province: list
    ward: np.ndarray
    area: np.ndarray
    x: np.ndarray
    y: np.ndarray
    neighbors: list
    geoms: np.ndarray  # object array; None where only a point is known
    has_geom: np.ndarray
    bounds: np.ndarray  # (n, 4)
    border: dict  # (index, neighbour) -> local border line, or absent
    _tree: object = None

    @property
    def n(self) -> int:
        """The number of communes."""
        return len(self.code)

    def size_km(self) -> np.ndarray:
        """Each commune's size in km: the square root of its area (at least 0.5 km²)."""
        return np.sqrt(np.maximum(self.area, 0.5))

    def in_vietnam(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """True where a point lies in any of the communes (False when no geometry is known)."""
        found = np.zeros(len(x), dtype=bool)
        if len(x) and self.has_geom.any():
            if self._tree is None:
                self._tree = shapely.STRtree(self.geoms[self.has_geom])
            hits = self._tree.query(shapely.points(x, y), predicate="within")
            found[np.unique(hits[0])] = True
        return found

    def inside(self, idx: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """True where point k lies in commune ``idx[k]`` (always True without a geometry)."""
        ok = np.ones(len(idx), dtype=bool)
        check = self.has_geom[idx]
        if check.any():
            ok[check] = shapely.contains_xy(self.geoms[idx[check]], x[check], y[check])
        return ok


def read_units(communes, border_lines) -> Units:
    """Read the communes (columns: see `dataset.generate_demo`); clip the border lines."""
    rows = communes.to_dict("records") if hasattr(communes, "to_dict") else \
        [dict(r) for r in communes]
    rows.sort(key=lambda r: str(r["code"]))
    geoms = np.array([_geometry(r.get("geometry")) for r in rows] + [None], dtype=object)[:-1]
    has_geom = np.array([g is not None for g in geoms], dtype=bool)
    x = np.array([_number(r.get("lon")) for r in rows], dtype=float)
    y = np.array([_number(r.get("lat")) for r in rows], dtype=float)
    if has_geom.any():
        shapely.prepare(geoms[has_geom])
        points = shapely.point_on_surface(geoms[has_geom])
        x[has_geom], y[has_geom] = shapely.get_x(points), shapely.get_y(points)
    missing = np.isnan(x) | np.isnan(y)
    if missing.any():
        raise ValueError(f"commune {rows[int(np.argmax(missing))]['code']} has neither a "
                         "geometry nor lon/lat")
    area = np.array([_area(r) for r in rows], dtype=float)
    unit_types = [str(r.get("unit_type") or "xã") for r in rows]
    names = [to_nfc(str(r.get("name") or r["code"])) for r in rows]
    units = Units(
        code=[str(r["code"]) for r in rows], name=names,
        full_name=[to_nfc(str(r.get("full_name") or f"{UNIT_PREFIX.get(t, 'Xã')} {n}"))
                   for r, t, n in zip(rows, unit_types, names)],
        province=[str(r["province_code"]) for r in rows],
        ward=np.array([t == "phường" for t in unit_types], dtype=bool), area=area, x=x, y=y,
        neighbors=[_neighbors(r.get("border_neighbors")) for r in rows],
        geoms=geoms, has_geom=has_geom, bounds=np.zeros((len(rows), 4)), border={})
    half = units.size_km() / 2
    units.bounds = np.column_stack([*shift_km(x, y, -half, -half), *shift_km(x, y, half, half)])
    if has_geom.any():
        units.bounds[has_geom] = shapely.bounds(geoms[has_geom])
    units.border = _local_border(units, border_lines or {})
    return units


def _geometry(value):
    if value is None or not hasattr(value, "is_empty") or value.is_empty:
        return None
    return value


def _number(value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number


def _area(row: dict) -> float:
    for name in ("area_km2", "official_area_km2", "area"):
        value = _number(row.get(name))
        if value > 0:
            return value
    return 30.0


def _neighbors(value) -> tuple[str, ...]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ()
    if isinstance(value, str):
        value = json.loads(value) if value.startswith("[") else value.split(",")
    return tuple(str(v).strip() for v in value if str(v).strip())


def to_nfc(text: str) -> str:
    """Return `text` in Unicode NFC (unlike `text.nfc`, white space is left as it is)."""
    return unicodedata.normalize("NFC", text)


def _local_border(units: Units, lines: dict) -> dict:
    """Clip each neighbour's line to the surroundings (±0.15°) of the communes facing it."""
    local = {}
    for neighbour, line in sorted(lines.items()):
        idx = np.array([i for i in range(units.n) if neighbour in units.neighbors[i]], dtype=int)
        if line is None or not len(idx):
            continue
        b = units.bounds[idx]
        boxes = shapely.box(b[:, 0] - 0.15, b[:, 1] - 0.15, b[:, 2] + 0.15, b[:, 3] + 0.15)
        parts = shapely.intersection(line, boxes)
        for i, part in zip(idx.tolist(), parts):
            local[(i, neighbour)] = line if part.is_empty else part
    return local


def shift_km(x, y, dx_km, dy_km):
    """Move points (degrees) by `dx_km` east and `dy_km` north."""
    return (x + dx_km / (KM_PER_DEG_LON * np.cos(np.radians(y))),
            y + dy_km / KM_PER_DEG_LAT)


def scatter(units: Units, idx: np.ndarray, cx, cy, spread_km, rng) -> tuple:
    """Points around (cx, cy), σ = spread_km; re-drawn closer while outside the commune."""
    x, y = units.x[idx].astype(float), units.y[idx].astype(float)
    cx, cy = np.broadcast_to(cx, idx.shape), np.broadcast_to(cy, idx.shape)
    spread = np.broadcast_to(spread_km, idx.shape)
    todo = np.arange(len(idx))
    for attempt in range(4):
        if not len(todo):
            break
        dx, dy = rng.normal(0, 1, (2, len(todo))) * spread[todo] * 0.5 ** attempt
        px, py = shift_km(cx[todo], cy[todo], dx, dy)
        ok = units.inside(idx[todo], px, py)
        x[todo[ok]], y[todo[ok]] = px[ok], py[ok]
        todo = todo[~ok]
    return x, y


def _border_targets(units: Units, idx: np.ndarray, neighbours: list, qx, qy) -> tuple:
    """Nearest border point of each (commune, neighbour) to Q, or an assumed one."""
    tx, ty = np.empty(len(idx)), np.empty(len(idx))
    lines = np.array([units.border.get((i, nb)) for i, nb in zip(idx.tolist(), neighbours)]
                     + [None], dtype=object)[:-1]
    known = np.array([line is not None for line in lines], dtype=bool)
    if known.any():
        ends = shapely.get_point(shapely.shortest_line(shapely.points(qx[known], qy[known]),
                                                       lines[known]), 1)
        tx[known], ty[known] = shapely.get_x(ends), shapely.get_y(ends)
    if (~known).any():
        direction = np.array([NEIGHBOUR_DIRECTION.get(nb, (0.0, 1.0)) for nb in neighbours])
        reach = units.size_km()[idx] / 2
        fx, fy = shift_km(qx, qy, direction[:, 0] * reach, direction[:, 1] * reach)
        tx[~known], ty[~known] = fx[~known], fy[~known]
    return tx, ty


def near_border(units: Units, idx: np.ndarray, neighbours: list, rng) -> tuple:
    """Points in border communes pulled towards their neighbour's line; also returns Q, T."""
    qx, qy = scatter(units, idx, units.x[idx], units.y[idx], units.size_km()[idx] * 0.3, rng)
    tx, ty = _border_targets(units, idx, neighbours, qx, qy)
    f = rng.uniform(0.5, 0.9, len(idx))
    x, y = qx.copy(), qy.copy()
    todo = np.arange(len(idx))
    for _ in range(4):
        px, py = qx[todo] + f[todo] * (tx[todo] - qx[todo]), qy[todo] + f[todo] * (ty[todo]
                                                                                  - qy[todo])
        ok = units.inside(idx[todo], px, py)
        x[todo[ok]], y[todo[ok]] = px[ok], py[ok]
        todo = todo[~ok]
        f[todo] *= 0.6
        if not len(todo):
            break
    return x, y, (qx, qy, tx, ty)
