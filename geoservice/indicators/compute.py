"""Indicators computed from the stored records, per commune or province (and per neighbour).

Plain functions over a `Store` (no Flask); each returns a pandas DataFrame with a ``code``
column (the commune or province code) or, for `unit_indicators`, a plain dict.

Rules shared by every indicator:

* Roll-ups SUM counts and then divide; rates are never averaged. A province's
  certification rate is Σ certified ÷ Σ reviewed over its communes.
* Rates are fractions (0–1); year-over-year changes are in percentage points.
* Missing is ``None``: a rate with a zero denominator, ``registered`` where it is not
  tracked, a change with no previous year. A count of events (incidents, cooperation
  activities) with no record is 0 in `unit_indicators`; a reported figure (certification,
  awareness) with no report is ``None``. Columns that may be missing (`NULLABLE`) are
  object columns of Python numbers and ``None``; the other counts are integers
  (`geoservice.indicators.frames`).
* Incidents and cooperation come from restricted kinds: callers that decorate public
  features must apply the same access rule as the records API (`restricted=False` in
  `unit_indicators` leaves them out).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from geoservice.indicators.frames import (
    KEYS,
    additive,
    derive,
    finish,
    numeric,
    plain,
    sum_counts,
    unit_column,
)
from geoservice.indicators.names import (
    ANY_MODEL,
    COMBINED_GROUP,
    COMBINED_MEMBERS,
    INDICATOR_NAMES,
    RESTRICTED_INDICATORS,
)
from geoservice.records.kinds import ACTIVITY_TYPES, INCIDENT_CATEGORIES, MODEL_TYPES
from geoservice.store import FeatureQuery
from geoservice.store.records import RecordQuery

PAGE = 10**6


def records_frame(store, kind: str, **filters) -> pd.DataFrame:
    """Return every record of `kind` matching the RecordQuery `filters` as a DataFrame.

    Columns are the record properties as served (fields, commune_code, province_code,
    synthetic, provenance). Pages through the store, so no record is left out.
    """
    rows, offset = [], 0
    while True:
        page = store.query_records(kind, RecordQuery(limit=PAGE, offset=offset, **filters))
        rows += [props for _id, props, _geometry in page.features]
        offset += PAGE
        if offset >= page.number_matched or not page.features:
            break
    return pd.DataFrame(rows)


def unit_codes(store, level: str, province_code: str | None = None) -> pd.DataFrame:
    """Return the units of a level from the boundaries: ``code`` and ``province_code``."""
    collection = "communes" if unit_column(level) == "commune_code" else "provinces"
    page = store.query(collection, FeatureQuery(limit=PAGE, province_code=province_code,
                                                geometry=False))
    rows = [{"code": fid, "province_code": props.get("province_code") or props.get("code")}
            for fid, props, _geometry in page.features]
    frame = pd.DataFrame(rows, columns=["code", "province_code"])
    if level == "province" and province_code:
        frame = frame[frame["code"] == province_code]
    return frame.reset_index(drop=True)


# --- certification -----------------------------------------------------------------------

def certification_rates(store, year: int, level: str = "commune", group: str | None = None,
                        province_code: str | None = None, target: float = 1.0) -> pd.DataFrame:
    """Certification counts and rates per unit and group for one year.

    Columns: ``code``, ``province_code``, ``year``, ``group``, ``registered``,
    ``reviewed``, ``certified``, ``rate_reviewed`` (certified ÷ reviewed),
    ``rate_registered`` (certified ÷ registered; None where registration is not tracked
    by every record summed), ``previous_*`` (the same unit and group a year earlier),
    ``change_vs_previous_year`` (percentage points of ``rate_reviewed``; None without a
    previous year) and the `gap_to_target` columns. Groups are the kind's groups plus
    ``agencies_enterprises_schools`` (the three summed). The province level sums its
    communes' counts. `group` keeps one group.
    """
    current = _certification_sums(store, year, level, province_code)
    previous = _certification_sums(store, year - 1, level, province_code)
    previous = previous[["code", "group", "registered", "reviewed", "certified"]].rename(
        columns={c: f"previous_{c}" for c in ("registered", "reviewed", "certified")})
    frame = current.merge(previous, on=["code", "group"], how="left")
    frame["target"] = float(target)
    frame = derive(frame)
    if group is not None:
        frame = frame[frame["group"] == group]
    return finish(frame.sort_values(["code", "group"]), level)


def gap_to_target(frame: pd.DataFrame, target: float = 1.0) -> pd.DataFrame:
    """Add the distance to a target share of certified units (e.g. 1.0 = all of them).

    ``gap_basis`` is ``registered`` where registration is tracked, else ``reviewed``;
    ``gap_to_target`` = target − certified ÷ basis (negative when the target is exceeded);
    ``units_short`` = how many more units must be certified to reach it (0 when reached).
    """
    out = frame.copy()
    out["target"] = float(target)
    return finish(derive(out), out.attrs.get("level"))


def _certification_sums(store, year: int, level: str, province_code: str | None):
    unit = unit_column(level)
    raw = records_frame(store, "certification", year=year, province_code=province_code)
    columns = ["code", "province_code", "year", "group", "registered", "reviewed",
               "certified"]
    if raw.empty:
        return pd.DataFrame(columns=columns)
    raw = numeric(raw, ("registered", "reviewed", "certified"))
    raw["code"] = raw[unit]
    combined = raw[raw["group"].isin(COMBINED_MEMBERS)].assign(group=COMBINED_GROUP)
    raw = pd.concat([raw, combined], ignore_index=True)
    raw["year"] = int(year)
    return sum_counts(raw[columns], ["code", "province_code", "year", "group"])


# --- models ------------------------------------------------------------------------------

def model_coverage(store, year: int, model_type: str | None = None, level: str = "commune",
                   province_code: str | None = None) -> pd.DataFrame:
    """Share of communes (and of residential areas) with an active model of a type.

    A model counts for `year` when its status is ``active`` and its ``start_date`` is on
    or before 31 December of the year (a model without a start date counts; one without
    a status does not). The status is the current one: a model that has since ended is
    not counted in earlier years either (the records keep no dated status history).

    Columns: ``code``, ``province_code``, ``model_type`` (each type, plus ``any``),
    ``models`` (active models), ``communes``, ``covered_communes``, ``coverage``
    (covered ÷ communes), ``residential_areas``, ``covered_residential_areas``,
    ``residential_coverage``. Communes come from the boundaries (all communes of the
    province, covered or not).

    Residential share, an approximation: the records name no residential area, so a
    commune's covered areas are estimated as min(active models of the type in the commune,
    residential areas registered for certification that year — reviewed where
    registration is not tracked), i.e. as if each model served a different area. Communes
    without a certification row for the year are left out of the residential share. The
    share is meant for the residential-area models (self_*, security_cameras); for school
    and enterprise models and ``any`` it is computed the same way but says little.
    """
    communes = unit_codes(store, "commune", province_code)
    models = records_frame(store, "models", province_code=province_code)
    types = [model_type] if model_type else [*MODEL_TYPES, ANY_MODEL]
    active = _active_models(models, year)
    grid = pd.MultiIndex.from_product([communes["code"], types], names=["code", "model_type"])
    frame = pd.DataFrame(index=grid).reset_index()
    frame = frame.merge(communes, on="code", how="left")
    frame = frame.merge(active, on=["code", "model_type"], how="left")
    frame["models"] = frame["models"].fillna(0).astype(int)
    frame["communes"] = 1
    frame["covered_communes"] = (frame["models"] > 0).astype(int)
    areas = _residential_areas(store, year, province_code)
    frame = frame.merge(areas, on="code", how="left")
    frame["covered_residential_areas"] = np.minimum(frame["models"], frame["residential_areas"])
    if level == "province":
        frame = sum_counts(frame.assign(code=frame["province_code"]),
                     ["code", "province_code", "model_type"], strict=())
    return finish(derive(frame).sort_values(["code", "model_type"]), level)


def _active_models(models: pd.DataFrame, year: int) -> pd.DataFrame:
    columns = ["code", "model_type", "models"]
    if models.empty:
        return pd.DataFrame(columns=columns)
    status = models["status"] if "status" in models else pd.Series(None, index=models.index)
    start = (models["start_date"] if "start_date" in models
             else pd.Series(None, index=models.index))
    started = start.isna() | (start.astype(str) <= f"{int(year)}-12-31")
    active = models[(status == "active") & started]
    counts = active.groupby(["commune_code", "model_type"]).size().rename("models")
    every = active.groupby("commune_code").size().rename("models")
    frame = pd.concat([
        counts.reset_index(),
        every.reset_index().assign(model_type=ANY_MODEL),
    ], ignore_index=True).rename(columns={"commune_code": "code"})
    return frame[columns]


def _residential_areas(store, year: int, province_code: str | None) -> pd.DataFrame:
    raw = records_frame(store, "certification", year=year, category="residential",
                        province_code=province_code)
    if raw.empty:
        return pd.DataFrame({"code": pd.Series(dtype=str),
                             "residential_areas": pd.Series(dtype=float)})
    raw = numeric(raw, ("registered", "reviewed"))
    areas = raw["registered"].where(raw["registered"].notna(), raw["reviewed"])
    return pd.DataFrame({"code": raw["commune_code"], "residential_areas": areas})


# --- incidents, cooperation, awareness ---------------------------------------------------

def incident_counts(store, period_from: date | None, period_to: date | None,
                    level: str = "commune", category: str | None = None,
                    province_code: str | None = None) -> pd.DataFrame:
    """Incidents per unit dated within [period_from, period_to] (inclusive).

    Columns: ``code``, ``province_code``, ``incidents`` and ``incidents_<category>`` for
    every category. Only units with at least one incident are listed.
    """
    raw = records_frame(store, "incidents", date_from=period_from, date_to=period_to,
                        category=category, province_code=province_code)
    return _event_counts(raw, level, "incidents", "category", INCIDENT_CATEGORIES, ())


def activity_counts(store, period_from: date | None, period_to: date | None,
                    level: str = "commune", activity_type: str | None = None,
                    partner_country: str | None = None,
                    province_code: str | None = None) -> pd.DataFrame:
    """Cross-border cooperation activities per unit and partner country in a period.

    Columns: ``code``, ``province_code``, ``partner_country``, ``activities``,
    ``participants`` (sum; missing counts as 0) and ``activities_<type>`` for every
    activity type. Only units with at least one activity are listed.
    """
    raw = records_frame(store, "cooperation", date_from=period_from, date_to=period_to,
                        category=activity_type, province_code=province_code)
    if partner_country and not raw.empty:
        raw = raw[raw["partner_country"] == partner_country]
    return _event_counts(raw, level, "activities", "activity_type", ACTIVITY_TYPES,
                         ("partner_country",))


def awareness_totals(store, year: int | None = None, level: str = "commune",
                     province_code: str | None = None) -> pd.DataFrame:
    """Awareness sessions, participants and commendations per unit and year (sums).

    Columns: ``code``, ``province_code``, ``year``, ``sessions``, ``participants``,
    ``commended_collectives``, ``commended_individuals`` (missing commendations count 0).
    """
    unit = unit_column(level)
    columns = ["code", "province_code", "year", "sessions", "participants",
               "commended_collectives", "commended_individuals"]
    raw = records_frame(store, "awareness", year=year, province_code=province_code)
    if raw.empty:
        return finish(pd.DataFrame(columns=columns), level)
    raw = numeric(raw, columns[3:], fill=0)
    raw["code"] = raw[unit]
    raw["year"] = raw["year"].astype(int)
    return finish(sum_counts(raw[columns], ["code", "province_code", "year"], strict=()), level)


def _event_counts(raw: pd.DataFrame, level: str, name: str, category: str, choices: dict,
                  keys: tuple) -> pd.DataFrame:
    unit = unit_column(level)
    per_type = [f"{name}_{c}" for c in choices]
    extra = ["participants"] if name == "activities" else []
    columns = ["code", "province_code", *keys, name, *extra, *per_type]
    if raw.empty:
        return finish(pd.DataFrame(columns=columns), level)
    raw = raw.copy()
    raw["code"] = raw[unit]
    raw[name] = 1
    for choice, column in zip(choices, per_type):
        raw[column] = (raw[category] == choice).astype(int)
    if extra:
        raw = numeric(raw, extra, fill=0)
    grouped = raw.groupby(["code", "province_code", *keys], as_index=False)[
        [name, *extra, *per_type]].sum()
    return finish(grouped[columns].sort_values(["code", *keys]), level)


# --- per border neighbour ----------------------------------------------------------------

def by_border_neighbor(frame: pd.DataFrame, store) -> pd.DataFrame:
    """Roll a commune-level frame up per land-border neighbour (CN, LA, KH).

    Each border commune counts under every neighbour it faces (a commune at a tripoint
    under both). Counts are summed and rates recomputed from the sums; the result has
    ``neighbor``, the frame's keys (group, year, model_type …), ``commune_count`` (border
    communes with rows) and the summed and derived columns. Communes facing no neighbour
    are left out.
    """
    if frame.attrs.get("level") == "province":
        raise ValueError("by_border_neighbor needs a commune-level frame")
    page = store.query("communes", FeatureQuery(limit=PAGE, geometry=False))
    neighbours = {fid: list(props.get("border_neighbors") or ())
                  for fid, props, _geometry in page.features}
    data = numeric(frame.copy(), [c for c in frame.columns if additive(c)])
    data["neighbor"] = data["code"].map(lambda code: neighbours.get(code) or [])
    data = data.explode("neighbor")
    data = data[data["neighbor"].notna()]
    keys = ["neighbor", *[c for c in KEYS if c in data.columns]]
    summed = sum_counts(data.drop(columns=["code"]), keys)
    summed = summed.merge(
        data.groupby(keys, as_index=False)["code"].nunique().rename(
            columns={"code": "commune_count"}), on=keys, how="left")
    result = derive(summed).sort_values(keys)
    return finish(result.drop(columns=["province_code"], errors="ignore"), "neighbor")


# --- indicators for features -------------------------------------------------------------

def unit_indicators(store, level: str, year: int, codes=None,
                    restricted: bool = True) -> dict[str, dict[str, object]]:
    """Return {unit code: {indicator name: value}} for one year (names: `INDICATOR_NAMES`).

    Every unit gets every name (None where not reported; incidents and cooperation 0
    where none were recorded). `codes` defaults to every unit of the level in the
    boundaries. `restricted=False` leaves out incidents and cooperation.
    """
    unit_column(level)
    if codes is None:
        codes = unit_codes(store, level)["code"].tolist()
    values = {code: {name: None for name in INDICATOR_NAMES} for code in codes}
    _fill(values, certification_rates(store, year, level), "group", "rate_reviewed",
          "certification_rate_{}", ndigits=4)
    _fill(values, model_coverage(store, year, level=level), "model_type", "coverage",
          "model_coverage_{}", ndigits=4)
    awareness = awareness_totals(store, year, level)
    for column in ("sessions", "participants", "commended_collectives",
                   "commended_individuals"):
        _fill(values, awareness, None, column, f"awareness_{column}")
    start, end = date(year, 1, 1), date(year, 12, 31)
    if restricted:
        for unit in values.values():
            unit["incidents"] = unit["cooperation_activities"] = 0
        _fill(values, incident_counts(store, start, end, level), None, "incidents",
              "incidents")
        activities = activity_counts(store, start, end, level)
        activities = activities.groupby("code", as_index=False)["activities"].sum()
        _fill(values, activities, None, "activities", "cooperation_activities")
    else:
        for unit in values.values():
            for name in RESTRICTED_INDICATORS:
                unit.pop(name)
    return values


def _fill(values: dict, frame: pd.DataFrame, key: str | None, column: str, name: str,
          ndigits: int | None = None) -> None:
    if frame.empty:
        return
    keys = frame[key].tolist() if key else [None] * len(frame)
    for code, part, value in zip(frame["code"].tolist(), keys, frame[column].tolist()):
        unit = values.get(code)
        if unit is None:
            continue
        target = name.format(part) if key else name
        if target in unit:
            unit[target] = plain(value, ndigits)
