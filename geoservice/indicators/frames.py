"""The rules every indicator frame follows: counts summed, rates derived, missing as None.

Shared by the indicator functions of `geoservice.indicators.compute`: a roll-up sums the
additive counts (`sum_counts`) and then recomputes every rate from the sums (`derive`),
so rates are never averaged; `finish` turns counts into integers and missing values into
``None``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

LEVELS = {"commune": "commune_code", "province": "province_code"}
# Columns that add up across units (summed by roll-ups and by `by_border_neighbor`).
ADDITIVE = ("registered", "reviewed", "certified", "previous_registered", "previous_reviewed",
            "previous_certified", "communes", "covered_communes", "models",
            "residential_areas", "covered_residential_areas", "incidents", "activities",
            "participants", "sessions", "commended_collectives", "commended_individuals")
ADDITIVE_PREFIXES = ("incidents_", "activities_")
# Columns that identify a row besides its unit.
KEYS = ("year", "group", "model_type", "partner_country", "target")
# Sums that are None as soon as one part is None (registration not tracked somewhere).
STRICT = ("registered", "previous_registered")
NULLABLE = ("registered", "rate_reviewed", "rate_registered", "previous_registered",
            "previous_reviewed", "previous_certified", "previous_rate_reviewed",
            "change_vs_previous_year", "gap_to_target", "units_short", "gap_basis",
            "residential_areas", "covered_residential_areas", "residential_coverage",
            "coverage")


def unit_column(level: str) -> str:
    """Return the record property holding the unit of `level` (ValueError if unknown)."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r} (levels: {', '.join(LEVELS)})")
    return LEVELS[level]


def additive(column: str) -> bool:
    """Whether a column adds up across units."""
    return column in ADDITIVE or column.startswith(ADDITIVE_PREFIXES)


def numeric(frame: pd.DataFrame, columns, fill=None) -> pd.DataFrame:
    """Make `columns` numbers in place (missing columns are added); `fill` the missing."""
    for column in columns:
        values = (pd.to_numeric(frame[column], errors="coerce") if column in frame
                  else pd.Series(np.nan, index=frame.index))
        frame[column] = values.fillna(fill) if fill is not None else values.astype(float)
    return frame


def sum_counts(frame: pd.DataFrame, keys: list, strict=STRICT) -> pd.DataFrame:
    """Sum the additive columns per key; a strict column's sum is NaN if any part is."""
    columns = [c for c in frame.columns if additive(c)]
    numbers = frame[columns].apply(pd.to_numeric, errors="coerce").astype(float)
    grouped = pd.concat([frame[keys], numbers], axis=1).groupby(keys, dropna=False)
    sums = grouped[columns].sum(min_count=1)
    for column in [c for c in columns if c in strict]:
        missing = numbers[column].isna().groupby([frame[k] for k in keys], dropna=False).any()
        sums.loc[missing[missing].index, column] = np.nan
    return sums.reset_index()


def derive(frame: pd.DataFrame) -> pd.DataFrame:
    """(Re)compute rates, changes, gaps and coverage from the summed counts."""
    out = frame.copy()
    if "certified" in out:
        out = numeric(out, ["registered", "reviewed", "certified"])
        out["rate_reviewed"] = _ratio(out["certified"], out["reviewed"])
        out["rate_registered"] = _ratio(out["certified"], out["registered"])
    if "previous_certified" in out:
        out = numeric(out, ["previous_reviewed", "previous_certified"])
        out["previous_rate_reviewed"] = _ratio(out["previous_certified"],
                                               out["previous_reviewed"])
        out["change_vs_previous_year"] = 100 * (out["rate_reviewed"]
                                                - out["previous_rate_reviewed"])
    if "target" in out and "certified" in out:
        out = _gap(out)
    if "covered_communes" in out:
        out["coverage"] = _ratio(out["covered_communes"], out["communes"])
        out["residential_coverage"] = _ratio(
            pd.to_numeric(out["covered_residential_areas"], errors="coerce"),
            pd.to_numeric(out["residential_areas"], errors="coerce"))
    return out


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    numerator, denominator = numerator.astype(float), denominator.astype(float)
    return (numerator / denominator.where(denominator > 0)).astype(float)


def _gap(out: pd.DataFrame) -> pd.DataFrame:
    tracked = out["registered"].notna()
    basis = out["registered"].where(tracked, out["reviewed"])
    rate = _ratio(out["certified"], basis)
    target = out["target"].astype(float)
    out["gap_basis"] = np.where(tracked, "registered", "reviewed")
    out["gap_to_target"] = target - rate
    needed = np.ceil(target * basis - 1e-9)
    out["units_short"] = (needed - out["certified"]).clip(lower=0).where(basis.notna())
    return out


def plain(value, ndigits: int | None = None):
    """Return a frame value as a plain Python value (NaN as None; `ndigits` rounds floats)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value.is_integer() and ndigits is None:
        return int(value)
    return round(value, ndigits) if ndigits is not None and isinstance(value, float) else value


def finish(frame: pd.DataFrame, level: str | None) -> pd.DataFrame:
    """Counts as integers, missing values as None, a fresh index; remember the level."""
    out = frame.reset_index(drop=True)
    for column in out.columns:
        if additive(column) and column not in NULLABLE and len(out):
            out[column] = pd.to_numeric(out[column], errors="coerce").fillna(0).astype(int)
    for column in [c for c in NULLABLE if c in out.columns]:
        convert = _plain_count(column)
        out[column] = pd.Series([None if pd.isna(v) else convert(v) for v in out[column]],
                                index=out.index, dtype=object)
    out.attrs["level"] = level
    return out


def _plain_count(column: str):
    integral = additive(column) or column == "units_short"
    if not integral:
        return lambda v: v if isinstance(v, str) else float(v)
    return int
