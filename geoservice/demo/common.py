"""What the per-kind generators share: random streams, province effects, host counts, records.

Each kind draws from its own random stream (`random_stream`), so changing one generator
leaves the others' records as they are. Province effects (`province_arrays`) make rates
and activity vary by province; An Giang's (province ``91``) are centred on the public
2024 figures (DOMAIN.md) so that the calibration in `certification` only has to nudge.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from geoservice.demo.places import Units
from geoservice.records.kinds import GROUPS, natural_key
from geoservice.store.records import RecordWrite

AN_GIANG = "91"
CALIBRATION_YEAR = 2024
# Public figures (DOMAIN.md): certified share just over these percentages in 2024.
AN_GIANG_2024_PERCENT = {"residential": 74, "commune": 74, "agencies": 94, "enterprises": 94,
                         "schools": 94}

GROUP_ORDER = tuple(GROUPS)
# The model types the demo draws, in the order of its random draws (a deployment's own
# types in the catalogue change nothing here; tests check each is in the catalogue).
DEMO_MODEL_TYPES = ("self_management", "self_prevention", "self_protection",
                    "self_reconciliation", "security_cameras", "school_gate_traffic",
                    "school_drug_prevention", "enterprise_security_team")
GROUP_BASE_RATE = {"residential": 0.80, "commune": 0.80, "agencies": 0.93,
                   "enterprises": 0.90, "schools": 0.95}  # in the reference year 2024


def random_stream(seed: int, *stream: int) -> np.random.Generator:
    """Return the random generator of one stream of `seed` (a kind, a province, ...)."""
    return np.random.default_rng([int(seed), *stream])


def log_odds(p: float) -> float:
    """Return the log-odds of the probability `p`."""
    return math.log(p / (1 - p))


@dataclass
class Provinces:
    """Per commune: the random effects of its province (see `province_arrays`)."""

    effect: np.ndarray  # per commune: the province's logit effect
    groups: np.ndarray  # (n, groups): per-group province effect
    trend: np.ndarray  # logit change per year
    activity: np.ndarray  # awareness multiplier
    models: np.ndarray  # (n, model types) multiplier
    incidents: np.ndarray
    cooperation: np.ndarray
    an_giang: np.ndarray  # bool per commune


def province_arrays(units: Units, seed: int) -> Provinces:
    """Draw each province's effects once (its own stream) and spread them over its communes."""
    codes = sorted(set(units.province))
    table = {}
    for code in codes:
        rng = random_stream(seed, 100, zlib.crc32(code.encode()))
        effect = rng.normal(0, 0.35)
        groups = rng.normal(0, 0.15, len(GROUP_ORDER))
        if code == AN_GIANG:  # centre the 2024 rates on the public figures
            effect = 0.0
            groups = np.array([log_odds(AN_GIANG_2024_PERCENT[g] / 100 + 0.006)
                               - log_odds(GROUP_BASE_RATE[g]) for g in GROUP_ORDER])
        table[code] = (effect, groups, rng.uniform(0.2, 0.45), math.exp(rng.normal(0, 0.25)),
                       np.exp(rng.normal(0, 0.4, len(DEMO_MODEL_TYPES))),
                       math.exp(rng.normal(0, 0.3)), math.exp(rng.normal(0, 0.3)))
    rows = [table[p] for p in units.province]
    return Provinces(
        effect=np.array([r[0] for r in rows]), groups=np.array([r[1] for r in rows]),
        trend=np.array([r[2] for r in rows]), activity=np.array([r[3] for r in rows]),
        models=np.array([r[4] for r in rows]), incidents=np.array([r[5] for r in rows]),
        cooperation=np.array([r[6] for r in rows]),
        an_giang=np.array([p == AN_GIANG for p in units.province], dtype=bool))


@dataclass
class Counts:
    """Per commune: the registered residential areas, agencies, enterprises, schools."""

    residential: np.ndarray
    agencies: np.ndarray
    enterprises: np.ndarray
    schools: np.ndarray


def base_counts(units: Units, seed: int) -> Counts:
    """Draw the commune's hosts once: more in wards and in large communes."""
    rng = random_stream(seed, 1)
    area, ward = units.area, units.ward
    residential = rng.poisson(np.where(ward, 12 + 5 * np.log1p(area / 5),
                                       8 + 6 * np.log1p(area / 15)))
    return Counts(
        residential=np.maximum(3, residential),
        agencies=np.maximum(1, rng.poisson(np.where(ward, 12, 6))),
        enterprises=np.maximum(1, rng.poisson(np.where(ward, 35, 6))),
        schools=np.maximum(1, rng.poisson(np.where(ward, 8, 4) + np.log1p(area / 50))),
    )


def demo_record(kind: str, units: Units, i: int, properties: dict, geometry=None,
                when: date | None = None, year: int | None = None,
                category: str | None = None) -> RecordWrite:
    """Return the `RecordWrite` of one generated record of commune `i`, marked synthetic."""
    properties["synthetic"] = True
    return RecordWrite(
        kind=kind, natural_key=natural_key(kind, {**properties, "commune_code": units.code[i]}),
        commune_code=units.code[i], province_code=units.province[i], properties=properties,
        geometry=geometry, neighbors=units.neighbors[i],
        year=year if year is not None else (when.year if when else None), date=when,
        category=category, synthetic=True,
    )


def rounded(values) -> list[float]:
    """Round coordinates to 6 decimals (about 0.1 m)."""
    return [round(float(v), 6) for v in values]


def pick(rng, mix: tuple, size: int) -> list[str]:
    """Draw `size` choices from ``mix = (choices, probabilities)``."""
    choices, weights = mix
    return [choices[k] for k in rng.choice(len(choices), size=size, p=weights).tolist()]


def nth_day(year: int, offset: int) -> date:
    """Return the date `offset` days after 1 January of `year`."""
    return date(year, 1, 1) + timedelta(days=int(offset))


def days_in_year(year: int) -> int:
    """Return 365 or 366."""
    return (date(year + 1, 1, 1) - date(year, 1, 1)).days
