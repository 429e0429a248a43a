"""Synthetic cross-border cooperation: activities of border communes with their neighbours.

Only border communes (those with ``border_neighbors``) have them; the partner country is
one of the commune's neighbours and the partner locality the nearest of that country's
localities facing Vietnam (see `PARTNER_LOCALITIES`). As the importer does for a kind
without lon/lat fields, the record's geometry is the partner point. A partner point lies
2–8 km beyond T on the ray from Q through T (see `places`), i.e. across the line; where
that lands in a Vietnamese commune (a bend of the line) it is turned to the nearest of 16
directions around T that leaves the communes.
"""

from __future__ import annotations

import math

import numpy as np
import shapely

from geoservice.demo.common import (
    CALIBRATION_YEAR,
    Provinces,
    days_in_year,
    demo_record,
    nth_day,
    pick,
    random_stream,
    rounded,
)
from geoservice.demo.places import (
    KM_PER_DEG_LAT,
    KM_PER_DEG_LON,
    NEIGHBOUR_DIRECTION,
    Units,
    near_border,
    shift_km,
    to_nfc,
)
from geoservice.store.records import RecordWrite

# Partner localities facing Vietnam, with an approximate point near the border used to pick
# the nearest one (China: Yunnan west of 105.6° E, Guangxi east of it).
PARTNER_LOCALITIES = {
    "CN": (("Yunnan", 103.8, 22.7), ("Guangxi", 107.0, 22.6)),
    "LA": (("Phongsaly", 102.6, 21.8), ("Luang Prabang", 103.0, 20.95),
           ("Houaphanh", 104.2, 20.4), ("Xiengkhouang", 104.0, 19.4),
           ("Bolikhamxay", 104.8, 18.8), ("Khammouane", 105.6, 17.9),
           ("Savannakhet", 106.5, 16.7), ("Salavan", 107.1, 16.1),
           ("Sekong", 107.4, 15.5), ("Attapeu", 107.5, 14.8)),
    "KH": (("Ratanakiri", 107.5, 13.9), ("Mondulkiri", 107.5, 12.5),
           ("Kratie", 106.5, 12.2), ("Tbong Khmum", 106.1, 11.8),
           ("Svay Rieng", 106.0, 11.1), ("Prey Veng", 105.5, 11.05),
           ("Kandal", 105.1, 10.95), ("Takeo", 104.9, 10.65),
           ("Kampot", 104.6, 10.5), ("Kep", 104.35, 10.45)),
}
YUNNAN_GUANGXI_LON = 105.6
ACTIVITY_MIX = (("joint_patrol", "information_exchange", "village_twinning", "joint_operation",
                 "handover", "training", "other"), (0.3, 0.2, 0.1, 0.12, 0.1, 0.1, 0.08))
ACTIVITY_OUTCOME = {
    "joint_patrol": "Tuần tra song phương đoạn biên giới, không phát hiện vi phạm",
    "information_exchange": "Trao đổi thông tin về tình hình an ninh trật tự khu vực biên giới",
    "village_twinning": "Duy trì kết nghĩa cụm dân cư hai bên biên giới",
    "joint_operation": "Phối hợp đấu tranh với tội phạm ma túy, mua bán người",
    "handover": "Bàn giao, trao trả người xuất nhập cảnh trái phép",
    "training": "Tập huấn nghiệp vụ phối hợp quản lý biên giới",
    "other": "Hoạt động phối hợp khác",
}


def _partner_locality(neighbour: str, lon: float, lat: float) -> str:
    if neighbour == "CN":
        return "Yunnan" if lon < YUNNAN_GUANGXI_LON else "Guangxi"
    scale = math.cos(math.radians(lat))
    return min(PARTNER_LOCALITIES[neighbour],
               key=lambda p: ((p[1] - lon) * scale) ** 2 + (p[2] - lat) ** 2)[0]


def generate_cooperation(units: Units, provinces: Provinces, years: list[int],
                         seed: int) -> list[RecordWrite]:
    """Return the cooperation activities of the border communes, every year (stream 7)."""
    rng = random_stream(seed, 7)
    on_border = np.array([i for i in range(units.n) if units.neighbors[i]], dtype=int)
    records = []
    for year in years:
        counts = rng.poisson(4.0 * provinces.cooperation[on_border]
                             * (1 + 0.08 * (year - CALIBRATION_YEAR)))
        idx = np.repeat(on_border, counts)
        days = np.concatenate([np.sort(rng.choice(days_in_year(year), size=k, replace=False))
                               for k in counts.tolist()] + [np.zeros(0, dtype=int)])
        picks = [units.neighbors[i][rng.integers(len(units.neighbors[i]))]
                 for i in idx.tolist()]
        x, y, (qx, qy, tx, ty) = near_border(units, idx, picks, rng)
        px, py = _partner_points(units, qx, qy, tx, ty, picks, rng.uniform(2, 8, len(idx)))
        types = pick(rng, ACTIVITY_MIX, len(idx))
        participants = rng.integers(6, 60, len(idx))
        for i, offset, neighbour, activity, people, plon, plat, lon, lat in zip(
                idx.tolist(), days.tolist(), picks, types, participants.tolist(),
                rounded(px), rounded(py), x.tolist(), y.tolist()):
            records.append(demo_record(
                "cooperation", units, i,
                {"date": nth_day(year, offset), "activity_type": activity,
                 "border_station": to_nfc(f"Đồn Biên phòng {units.name[i]}"),
                 "partner_country": neighbour,
                 "partner_locality": _partner_locality(neighbour, lon, lat),
                 "partner_lon": plon, "partner_lat": plat, "participants": people,
                 "outcome": ACTIVITY_OUTCOME[activity]},
                geometry=shapely.Point(plon, plat), when=nth_day(year, offset),
                category=activity))
    return records


def _partner_points(units: Units, qx, qy, tx, ty, neighbours: list, distance_km) -> tuple:
    """Partner points beyond the line; those that land in a Vietnamese commune are turned.

    A point that falls inside Vietnam (the ray crossed a bend of the line) is moved to the
    nearest of 16 directions around T, at the same (then double) distance, that is outside.
    """
    distance_km = np.array(distance_km, dtype=float)
    px, py = _beyond(qx, qy, tx, ty, neighbours, distance_km)
    inland = np.flatnonzero(units.in_vietnam(px, py))
    if not len(inland):
        return px, py
    heading = np.arctan2((py - ty) * KM_PER_DEG_LAT,
                         (px - tx) * KM_PER_DEG_LON * np.cos(np.radians(ty)))
    turns = np.radians(np.array([0, 22.5, -22.5, 45, -45, 67.5, -67.5, 90, -90, 112.5, -112.5,
                                 135, -135, 157.5, -157.5, 180]))
    for factor in (1.0, 2.0):
        for turn in turns:
            if not len(inland):
                return px, py
            angle = heading[inland] + turn
            reach = distance_km[inland] * factor
            cx, cy = shift_km(tx[inland], ty[inland], reach * np.cos(angle), reach * np.sin(angle))
            out = ~units.in_vietnam(cx, cy)
            px[inland[out]], py[inland[out]] = cx[out], cy[out]
            inland = inland[~out]
    return px, py


def _beyond(qx, qy, tx, ty, neighbours: list, distance_km) -> tuple:
    """Points `distance_km` beyond T on the ray Q → T (the neighbour's side of the line)."""
    scale = KM_PER_DEG_LON * np.cos(np.radians(qy))
    dx, dy = (tx - qx) * scale, (ty - qy) * KM_PER_DEG_LAT
    length = np.hypot(dx, dy)
    assumed = np.array([NEIGHBOUR_DIRECTION.get(nb, (0.0, 1.0)) for nb in neighbours]
                       + [(0.0, 0.0)])[:-1]
    short = length < 0.3
    ux = np.where(short, assumed[:, 0], dx / np.where(short, 1, length))
    uy = np.where(short, assumed[:, 1], dy / np.where(short, 1, length))
    return shift_km(tx, ty, ux * distance_km, uy * distance_km)
