"""Synthetic models: every model type, hosted by residential areas, schools or enterprises.

Hosts are numbered residential areas (thôn / bản / ấp / tổ dân phố), schools or
enterprises; there are more models where there are more of those (wards, large communes).
A model never claims more residential areas than the commune registered. Start dates
2015 … last year; 86 % active, 8 % suspended, 6 % ended.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import shapely

from geoservice.demo.common import (
    DEMO_MODEL_TYPES,
    Counts,
    Provinces,
    demo_record,
    pick,
    random_stream,
    rounded,
)
from geoservice.demo.places import Units, scatter, to_nfc
from geoservice.store.records import RecordWrite

MODEL_NAMES = {
    "self_management": "Tổ tự quản an ninh trật tự {host}",
    "self_prevention": "Mô hình tự phòng an ninh trật tự {host}",
    "self_protection": "Tổ tự bảo vệ an ninh trật tự {host}",
    "self_reconciliation": "Tổ hòa giải {host}",
    "security_cameras": "Mô hình “Camera an ninh trật tự” {host}",
    "school_gate_traffic": "Cổng trường an toàn giao thông {host}",
    "school_drug_prevention": "Phòng, chống ma túy trong trường học {host}",
    "enterprise_security_team": "Tổ bảo vệ an ninh trật tự {host}",
}
# Expected share of the hosts (residential areas, schools, enterprises) running each model.
MODEL_SHARE = {
    "self_management": (0.20, 0.20), "self_prevention": (0.06, 0.06),
    "self_protection": (0.05, 0.05), "self_reconciliation": (0.08, 0.08),
    "security_cameras": (0.25, 0.04),  # (ward, other commune)
    "school_gate_traffic": (0.35, 0.25), "school_drug_prevention": (0.25, 0.15),
    "enterprise_security_team": (0.15, 0.10),
}
MODEL_HOST = {"school_gate_traffic": "school", "school_drug_prevention": "school",
              "enterprise_security_team": "enterprise"}
SCHOOL_LEVELS = ("Tiểu học", "Trung học cơ sở", "Mầm non", "Trung học phổ thông")
SOUTHERN_PROVINCES = {"75", "79", "80", "82", "86", "91", "92", "96"}  # residential area: ấp
BAN_PROVINCES = {"11", "12", "14"}  # residential area: bản


def generate_models(units: Units, provinces: Provinces, counts: Counts, years: list[int],
                    seed: int) -> list[RecordWrite]:
    """Return the models of every type hosted in the communes (stream 4)."""
    rng = random_stream(seed, 4)
    n = units.n
    hosts = {"residential": counts.residential, "school": counts.schools,
             "enterprise": counts.enterprises}
    commune_factor = rng.gamma(2.0, 0.5, n)
    per_type = []
    for t, model_type in enumerate(DEMO_MODEL_TYPES):
        host = hosts[MODEL_HOST.get(model_type, "residential")]
        ward_share, other_share = MODEL_SHARE[model_type]
        share = np.where(units.ward, ward_share, other_share) * provinces.models[:, t]
        k = rng.binomial(host, np.clip(share * commune_factor, 0, 0.95))
        start = rng.integers(0, host)  # hosts are numbered from a random one, no repeats
        per_type.append((model_type, host, k, start))
    idx, types, numbers = [], [], []
    for model_type, host, k, start in per_type:
        rows = np.repeat(np.arange(n), k)
        within = np.arange(len(rows)) - np.repeat(np.cumsum(k) - k, k)
        idx.append(rows)
        types += [model_type] * len(rows)
        numbers.append((start[rows] + within) % host[rows] + 1)
    idx, numbers = np.concatenate(idx), np.concatenate(numbers)
    order = np.lexsort((numbers, np.array([DEMO_MODEL_TYPES.index(t) for t in types]), idx))
    idx, numbers, types = idx[order], numbers[order], [types[k] for k in order.tolist()]
    first = date(2015, 1, 1)
    starts = rng.integers(0, (date(max(years), 12, 31) - first).days + 1, len(idx))
    status = pick(rng, (("active", "suspended", "ended"), (0.86, 0.08, 0.06)), len(idx))
    x, y = scatter(units, idx, units.x[idx], units.y[idx], units.size_km()[idx] * 0.3, rng)
    records = []
    for i, model_type, number, offset, state, lon, lat in zip(
            idx.tolist(), types, numbers.tolist(), starts.tolist(), status, rounded(x),
            rounded(y)):
        name, host_unit = _model_names(units, i, model_type, number)
        when = first + timedelta(days=offset)
        records.append(demo_record(
            "models", units, i,
            {"model_type": model_type, "name": name, "host_unit": host_unit, "lon": lon,
             "lat": lat, "start_date": when, "status": state},
            geometry=shapely.Point(lon, lat), when=when, category=model_type))
    return records


def _model_names(units: Units, i: int, model_type: str, number: int) -> tuple[str, str]:
    commune = units.full_name[i]
    where = commune[:1].lower() + commune[1:]
    host_type = MODEL_HOST.get(model_type, "residential")
    if host_type == "school":
        level = SCHOOL_LEVELS[(number - 1) % len(SCHOOL_LEVELS)]
        suffix = f" số {(number - 1) // len(SCHOOL_LEVELS) + 1}" if number > 4 else ""
        host = f"Trường {level} {units.name[i]}{suffix}"
        return to_nfc(MODEL_NAMES[model_type].format(host=host)), to_nfc(f"{host}, {where}")
    if host_type == "enterprise":
        host = f"doanh nghiệp số {number}"
        return (to_nfc(MODEL_NAMES[model_type].format(host=host)),
                to_nfc(f"Doanh nghiệp số {number} trên địa bàn {where}"))
    term = _area_term(units, i)
    host = f"{term} {number}"
    return (to_nfc(MODEL_NAMES[model_type].format(host=host)),
            to_nfc(f"{host[:1].upper()}{host[1:]}, {where}"))


def _area_term(units: Units, i: int) -> str:
    if units.ward[i]:
        return "tổ dân phố"
    if units.province[i] in SOUTHERN_PROVINCES:
        return "ấp"
    return "bản" if units.province[i] in BAN_PROVINCES else "thôn"
