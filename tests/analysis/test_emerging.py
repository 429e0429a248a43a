"""Emerging hot spots: the pattern definitions on hand-made series, and generated point
patterns over time (a planted cluster that grows, appears late or stays; complete spatial
randomness) classed as the ArcGIS definitions say."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import pymannkendall
import pytest

from geoservice.hotspots import emerging, gistar

# ~50 × 50 km in the north; the cluster in the middle.
BOUNDS = (105.0, 21.0, 105.48, 21.45)
CLUSTER = (105.24, 21.225)
STEPS = emerging.time_steps(date(2022, 1, 1), date(2024, 12, 31), "quarter")


# --- the definitions, on hand-made flags ---------------------------------------------------

def flags(text):
    """'..HH' -> hot flags; 'C' marks a cold step (returned separately)."""
    return [c == "H" for c in text], [c == "C" for c in text]


@pytest.mark.parametrize("series, trend, expected", [
    ("........H", "no trend", "new_hot"),
    ("......HHH", "no trend", "consecutive_hot"),
    ("..H...HHH", "no trend", "sporadic_hot"),  # hot before the final run: not consecutive
    ("H.H.H.H.H", "no trend", "sporadic_hot"),
    ("..C.....H", "no trend", "new_hot"),  # never hot before: new, whatever the cold steps
    ("H.C.....H", "no trend", "oscillating_hot"),
    ("HHHHHHHHHH", "increasing", "intensifying_hot"),
    ("HHHHHHHHHH", "decreasing", "diminishing_hot"),
    ("HHHHHHHHHH", "no trend", "persistent_hot"),
    (".HHHHHHHHH", "no trend", "persistent_hot"),  # 90 % of the steps, the final one hot
    ("HHHHHHHHH.", "no trend", "historical_hot"),  # 90 %, but not the final one
    ("HHHHHHHH..", "no trend", "no_pattern"),  # 80 % and not hot now
    ("........C", "no trend", "new_cold"),
    (".......CC", "no trend", "consecutive_cold"),
    ("CCCCCCCCCC", "decreasing", "intensifying_cold"),  # colder and colder
    ("CCCCCCCCCC", "increasing", "diminishing_cold"),
    ("CCCCCCCCCC", "no trend", "persistent_cold"),
    ("C.H.....C", "no trend", "oscillating_cold"),
    ("C..C....C", "no trend", "sporadic_cold"),
    ("CCCCCCCCC.", "no trend", "historical_cold"),
    ("..........", "increasing", "no_pattern"),
])
def test_patterns_follow_the_definitions(series, trend, expected):
    hot, cold = flags(series)
    assert emerging.classify(hot, cold, trend) == expected


def test_time_steps_and_counts_by_step():
    quarters = emerging.time_steps(date(2023, 11, 15), date(2024, 4, 1), "quarter")
    assert [s.label for s in quarters] == ["2023-Q4", "2024-Q1", "2024-Q2"]
    assert quarters[1].start == date(2024, 1, 1) and quarters[1].end == date(2024, 3, 31)
    years = emerging.time_steps(date(2022, 6, 1), date(2024, 1, 1), "year")
    assert [s.label for s in years] == ["2022", "2023", "2024"]
    grid = gistar.hex_grid(BOUNDS, 5.0)
    centre = grid.geometry.iloc[len(grid) // 2].centroid
    points = gpd.GeoDataFrame(
        {"date": pd.to_datetime(["2024-03-31", "2024-04-01", "2024-04-02", "2025-01-01"])},
        geometry=[centre] * 4, crs=grid.crs)
    counts = emerging.step_counts(grid, points, quarters)
    assert counts.sum() == 3  # the 2025 point is outside every step
    assert counts[len(grid) // 2].tolist() == [0, 1, 2]


def test_trend_is_mann_kendall_on_the_z_scores():
    z = np.array([0.5, 1.0, 0.8, 1.6, 2.0, 2.6, 2.4, 3.1, 3.5, 4.0])
    verdict, tau, p = emerging.trend(z)
    reference = pymannkendall.original_test(z, alpha=0.05)
    assert (verdict, tau, p) == (reference.trend, reference.Tau, reference.p)
    assert verdict == "increasing"
    assert emerging.trend([1.0, np.nan, 2.0, 3.0])[0] == "no trend"


# --- generated point patterns over time ------------------------------------------------------

def points_over_time(cluster_sizes, seed, background=400, spread_km=2.0):
    """Uniform background points in every step plus a cluster of the given size per step."""
    grid = gistar.hex_grid(BOUNDS, 5.0)
    west, south, east, north = grid.total_bounds
    centre = gpd.GeoSeries(gpd.points_from_xy([CLUSTER[0]], [CLUSTER[1]]), crs=4326) \
        .to_crs(grid.crs).iloc[0]
    rng = np.random.default_rng(seed)
    xs, ys, days = [], [], []
    for step, size in zip(STEPS, cluster_sizes):
        x = np.concatenate([rng.uniform(west, east, background),
                            rng.normal(centre.x, spread_km * 1000, size)])
        y = np.concatenate([rng.uniform(south, north, background),
                            rng.normal(centre.y, spread_km * 1000, size)])
        span = (step.end - step.start).days
        xs.append(x)
        ys.append(y)
        days += [np.datetime64(step.start) + np.timedelta64(int(d), "D")
                 for d in rng.integers(0, span + 1, len(x))]
    points = gpd.GeoDataFrame({"date": days}, geometry=gpd.points_from_xy(
        np.concatenate(xs), np.concatenate(ys)), crs=grid.crs)
    distance_km = grid.centroid.distance(centre) / 1000
    return grid, points, distance_km


def patterns(cluster_sizes, seed):
    grid, points, distance_km = points_over_time(cluster_sizes, seed)
    counts = emerging.step_counts(grid, points, STEPS)
    result = emerging.emerging(grid, counts)
    return result, distance_km


def test_a_growing_cluster_is_intensifying():
    result, distance_km = patterns(np.linspace(40, 160, len(STEPS)).round().astype(int), seed=1)
    at_cluster = result[distance_km < 3]
    assert len(at_cluster) >= 1
    assert set(at_cluster["pattern"]) == {"intensifying_hot"}, at_cluster
    assert (at_cluster["trend"] == "increasing").all() and (at_cluster["trend_tau"] > 0).all()
    assert (result.loc[distance_km > 15, "pattern"] == "no_pattern").all()


def test_a_cluster_of_the_last_step_is_new_and_of_the_last_steps_consecutive():
    late = [0] * (len(STEPS) - 1) + [80]
    result, distance_km = patterns(late, seed=2)
    assert set(result.loc[distance_km < 3, "pattern"]) == {"new_hot"}
    assert (result.loc[distance_km > 15, "pattern"] == "no_pattern").all()
    recent = [0] * (len(STEPS) - 3) + [80, 80, 80]
    result, distance_km = patterns(recent, seed=3)
    assert set(result.loc[distance_km < 3, "pattern"]) == {"consecutive_hot"}
    assert result.loc[distance_km < 3, "hot_steps"].eq(3).all()


def test_a_steady_cluster_is_persistent():
    result, distance_km = patterns([80] * len(STEPS), seed=4)
    at_cluster = result[distance_km < 3]
    assert set(at_cluster["pattern"]) == {"persistent_hot"}
    assert (at_cluster["hot_steps"] >= 0.9 * len(STEPS)).all()


def test_complete_spatial_randomness_shows_no_pattern():
    """Without a cluster, FDR per step keeps almost every zone unflagged in every step."""
    flagged = []
    for seed in range(5):
        result, _distance = patterns([0] * len(STEPS), seed=100 + seed)
        flagged.append(int((result["pattern"] != "no_pattern").sum()))
        lasting = {"intensifying_hot", "persistent_hot", "diminishing_hot", "historical_hot",
                   "consecutive_hot"}
        assert not lasting & set(result["pattern"])
    assert sum(flagged) <= 3, flagged


def test_too_few_steps_are_refused_and_tables_sum_up():
    grid = gistar.hex_grid(BOUNDS, 5.0)
    with pytest.raises(ValueError, match="at least 4 time steps"):
        emerging.emerging(grid, np.zeros((len(grid), 3)))
    frame = pd.DataFrame({"province_code": ["08", "08", "11", "11", "11"],
                          "pattern": ["new_hot", "no_pattern", "new_hot", "new_hot",
                                      "sporadic_cold"]})
    table = emerging.province_table(frame).set_index("province_code")
    assert table.loc["08", "zones"] == 2 and table.loc["11", "new_hot"] == 2
    assert list(table.columns) == ["zones", *emerging.PATTERNS]
    assert (table[list(emerging.PATTERNS)].sum(axis=1) == table["zones"]).all()
