"""Synthetic certification records: one per commune, year and group.

Registered ≥ reviewed ≥ certified. Rates follow a logistic model: group base + province
effect + commune effect + a province trend per year, so they vary by province and improve
over the years. Registered residential areas, agencies, enterprises and schools are drawn
once per commune (`common.base_counts`). An Giang (province ``91``) in 2024 is calibrated
to the public figures (DOMAIN.md): the province roll-up (sums of counts) of residential
areas and commune-level units is just over 74 % and that of agencies, enterprises and
schools (each) just over 94 %, i.e. the smallest certified count whose rate exceeds the
figure. In that province-year every registered unit is reviewed, so certified ÷ reviewed
and certified ÷ registered agree. The records have no geometry (as imported ones).
"""

from __future__ import annotations

import numpy as np

from geoservice.demo.common import (
    AN_GIANG_2024_PERCENT,
    CALIBRATION_YEAR,
    GROUP_BASE_RATE,
    GROUP_ORDER,
    Counts,
    Provinces,
    demo_record,
    log_odds,
    random_stream,
)
from geoservice.demo.places import Units
from geoservice.store.records import RecordWrite


def generate_certification(units: Units, provinces: Provinces, counts: Counts, years: list[int],
                           seed: int) -> list[RecordWrite]:
    """Return the certification records of every commune, year and group (stream 2)."""
    rng = random_stream(seed, 2)
    n = units.n
    base = np.array([log_odds(GROUP_BASE_RATE[g]) for g in GROUP_ORDER])
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
                records.append(demo_record(
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
