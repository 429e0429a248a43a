"""The synthetic demo data set: every record kind, for every commune, for a few years.

Nothing here is real. Every record is written with ``synthetic=True`` (and
``"synthetic": True`` in its properties), imported as ``synthetic-demo-seed-<seed>`` by
``geoservice demo-data``, so it can be told apart from (and filtered out of) officials'
data. The same seed and the same communes give the same records, byte for byte.

What is generated (per commune, in code order; random streams are separate per kind):

* certification — one row per commune, year and group (residential, commune, agencies,
  enterprises, schools) with registered ≥ reviewed ≥ certified. Rates follow a logistic
  model: group base + province effect + commune effect + a province trend per year, so they
  vary by province and improve over the years. Registered residential areas, agencies,
  enterprises and schools are drawn once per commune (more in wards and large communes).
* An Giang (province ``91``) in 2024 is calibrated to the public figures (DOMAIN.md): the
  province roll-up (sums of counts) of residential areas and commune-level units is just
  over 74 % and that of agencies, enterprises and schools (each) just over 94 %, i.e. the
  smallest certified count whose rate exceeds the figure. In that province-year every
  registered unit is reviewed, so certified ÷ reviewed and certified ÷ registered agree.
  Awareness there sums to 2,228 sessions, 120,200 participants (the public "more than
  120,181"), 15 collectives and 12 individuals commended.
* awareness — sessions, participants and commendations per commune and year.
  Certification and awareness records have no geometry (as imported ones).
* models — every model type, hosted by numbered residential areas (thôn / bản / ấp /
  tổ dân phố), schools or enterprises; more where there are more of those (wards, large
  communes). A model never claims more residential areas than the commune registered.
  Start dates 2015 … last year; 86 % active, 8 % suspended, 6 % ended.
* incidents — clustered in wards (provincial towns; about 8 a ward a year), near the
  land border in border communes (about 6, 10 in border wards; points pulled from inside
  the commune towards the border line), a thin background elsewhere (0.8), times a
  province factor, +5 % a year; plus the planted hot areas below.
* hot-spots — 2 designated hot spots per province, 5 in border provinces, plus one per
  planted hot area; about 45 % carry a polygon (``area_wkt``; the record's geometry is
  then that polygon, as the importer does).
* cooperation — only in border communes (those with ``border_neighbors``); the partner
  country is one of the commune's neighbours and the partner locality the nearest of
  that country's localities facing Vietnam (see `PARTNER_LOCALITIES`). As the importer
  does for a kind without lon/lat fields, the record's geometry is the partner point.

Placing points. A commune's point is shapely's ``point_on_surface`` of its geometry when
there is one, else its recorded ``lon``/``lat``. Scattered points (models, incidents, hot
spots) are drawn around it and re-drawn closer when they fall outside the commune's
geometry (finally the point itself). Near-border points: a point Q is scattered in the
commune, T is the nearest point of the neighbour's border line (the ``border-lines``
collection, clipped to the commune's surroundings) and the point is Q + f·(T − Q) with
f in [0.5, 0.9], pulled back towards Q while it falls outside the commune. A partner
point (cooperation) lies 2–8 km beyond T on the ray from Q through T, i.e. across the
line; where that lands in a Vietnamese commune (a bend of the line) it is turned to the
nearest of 16 directions around T that leaves the communes. Without border lines the
direction of the neighbour is assumed (China: north; Laos: west; Cambodia:
west-north-west) and T lies half the commune's size away from Q in that direction.

Planted hot areas (for the hot-spot analysis to find). Each is a cluster of
`PlantedArea.per_year` incidents a year, normally distributed around the centre with
σ = radius / 2 (kept inside the commune), of the one category, plus an active designated
hot spot with a circular polygon of that radius. A planted area is generated only when
its commune is among the communes given.

  key  commune                    centre (lon, lat)    radius  a year  category
  H1   00715 Lũng Cú (08)         105.3020, 23.3241    1.5 km  30      illegal_border_crossing
  H2   00694 Hà Giang 1 (08)      104.9350, 22.8072    1.0 km  30      drugs
  H3   03158 Sín Thầu (11)        102.2930, 22.3799    1.5 km  30      drugs
  H4   03127 Điện Biên Phủ (11)   103.0670, 21.4061    0.8 km  30      public_order
  H5   06184 Đồng Đăng (20)       106.7220, 21.9461    1.5 km  30      smuggling
  H6   19432 Lao Bảo (44)         106.6330, 16.6362    1.2 km  30      drugs
  H7   30316 Châu Đốc (91)        105.1170, 10.6837    1.0 km  30      smuggling
  H8   26743 Bến Thành (79)       106.6940, 10.7713    0.3 km  30      public_order

H1–H4 lie in the two-province test fixture (provinces 08 and 11). Each centre is the
commune's recorded centroid (inside its polygon); `PLANTED_AREAS` holds the same values.
"""

from __future__ import annotations

import hashlib
import json
import math
import unicodedata
import zlib
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import shapely

from geoservice.records.kinds import GROUPS, MODEL_TYPES, natural_key
from geoservice.store import FeatureQuery
from geoservice.store.records import ImportBatch, RecordWrite

DEFAULT_SEED = 2025
DEFAULT_YEARS = range(2022, 2026)
IMPORTED_BY = "geoservice demo-data"
DEMO_VERSION = 1  # bump when the generator changes what a seed produces
KIND_ORDER = ("certification", "awareness", "models", "incidents", "hot-spots", "cooperation")

AN_GIANG = "91"
CALIBRATION_YEAR = 2024
# Public figures (DOMAIN.md): certified share just over these percentages in 2024.
AN_GIANG_2024_PERCENT = {"residential": 74, "commune": 74, "agencies": 94, "enterprises": 94,
                         "schools": 94}
AN_GIANG_2024_AWARENESS = {"sessions": 2228, "participants": 120_200,
                           "commended_collectives": 15, "commended_individuals": 12}

GROUP_ORDER = tuple(GROUPS)
GROUP_BASE_RATE = {"residential": 0.80, "commune": 0.80, "agencies": 0.93,
                   "enterprises": 0.90, "schools": 0.95}  # in the reference year 2024

KM_PER_DEG_LAT = 110.57
KM_PER_DEG_LON = 111.32


@dataclass(frozen=True)
class PlantedArea:
    """A planted cluster of incidents (see the module docstring)."""

    key: str
    commune_code: str
    lon: float
    lat: float
    radius_km: float
    per_year: int
    category: str
    name: str


PLANTED_AREAS = (
    PlantedArea("H1", "00715", 105.3020, 23.3241, 1.5, 30, "illegal_border_crossing",
                "Khu vực biên giới xã Lũng Cú"),
    PlantedArea("H2", "00694", 104.9350, 22.8072, 1.0, 30, "drugs",
                "Khu vực trung tâm phường Hà Giang 1"),
    PlantedArea("H3", "03158", 102.2930, 22.3799, 1.5, 30, "drugs",
                "Khu vực ngã ba biên giới xã Sín Thầu"),
    PlantedArea("H4", "03127", 103.0670, 21.4061, 0.8, 30, "public_order",
                "Khu vực chợ trung tâm phường Điện Biên Phủ"),
    PlantedArea("H5", "06184", 106.7220, 21.9461, 1.5, 30, "smuggling",
                "Khu vực cửa khẩu xã Đồng Đăng"),
    PlantedArea("H6", "19432", 106.6330, 16.6362, 1.2, 30, "drugs",
                "Khu vực cửa khẩu xã Lao Bảo"),
    PlantedArea("H7", "30316", 105.1170, 10.6837, 1.0, 30, "smuggling",
                "Khu vực biên giới phường Châu Đốc"),
    PlantedArea("H8", "26743", 106.6940, 10.7713, 0.3, 30, "public_order",
                "Khu vực chợ Bến Thành"),
)

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
# Assumed direction of each neighbour (east, north) when no border line is available.
NEIGHBOUR_DIRECTION = {"CN": (0.0, 1.0), "LA": (-1.0, 0.0), "KH": (-0.894, 0.447)}

CATEGORY_LABEL = {
    "drugs": "ma túy", "smuggling": "buôn lậu",
    "illegal_border_crossing": "xuất nhập cảnh trái phép", "human_trafficking": "mua bán người",
    "disputes_petitions": "tranh chấp, khiếu kiện", "public_order": "trật tự công cộng",
    "other": "an ninh trật tự khác",
}
# Incident category mixes by the kind of place (categories, probabilities).
CATEGORY_MIX = {
    "border": (("smuggling", "illegal_border_crossing", "drugs", "human_trafficking",
                "public_order"), (0.3, 0.25, 0.25, 0.1, 0.1)),
    "ward": (("public_order", "drugs", "disputes_petitions", "other"), (0.4, 0.3, 0.15, 0.15)),
    "rural": (("disputes_petitions", "public_order", "drugs", "other"), (0.35, 0.3, 0.15, 0.2)),
}
SEVERITY_MIX = (("low", "medium", "high"), (0.6, 0.3, 0.1))

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
SOUTHERN_PROVINCES = {"75", "79", "80", "82", "86", "91", "92", "96"}  # residential area: ấp
BAN_PROVINCES = {"11", "12", "14"}  # residential area: bản
UNIT_PREFIX = {"xã": "Xã", "phường": "Phường", "đặc khu": "Đặc khu"}


def demo_filename(seed: int = DEFAULT_SEED) -> str:
    """Return the file name the demo imports are recorded under."""
    return f"synthetic-demo-seed-{seed}"


def fingerprint(records: list[RecordWrite], seed: int = DEFAULT_SEED) -> str:
    """Return the SHA-256 recorded as the demo batch's file hash.

    There is no file: the hash covers the generator version, the seed and the records'
    natural keys (the content follows from those and the communes, deterministically).
    Hashing every record's properties would cost seconds on the national data set.
    """
    digest = hashlib.sha256(f"{DEMO_VERSION}|{seed}|".encode())
    digest.update("\n".join(r.natural_key for r in records).encode())
    return digest.hexdigest()


def generate_demo(communes, years=DEFAULT_YEARS, seed: int = DEFAULT_SEED,
                  border_lines: dict | None = None) -> dict[str, list[RecordWrite]]:
    """Return the synthetic records of every kind for these communes and years.

    `communes`: a DataFrame or a list of dicts with ``code``, ``name``, ``province_code``
    and either a ``geometry`` (preferred) or ``lon``/``lat``; optional ``full_name``,
    ``unit_type``, ``border_neighbors``, ``distance_to_border_km``, ``area_km2`` /
    ``official_area_km2``. `border_lines`: optional {neighbour: line geometry} used to place
    near-border points. Deterministic: the same inputs and seed give identical records.
    """
    years = sorted(int(y) for y in years)
    if not years:
        raise ValueError("no years to generate")
    units = _read_units(communes, border_lines)
    provinces = _province_arrays(units, seed)
    counts = _base_counts(units, seed)
    return {
        "certification": _certification(units, provinces, counts, years, seed),
        "awareness": _awareness(units, provinces, years, seed),
        "models": _models(units, provinces, counts, years, seed),
        "incidents": _incidents(units, provinces, years, seed),
        "hot-spots": _hot_spots(units, years, seed),
        "cooperation": _cooperation(units, provinces, years, seed),
    }


def load_demo(store, seed: int = DEFAULT_SEED, years=DEFAULT_YEARS) -> dict:
    """Generate the demo for the communes in `store` and import it, one batch per kind.

    Returns {kind: ImportOutcome}. Loading again with the same seed changes nothing.
    """
    page = store.query("communes", FeatureQuery(limit=10**6))
    communes = [{**props, "geometry": geometry} for _id, props, geometry in page.features]
    if not communes:
        raise ValueError("the store has no communes: load the boundaries first")
    lines = store.query("border-lines", FeatureQuery(limit=1000))
    border = {props.get("neighbor"): geometry for _id, props, geometry in lines.features
              if geometry is not None}
    generated = generate_demo(communes, years, seed, border_lines=border)
    outcomes = {}
    for kind, records in generated.items():
        batch = ImportBatch(kind=kind, filename=demo_filename(seed),
                            sha256=fingerprint(records, seed), imported_by=IMPORTED_BY)
        outcomes[kind] = store.apply_records(records, batch)
    return outcomes


# --- the communes -------------------------------------------------------------------------

@dataclass
class _Units:
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
        return len(self.code)

    def size_km(self) -> np.ndarray:
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
        ok = np.ones(len(idx), dtype=bool)
        check = self.has_geom[idx]
        if check.any():
            ok[check] = shapely.contains_xy(self.geoms[idx[check]], x[check], y[check])
        return ok


def _read_units(communes, border_lines) -> _Units:
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
    names = [_nfc(str(r.get("name") or r["code"])) for r in rows]
    units = _Units(
        code=[str(r["code"]) for r in rows], name=names,
        full_name=[_nfc(str(r.get("full_name") or f"{UNIT_PREFIX.get(t, 'Xã')} {n}"))
                   for r, t, n in zip(rows, unit_types, names)],
        province=[str(r["province_code"]) for r in rows],
        ward=np.array([t == "phường" for t in unit_types], dtype=bool), area=area, x=x, y=y,
        neighbors=[_neighbors(r.get("border_neighbors")) for r in rows],
        geoms=geoms, has_geom=has_geom, bounds=np.zeros((len(rows), 4)), border={})
    half = units.size_km() / 2
    units.bounds = np.column_stack([*_shift(x, y, -half, -half), *_shift(x, y, half, half)])
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


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _local_border(units: _Units, lines: dict) -> dict:
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


# --- shared randomness --------------------------------------------------------------------

def _rng(seed: int, *stream: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), *stream])


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


@dataclass
class _Provinces:
    effect: np.ndarray  # per commune: the province's logit effect
    groups: np.ndarray  # (n, groups): per-group province effect
    trend: np.ndarray  # logit change per year
    activity: np.ndarray  # awareness multiplier
    models: np.ndarray  # (n, model types) multiplier
    incidents: np.ndarray
    cooperation: np.ndarray
    an_giang: np.ndarray  # bool per commune


def _province_arrays(units: _Units, seed: int) -> _Provinces:
    codes = sorted(set(units.province))
    table = {}
    for code in codes:
        rng = _rng(seed, 100, zlib.crc32(code.encode()))
        effect = rng.normal(0, 0.35)
        groups = rng.normal(0, 0.15, len(GROUP_ORDER))
        if code == AN_GIANG:  # centre the 2024 rates on the public figures
            effect = 0.0
            groups = np.array([_logit(AN_GIANG_2024_PERCENT[g] / 100 + 0.006)
                               - _logit(GROUP_BASE_RATE[g]) for g in GROUP_ORDER])
        table[code] = (effect, groups, rng.uniform(0.2, 0.45), math.exp(rng.normal(0, 0.25)),
                       np.exp(rng.normal(0, 0.4, len(MODEL_TYPES))),
                       math.exp(rng.normal(0, 0.3)), math.exp(rng.normal(0, 0.3)))
    rows = [table[p] for p in units.province]
    return _Provinces(
        effect=np.array([r[0] for r in rows]), groups=np.array([r[1] for r in rows]),
        trend=np.array([r[2] for r in rows]), activity=np.array([r[3] for r in rows]),
        models=np.array([r[4] for r in rows]), incidents=np.array([r[5] for r in rows]),
        cooperation=np.array([r[6] for r in rows]),
        an_giang=np.array([p == AN_GIANG for p in units.province], dtype=bool))


@dataclass
class _Counts:
    residential: np.ndarray
    agencies: np.ndarray
    enterprises: np.ndarray
    schools: np.ndarray


def _base_counts(units: _Units, seed: int) -> _Counts:
    rng = _rng(seed, 1)
    area, ward = units.area, units.ward
    residential = rng.poisson(np.where(ward, 12 + 5 * np.log1p(area / 5),
                                       8 + 6 * np.log1p(area / 15)))
    return _Counts(
        residential=np.maximum(3, residential),
        agencies=np.maximum(1, rng.poisson(np.where(ward, 12, 6))),
        enterprises=np.maximum(1, rng.poisson(np.where(ward, 35, 6))),
        schools=np.maximum(1, rng.poisson(np.where(ward, 8, 4) + np.log1p(area / 50))),
    )


def _record(kind: str, units: _Units, i: int, properties: dict, geometry=None,
            when: date | None = None, year: int | None = None,
            category: str | None = None) -> RecordWrite:
    properties["synthetic"] = True
    return RecordWrite(
        kind=kind, natural_key=natural_key(kind, {**properties, "commune_code": units.code[i]}),
        commune_code=units.code[i], province_code=units.province[i], properties=properties,
        geometry=geometry, neighbors=units.neighbors[i],
        year=year if year is not None else (when.year if when else None), date=when,
        category=category, synthetic=True,
    )


# --- certification and awareness ----------------------------------------------------------

def _certification(units: _Units, provinces: _Provinces, counts: _Counts, years: list[int],
                   seed: int) -> list[RecordWrite]:
    rng = _rng(seed, 2)
    n = units.n
    base = np.array([_logit(GROUP_BASE_RATE[g]) for g in GROUP_ORDER])
    offset = (base[None, :] + provinces.effect[:, None] + provinces.groups
              + rng.normal(0, 0.35, n)[:, None])
    records = []
    for year in years:
        enterprises = np.maximum(1, np.round(counts.enterprises * 1.04 ** (year - 2024)))
        registered = np.column_stack([counts.residential, np.ones(n, dtype=int),
                                      counts.agencies, enterprises.astype(int),
                                      counts.schools]).astype(np.int64)
        logit = (offset + provinces.trend[:, None] * (year - CALIBRATION_YEAR)
                 + rng.normal(0, 0.1, offset.shape))
        missed = rng.binomial(registered, 0.03)
        missed[:, GROUP_ORDER.index("commune")] = 0
        if year == CALIBRATION_YEAR:
            missed[provinces.an_giang] = 0
        reviewed = registered - missed
        certified = rng.binomial(reviewed, 1 / (1 + np.exp(-logit)))
        if year == CALIBRATION_YEAR and provinces.an_giang.any():
            _calibrate(certified, reviewed, provinces.an_giang, rng)
        for i, reg, rev, cert in zip(range(n), registered.tolist(), reviewed.tolist(),
                                     certified.tolist()):
            for g, group in enumerate(GROUP_ORDER):
                records.append(_record(
                    "certification", units, i,
                    {"year": year, "group": group, "registered": reg[g], "reviewed": rev[g],
                     "certified": cert[g]}, year=year, category=group))
    return records


def _calibrate(certified: np.ndarray, reviewed: np.ndarray, rows: np.ndarray, rng) -> None:
    """Move certified counts so that each group's roll-up is just over its public figure."""
    for g, group in enumerate(GROUP_ORDER):
        have, cap = certified[rows, g], reviewed[rows, g]
        total = int(cap.sum())
        target = min(total, AN_GIANG_2024_PERCENT[group] * total // 100 + 1)
        change = target - int(have.sum())
        if change > 0:
            have = have + rng.multivariate_hypergeometric(cap - have, change)
        elif change < 0:
            have = have - rng.multivariate_hypergeometric(have, -change)
        certified[rows, g] = have


def _awareness(units: _Units, provinces: _Provinces, years: list[int],
               seed: int) -> list[RecordWrite]:
    rng = _rng(seed, 3)
    n = units.n
    weight = provinces.activity * np.where(units.ward, 1.2, 1.0) * rng.gamma(8, 1 / 8, n)
    records = []
    for year in years:
        sessions = rng.poisson(20 * weight * (1 + 0.06 * (year - CALIBRATION_YEAR)))
        participants = np.round(sessions * rng.uniform(35, 75, n)).astype(np.int64)
        collectives, individuals = rng.poisson(0.15, n), rng.poisson(0.12, n)
        if year == CALIBRATION_YEAR and provinces.an_giang.any():
            rows = provinces.an_giang
            sessions[rows], participants[rows], collectives[rows], individuals[rows] = \
                _an_giang_awareness(weight[rows], rng)
        for i in range(n):
            records.append(_record(
                "awareness", units, i,
                {"year": year, "sessions": int(sessions[i]),
                 "participants": int(participants[i]),
                 "commended_collectives": int(collectives[i]),
                 "commended_individuals": int(individuals[i])}, year=year))
    return records


def _an_giang_awareness(weight: np.ndarray, rng) -> tuple:
    figures = AN_GIANG_2024_AWARENESS
    share = weight / weight.sum()
    sessions = rng.multinomial(figures["sessions"], share)
    floor = 20 * sessions  # at least 20 participants a session
    extra = figures["participants"] - int(floor.sum())
    participants = floor + rng.multinomial(extra, sessions / sessions.sum())
    return (sessions, participants, rng.multinomial(figures["commended_collectives"], share),
            rng.multinomial(figures["commended_individuals"], share))


# --- placing points -----------------------------------------------------------------------

def _shift(x, y, dx_km, dy_km):
    return (x + dx_km / (KM_PER_DEG_LON * np.cos(np.radians(y))),
            y + dy_km / KM_PER_DEG_LAT)


def _scatter(units: _Units, idx: np.ndarray, cx, cy, spread_km, rng) -> tuple:
    """Points around (cx, cy), σ = spread_km; re-drawn closer while outside the commune."""
    x, y = units.x[idx].astype(float), units.y[idx].astype(float)
    cx, cy = np.broadcast_to(cx, idx.shape), np.broadcast_to(cy, idx.shape)
    spread = np.broadcast_to(spread_km, idx.shape)
    todo = np.arange(len(idx))
    for attempt in range(4):
        if not len(todo):
            break
        dx, dy = rng.normal(0, 1, (2, len(todo))) * spread[todo] * 0.5 ** attempt
        px, py = _shift(cx[todo], cy[todo], dx, dy)
        ok = units.inside(idx[todo], px, py)
        x[todo[ok]], y[todo[ok]] = px[ok], py[ok]
        todo = todo[~ok]
    return x, y


def _border_targets(units: _Units, idx: np.ndarray, neighbours: list, qx, qy) -> tuple:
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
        fx, fy = _shift(qx, qy, direction[:, 0] * reach, direction[:, 1] * reach)
        tx[~known], ty[~known] = fx[~known], fy[~known]
    return tx, ty


def _near_border(units: _Units, idx: np.ndarray, neighbours: list, rng) -> tuple:
    """Points in border communes pulled towards their neighbour's line; also returns Q, T."""
    qx, qy = _scatter(units, idx, units.x[idx], units.y[idx], units.size_km()[idx] * 0.3, rng)
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


def _round(values) -> list[float]:
    return [round(float(v), 6) for v in values]


def _pick(rng, mix: tuple, size: int) -> list[str]:
    choices, weights = mix
    return [choices[k] for k in rng.choice(len(choices), size=size, p=weights).tolist()]


def _day(year: int, offset: int) -> date:
    return date(year, 1, 1) + timedelta(days=int(offset))


def _days_in_year(year: int) -> int:
    return (date(year + 1, 1, 1) - date(year, 1, 1)).days


# --- models -------------------------------------------------------------------------------

def _models(units: _Units, provinces: _Provinces, counts: _Counts, years: list[int],
            seed: int) -> list[RecordWrite]:
    rng = _rng(seed, 4)
    n = units.n
    hosts = {"residential": counts.residential, "school": counts.schools,
             "enterprise": counts.enterprises}
    commune_factor = rng.gamma(2.0, 0.5, n)
    per_type = []
    for t, model_type in enumerate(MODEL_TYPES):
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
    order = np.lexsort((numbers, np.array([list(MODEL_TYPES).index(t) for t in types]), idx))
    idx, numbers, types = idx[order], numbers[order], [types[k] for k in order.tolist()]
    first = date(2015, 1, 1)
    starts = rng.integers(0, (date(max(years), 12, 31) - first).days + 1, len(idx))
    status = _pick(rng, (("active", "suspended", "ended"), (0.86, 0.08, 0.06)), len(idx))
    x, y = _scatter(units, idx, units.x[idx], units.y[idx], units.size_km()[idx] * 0.3, rng)
    records = []
    for i, model_type, number, offset, state, lon, lat in zip(
            idx.tolist(), types, numbers.tolist(), starts.tolist(), status, _round(x),
            _round(y)):
        name, host_unit = _model_names(units, i, model_type, number)
        when = first + timedelta(days=offset)
        records.append(_record(
            "models", units, i,
            {"model_type": model_type, "name": name, "host_unit": host_unit, "lon": lon,
             "lat": lat, "start_date": when, "status": state},
            geometry=shapely.Point(lon, lat), when=when, category=model_type))
    return records


def _model_names(units: _Units, i: int, model_type: str, number: int) -> tuple[str, str]:
    commune = units.full_name[i]
    where = commune[:1].lower() + commune[1:]
    host_type = MODEL_HOST.get(model_type, "residential")
    if host_type == "school":
        level = SCHOOL_LEVELS[(number - 1) % len(SCHOOL_LEVELS)]
        suffix = f" số {(number - 1) // len(SCHOOL_LEVELS) + 1}" if number > 4 else ""
        host = f"Trường {level} {units.name[i]}{suffix}"
        return _nfc(MODEL_NAMES[model_type].format(host=host)), _nfc(f"{host}, {where}")
    if host_type == "enterprise":
        host = f"doanh nghiệp số {number}"
        return (_nfc(MODEL_NAMES[model_type].format(host=host)),
                _nfc(f"Doanh nghiệp số {number} trên địa bàn {where}"))
    term = _area_term(units, i)
    host = f"{term} {number}"
    return (_nfc(MODEL_NAMES[model_type].format(host=host)),
            _nfc(f"{host[:1].upper()}{host[1:]}, {where}"))


def _area_term(units: _Units, i: int) -> str:
    if units.ward[i]:
        return "tổ dân phố"
    if units.province[i] in SOUTHERN_PROVINCES:
        return "ấp"
    return "bản" if units.province[i] in BAN_PROVINCES else "thôn"


# --- incidents ----------------------------------------------------------------------------

def _incidents(units: _Units, provinces: _Provinces, years: list[int],
               seed: int) -> list[RecordWrite]:
    rng = _rng(seed, 5)
    border = np.array([bool(nb) for nb in units.neighbors], dtype=bool)
    cls = np.where(border, "border", np.where(units.ward, "ward", "rural"))
    rate = np.where(border, np.where(units.ward, 10.0, 6.0), np.where(units.ward, 8.0, 0.8))
    records = []
    for year in years:
        counts = rng.poisson(rate * provinces.incidents * (1 + 0.05 * (year - CALIBRATION_YEAR)))
        idx = np.repeat(np.arange(units.n), counts)
        within = np.arange(len(idx)) - np.repeat(np.cumsum(counts) - counts, counts)
        x, y = _scatter(units, idx, units.x[idx], units.y[idx],
                        units.size_km()[idx] * np.where(units.ward[idx], 0.25, 0.35), rng)
        on_border = np.flatnonzero(border[idx])
        picks = [units.neighbors[i][rng.integers(len(units.neighbors[i]))]
                 for i in idx[on_border].tolist()]
        bx, by, _ = _near_border(units, idx[on_border], picks, rng)
        x[on_border], y[on_border] = bx, by
        category = np.empty(len(idx), dtype=object)
        for name, mix in CATEGORY_MIX.items():
            rows = np.flatnonzero(cls[idx] == name)
            category[rows] = _pick(rng, mix, len(rows))
        refs = [f"DEMO-{year}-{units.code[i]}-{k + 1:03d}"
                for i, k in zip(idx.tolist(), within.tolist())]
        records += _incident_records(units, year, idx, refs, category.tolist(), x, y, rng)
        records += _planted_incidents(units, year, rng)
    return records


def _incident_records(units: _Units, year: int, idx: np.ndarray, refs: list, categories: list,
                      x, y, rng) -> list[RecordWrite]:
    days = rng.integers(0, _days_in_year(year), len(idx))
    severity = _pick(rng, SEVERITY_MIX, len(idx))
    records = []
    for i, ref, category, lon, lat, offset, level in zip(
            idx.tolist(), refs, categories, _round(x), _round(y), days.tolist(), severity):
        when = _day(year, offset)
        records.append(_record(
            "incidents", units, i,
            {"ref": ref, "date": when, "category": category, "lon": lon, "lat": lat,
             "severity": level,
             "description": _nfc(f"Vụ việc về {CATEGORY_LABEL[category]} (dữ liệu minh họa)")},
            geometry=shapely.Point(lon, lat), when=when, category=category))
    return records


def _planted_incidents(units: _Units, year: int, rng) -> list[RecordWrite]:
    records = []
    for area in PLANTED_AREAS:
        if area.commune_code not in units.code:
            continue
        i = units.code.index(area.commune_code)
        idx = np.full(area.per_year, i)
        x, y = _scatter(units, idx, area.lon, area.lat, area.radius_km / 2, rng)
        refs = [f"DEMO-{year}-{area.key}-{k + 1:03d}" for k in range(area.per_year)]
        records += _incident_records(units, year, idx, refs, [area.category] * area.per_year,
                                     x, y, rng)
    return records


# --- designated hot spots -----------------------------------------------------------------

def _hot_spots(units: _Units, years: list[int], seed: int) -> list[RecordWrite]:
    rng = _rng(seed, 6)
    chosen = []
    for province in sorted(set(units.province)):
        members = np.array([i for i in range(units.n) if units.province[i] == province])
        on_border = np.array([bool(units.neighbors[i]) for i in members], dtype=bool)
        weight = np.where(on_border, 4.0, np.where(units.ward[members], 2.0, 0.5))
        size = min(len(members), 5 if on_border.any() else 2)
        chosen += sorted(rng.choice(members, size=size, replace=False,
                                    p=weight / weight.sum()).tolist())
    idx = np.array(chosen, dtype=int)
    border = np.array([bool(units.neighbors[i]) for i in chosen], dtype=bool)
    x, y = _scatter(units, idx, units.x[idx], units.y[idx], units.size_km()[idx] * 0.25, rng)
    rows = np.flatnonzero(border)
    picks = [units.neighbors[i][0] for i in idx[rows].tolist()]
    x[rows], y[rows], _ = _near_border(units, idx[rows], picks, rng)
    first, last = date(2019, 1, 1), date(max(years), 6, 30)
    records = []
    for i, lon, lat, on_line in zip(idx.tolist(), _round(x), _round(y), border.tolist()):
        mix = CATEGORY_MIX["border" if on_line else "ward" if units.ward[i] else "rural"]
        category = _pick(rng, mix, 1)[0]
        designated = first + timedelta(days=int(rng.integers(0, (last - first).days)))
        status = _pick(rng, (("active", "monitoring", "resolved"), (0.55, 0.3, 0.15)), 1)[0]
        radius = float(rng.uniform(0.4, 1.5)) if rng.random() < 0.45 else None
        resolved = None
        if status == "resolved":
            resolved = min(designated + timedelta(days=int(rng.integers(180, 720))),
                           date(max(years), 12, 31))
        name = _nfc(f"Điểm nóng về {CATEGORY_LABEL[category]} – {units.full_name[i]}")
        records.append(_hot_spot(units, i, name, category, lon, lat, radius, status,
                                 designated, resolved))
    for area in PLANTED_AREAS:
        if area.commune_code in units.code:
            records.append(_hot_spot(
                units, units.code.index(area.commune_code), _nfc(area.name), area.category,
                area.lon, area.lat, area.radius_km, "active", date(min(years) - 1, 3, 1), None))
    return records


def _hot_spot(units: _Units, i: int, name: str, category: str, lon: float, lat: float,
              radius_km: float | None, status: str, designated: date,
              resolved: date | None) -> RecordWrite:
    properties = {"name": name, "category": category, "lon": lon, "lat": lat,
                  "status": status, "designated_on": designated}
    geometry = shapely.Point(lon, lat)
    if radius_km is not None:
        angles = np.linspace(0, 2 * np.pi, 17)[:-1]
        ring_x, ring_y = _shift(np.full(16, lon), np.full(16, lat), radius_km * np.cos(angles),
                                radius_km * np.sin(angles))
        ring = list(zip(_round(ring_x), _round(ring_y)))
        properties["area_wkt"] = shapely.to_wkt(shapely.Polygon(ring), rounding_precision=6)
        geometry = shapely.from_wkt(properties["area_wkt"])
    if resolved is not None:
        properties["resolved_on"] = resolved
    return _record("hot-spots", units, i, properties, geometry=geometry, when=designated,
                   category=category)


# --- cross-border cooperation -------------------------------------------------------------

def _partner_locality(neighbour: str, lon: float, lat: float) -> str:
    if neighbour == "CN":
        return "Yunnan" if lon < YUNNAN_GUANGXI_LON else "Guangxi"
    scale = math.cos(math.radians(lat))
    return min(PARTNER_LOCALITIES[neighbour],
               key=lambda p: ((p[1] - lon) * scale) ** 2 + (p[2] - lat) ** 2)[0]


def _cooperation(units: _Units, provinces: _Provinces, years: list[int],
                 seed: int) -> list[RecordWrite]:
    rng = _rng(seed, 7)
    on_border = np.array([i for i in range(units.n) if units.neighbors[i]], dtype=int)
    records = []
    for year in years:
        counts = rng.poisson(4.0 * provinces.cooperation[on_border]
                             * (1 + 0.08 * (year - CALIBRATION_YEAR)))
        idx = np.repeat(on_border, counts)
        days = np.concatenate([np.sort(rng.choice(_days_in_year(year), size=k, replace=False))
                               for k in counts.tolist()] + [np.zeros(0, dtype=int)])
        picks = [units.neighbors[i][rng.integers(len(units.neighbors[i]))]
                 for i in idx.tolist()]
        x, y, (qx, qy, tx, ty) = _near_border(units, idx, picks, rng)
        px, py = _partner_points(units, qx, qy, tx, ty, picks, rng.uniform(2, 8, len(idx)))
        types = _pick(rng, ACTIVITY_MIX, len(idx))
        participants = rng.integers(6, 60, len(idx))
        for i, offset, neighbour, activity, people, plon, plat, lon, lat in zip(
                idx.tolist(), days.tolist(), picks, types, participants.tolist(),
                _round(px), _round(py), x.tolist(), y.tolist()):
            records.append(_record(
                "cooperation", units, i,
                {"date": _day(year, offset), "activity_type": activity,
                 "border_station": _nfc(f"Đồn Biên phòng {units.name[i]}"),
                 "partner_country": neighbour,
                 "partner_locality": _partner_locality(neighbour, lon, lat),
                 "partner_lon": plon, "partner_lat": plat, "participants": people,
                 "outcome": ACTIVITY_OUTCOME[activity]},
                geometry=shapely.Point(plon, plat), when=_day(year, offset),
                category=activity))
    return records


def _partner_points(units: _Units, qx, qy, tx, ty, neighbours: list, distance_km) -> tuple:
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
            cx, cy = _shift(tx[inland], ty[inland], reach * np.cos(angle), reach * np.sin(angle))
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
    return _shift(tx, ty, ux * distance_km, uy * distance_km)
