"""Synthetic awareness records: sessions, participants and commendations per commune and year.

An Giang (province ``91``) in 2024 sums to the public figures (DOMAIN.md): 2,228 sessions,
120,200 participants (the public "more than 120,181"), 15 collectives and 12 individuals
commended. The records have no geometry (as imported ones).
"""

from __future__ import annotations

import numpy as np

from geoservice.demo.common import CALIBRATION_YEAR, Provinces, demo_record, random_stream
from geoservice.demo.places import Units
from geoservice.store.records import RecordWrite

AN_GIANG_2024_AWARENESS = {"sessions": 2228, "participants": 120_200,
                           "commended_collectives": 15, "commended_individuals": 12}


def generate_awareness(units: Units, provinces: Provinces, years: list[int],
                       seed: int) -> list[RecordWrite]:
    """Return the awareness records of every commune and year (stream 3)."""
    rng = random_stream(seed, 3)
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
            records.append(demo_record(
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
