"""Indicators from hand-made records, on both store backends, against values worked by hand."""

from __future__ import annotations

from datetime import date

import pytest
import shapely

from geoservice.boundaries.load import load_boundaries
from geoservice.indicators import compute as ind
from geoservice.indicators.names import INDICATOR_NAMES
from geoservice.store import open_store
from geoservice.store.records import ImportBatch, RecordWrite

# Fixture communes: Lũng Cú (08, faces CN), Hà Giang 1 (08, ward, no border),
# Sín Thầu (11, the CN-LA tripoint), Mường Nhé (11, faces LA), Điện Biên Phủ (11, ward).
LUNG_CU, HA_GIANG_1, SIN_THAU, MUONG_NHE, DIEN_BIEN_PHU = (
    "00715", "00694", "03158", "03160", "03127")
PROVINCE = {LUNG_CU: "08", HA_GIANG_1: "08", SIN_THAU: "11", MUONG_NHE: "11",
            DIEN_BIEN_PHU: "11"}
NEIGHBOURS = {LUNG_CU: ("CN",), SIN_THAU: ("CN", "LA"), MUONG_NHE: ("LA",)}


@pytest.fixture
def store(store_url):
    store = open_store(store_url)
    yield store
    store.close()


@pytest.fixture
def with_boundaries(store, built):
    load_boundaries(store, built.gpkg)
    return store


def write(store, kind, records):
    batch = ImportBatch(kind=kind, filename="hand-made.csv", sha256="0" * 64, imported_by="test")
    return store.apply_records(records, batch)


def record(kind, key, code, properties, **extra):
    return RecordWrite(kind=kind, natural_key=key, commune_code=code,
                       province_code=PROVINCE[code], properties=properties,
                       neighbors=NEIGHBOURS.get(code, ()), **extra)


def cert(code, year, group, reviewed, certified, registered=None):
    properties = {"year": year, "group": group, "reviewed": reviewed, "certified": certified}
    if registered is not None:
        properties["registered"] = registered
    return record("certification", f"{code}|{year}|{group}", code, properties, year=year,
                  category=group)


def model(code, name, model_type, status, start=None):
    properties = {"model_type": model_type, "name": name, "status": status}
    if start is not None:
        properties["start_date"] = start
    return record("models", f"{code}|{model_type}|{name}", code, properties,
                  date=start, year=start.year if start else None, category=model_type)


def incident(ref, code, when, category):
    return record("incidents", ref, code,
                  {"ref": ref, "date": when, "category": category, "lon": 103.0, "lat": 22.0},
                  geometry=shapely.Point(103.0, 22.0), date=when, year=when.year,
                  category=category)


def activity(code, when, activity_type, country, locality, participants=None):
    properties = {"date": when, "activity_type": activity_type, "partner_country": country,
                  "partner_locality": locality}
    if participants is not None:
        properties["participants"] = participants
    return record("cooperation", f"{when}|{code}|{activity_type}|{locality}", code,
                  properties, date=when, year=when.year, category=activity_type)


def awareness(code, year, sessions, participants, collectives=None, individuals=None):
    properties = {"year": year, "sessions": sessions, "participants": participants}
    if collectives is not None:
        properties["commended_collectives"] = collectives
    if individuals is not None:
        properties["commended_individuals"] = individuals
    return record("awareness", f"{code}|{year}", code, properties, year=year)


def row(frame, **match):
    found = frame
    for column, value in match.items():
        found = found[found[column] == value]
    assert len(found) == 1, (match, found)
    return found.iloc[0].to_dict()


# --- certification ---------------------------------------------------------------------

ROLL_UP = [
    # Province 08: 9/10 and 45/90 -> averaging the rates says 70 %, the counts say 54 %.
    cert(LUNG_CU, 2024, "residential", 10, 9, registered=12),
    cert(HA_GIANG_1, 2024, "residential", 90, 45, registered=100),
    cert(LUNG_CU, 2024, "agencies", 10, 8, registered=10),
    cert(LUNG_CU, 2024, "enterprises", 20, 15, registered=25),
    cert(LUNG_CU, 2024, "schools", 5, 5, registered=5),
    cert(HA_GIANG_1, 2024, "schools", 4, 2),  # registration not tracked here
    cert(SIN_THAU, 2024, "residential", 7, 7, registered=7),  # another province
]


def test_province_roll_up_sums_counts_never_averages_rates(store):
    write(store, "certification", ROLL_UP)
    frame = ind.certification_rates(store, 2024, level="province")
    residential = row(frame, code="08", group="residential")
    assert (residential["registered"], residential["reviewed"], residential["certified"]) == (
        112, 100, 54)
    assert residential["rate_reviewed"] == pytest.approx(0.54)
    assert residential["rate_reviewed"] != pytest.approx((9 / 10 + 45 / 90) / 2)
    assert residential["rate_registered"] == pytest.approx(54 / 112)
    assert row(frame, code="11", group="residential")["rate_reviewed"] == 1.0


def test_registered_is_none_where_not_tracked_and_combined_group(store):
    write(store, "certification", ROLL_UP)
    province = ind.certification_rates(store, 2024, level="province")
    schools = row(province, code="08", group="schools")
    assert schools["registered"] is None and schools["rate_registered"] is None
    assert schools["rate_reviewed"] == pytest.approx(7 / 9)
    combined = row(province, code="08", group="agencies_enterprises_schools")
    assert (combined["reviewed"], combined["certified"]) == (39, 30)
    assert combined["registered"] is None
    communes = ind.certification_rates(store, 2024, level="commune")
    assert row(communes, code=HA_GIANG_1, group="schools")["rate_registered"] is None
    lung_cu = row(communes, code=LUNG_CU, group="agencies_enterprises_schools")
    assert (lung_cu["registered"], lung_cu["reviewed"], lung_cu["certified"]) == (40, 35, 28)
    only = ind.certification_rates(store, 2024, level="commune", group="schools")
    assert set(only["group"]) == {"schools"} and len(only) == 2


def test_change_vs_previous_year_in_percentage_points(store):
    write(store, "certification", [*ROLL_UP, cert(LUNG_CU, 2023, "residential", 10, 6,
                                                   registered=10)])
    communes = ind.certification_rates(store, 2024)
    assert row(communes, code=LUNG_CU, group="residential")["change_vs_previous_year"] == \
        pytest.approx(30.0)
    assert row(communes, code=HA_GIANG_1, group="residential")["change_vs_previous_year"] is None
    province = ind.certification_rates(store, 2024, level="province")
    # 2023: 6/10 (only Lũng Cú reported); 2024: 54/100.
    assert row(province, code="08", group="residential")["change_vs_previous_year"] == \
        pytest.approx(-6.0)


def test_gap_to_target(store):
    write(store, "certification", ROLL_UP)
    communes = ind.certification_rates(store, 2024)
    lung_cu = row(communes, code=LUNG_CU, group="residential")  # 9 of 12 registered
    assert lung_cu["gap_basis"] == "registered"
    assert lung_cu["gap_to_target"] == pytest.approx(0.25) and lung_cu["units_short"] == 3
    untracked = row(communes, code=HA_GIANG_1, group="schools")  # 2 of 4 reviewed
    assert untracked["gap_basis"] == "reviewed"
    assert untracked["gap_to_target"] == pytest.approx(0.5) and untracked["units_short"] == 2
    ninety = ind.gap_to_target(communes, target=0.9)
    lung_cu = row(ninety, code=LUNG_CU, group="residential")
    assert lung_cu["gap_to_target"] == pytest.approx(0.15)
    assert lung_cu["units_short"] == 2  # ceil(0.9 * 12) = 11 certified needed
    done = row(ninety, code=SIN_THAU, group="residential")
    assert done["gap_to_target"] == pytest.approx(-0.1) and done["units_short"] == 0


# --- models ------------------------------------------------------------------------------

def test_model_coverage_counts_only_active_models_started_by_the_year(with_boundaries, built):
    store = with_boundaries
    in_11 = int((built.layers["communes"]["province_code"] == "11").sum())
    write(store, "models", [
        model(SIN_THAU, "Tổ tự quản bản 1", "self_management", "active", date(2023, 5, 1)),
        model(SIN_THAU, "Tổ tự quản bản 2", "self_management", "active", date(2024, 12, 31)),
        model(MUONG_NHE, "Tổ tự quản bản 3", "self_management", "ended", date(2020, 1, 1)),
        model(DIEN_BIEN_PHU, "Tổ tự quản tổ dân phố 1", "self_management", "active",
              date(2025, 2, 1)),
        model(DIEN_BIEN_PHU, "Camera an ninh tổ dân phố 2", "security_cameras", "active"),
    ])
    write(store, "certification", [cert(SIN_THAU, 2024, "residential", 5, 4, registered=5),
                                   cert(MUONG_NHE, 2024, "residential", 4, 4)])
    province = ind.model_coverage(store, 2024, "self_management", level="province",
                                  province_code="11")
    assert list(province["code"]) == ["11"]
    only = row(province, code="11", model_type="self_management")
    assert (only["communes"], only["covered_communes"], only["models"]) == (in_11, 1, 2)
    assert only["coverage"] == pytest.approx(1 / in_11)
    # Residential: min(2 models, 5 areas) in Sín Thầu + min(0, 4) in Mường Nhé, over 9 areas.
    assert (only["residential_areas"], only["covered_residential_areas"]) == (9, 2)
    assert only["residential_coverage"] == pytest.approx(2 / 9)
    later = ind.model_coverage(store, 2025, "self_management", level="province",
                               province_code="11")
    assert row(later, code="11")["covered_communes"] == 2
    communes = ind.model_coverage(store, 2024, level="commune", province_code="11")
    assert len(communes) == in_11 * 9  # eight types and "any"
    assert row(communes, code=SIN_THAU, model_type="self_management")["coverage"] == 1.0
    assert row(communes, code=MUONG_NHE, model_type="self_management")["coverage"] == 0.0
    assert row(communes, code=MUONG_NHE, model_type="self_management")[
        "residential_coverage"] == 0.0
    assert row(communes, code=DIEN_BIEN_PHU, model_type="self_management")["coverage"] == 0.0
    # No start date: counts (nothing says it started later).
    assert row(communes, code=DIEN_BIEN_PHU, model_type="security_cameras")["coverage"] == 1.0
    assert row(communes, code=DIEN_BIEN_PHU, model_type="any")["models"] == 1
    assert row(communes, code=DIEN_BIEN_PHU, model_type="any")["residential_areas"] is None


# --- incidents, cooperation, awareness -----------------------------------------------------

def test_incident_and_activity_counts(store):
    write(store, "incidents", [
        incident("I-1", LUNG_CU, date(2024, 1, 1), "drugs"),
        incident("I-2", LUNG_CU, date(2024, 12, 31), "smuggling"),
        incident("I-3", HA_GIANG_1, date(2024, 6, 1), "drugs"),
        incident("I-4", LUNG_CU, date(2025, 1, 1), "drugs"),
        incident("I-5", SIN_THAU, date(2024, 3, 3), "drugs"),
    ])
    communes = ind.incident_counts(store, date(2024, 1, 1), date(2024, 12, 31))
    lung_cu = row(communes, code=LUNG_CU)
    assert (lung_cu["incidents"], lung_cu["incidents_drugs"],
            lung_cu["incidents_smuggling"], lung_cu["incidents_public_order"]) == (2, 1, 1, 0)
    province = ind.incident_counts(store, date(2024, 1, 1), date(2024, 12, 31),
                                   level="province", category="drugs")
    assert row(province, code="08")["incidents"] == 2
    assert row(province, code="11")["incidents"] == 1
    write(store, "cooperation", [
        activity(SIN_THAU, date(2024, 2, 1), "joint_patrol", "CN", "Yunnan", 10),
        activity(SIN_THAU, date(2024, 3, 1), "joint_patrol", "LA", "Phongsaly", 12),
        activity(SIN_THAU, date(2024, 4, 1), "training", "LA", "Phongsaly"),
        activity(MUONG_NHE, date(2023, 4, 1), "training", "LA", "Phongsaly", 5),
    ])
    activities = ind.activity_counts(store, date(2024, 1, 1), date(2024, 12, 31),
                                     level="province")
    laos = row(activities, code="11", partner_country="LA")
    assert (laos["activities"], laos["participants"], laos["activities_training"]) == (2, 12, 1)
    assert row(activities, code="11", partner_country="CN")["activities"] == 1
    only = ind.activity_counts(store, None, None, partner_country="LA")
    assert sorted(only["code"]) == [SIN_THAU, MUONG_NHE]


def test_awareness_totals(store):
    write(store, "awareness", [
        awareness(LUNG_CU, 2024, 12, 600, 1, 2), awareness(HA_GIANG_1, 2024, 8, 400),
        awareness(LUNG_CU, 2023, 5, 100, 0, 0), awareness(SIN_THAU, 2024, 3, 90, 1),
    ])
    province = ind.awareness_totals(store, 2024, level="province")
    assert row(province, code="08") == {
        "code": "08", "province_code": "08", "year": 2024, "sessions": 20,
        "participants": 1000, "commended_collectives": 1, "commended_individuals": 2}
    every_year = ind.awareness_totals(store, level="commune")
    assert sorted(every_year.loc[every_year["code"] == LUNG_CU, "year"]) == [2023, 2024]


# --- per border neighbour --------------------------------------------------------------------

def test_tripoint_commune_counts_under_both_neighbours(with_boundaries):
    store = with_boundaries
    write(store, "certification", [
        cert(LUNG_CU, 2024, "residential", 10, 8),
        cert(SIN_THAU, 2024, "residential", 20, 10),
        cert(MUONG_NHE, 2024, "residential", 30, 27),
        cert(HA_GIANG_1, 2024, "residential", 50, 5),  # faces no neighbour
    ])
    frame = ind.certification_rates(store, 2024, group="residential")
    neighbours = ind.by_border_neighbor(frame, store)
    assert sorted(neighbours["neighbor"]) == ["CN", "LA"]
    china, laos = row(neighbours, neighbor="CN"), row(neighbours, neighbor="LA")
    assert (china["reviewed"], china["certified"], china["commune_count"]) == (30, 18, 2)
    assert china["rate_reviewed"] == pytest.approx(0.6)
    assert (laos["reviewed"], laos["certified"], laos["commune_count"]) == (50, 37, 2)
    assert laos["rate_reviewed"] == pytest.approx(0.74)
    write(store, "incidents", [incident("I-1", SIN_THAU, date(2024, 5, 5), "drugs"),
                               incident("I-2", LUNG_CU, date(2024, 5, 6), "drugs"),
                               incident("I-3", HA_GIANG_1, date(2024, 5, 7), "drugs")])
    counts = ind.by_border_neighbor(
        ind.incident_counts(store, date(2024, 1, 1), date(2024, 12, 31)), store)
    assert dict(zip(counts["neighbor"], counts["incidents"])) == {"CN": 2, "LA": 1}
    with pytest.raises(ValueError):
        ind.by_border_neighbor(ind.certification_rates(store, 2024, level="province"), store)


# --- indicators for features -----------------------------------------------------------------

def test_unit_indicators(with_boundaries):
    store = with_boundaries
    write(store, "certification", ROLL_UP)
    write(store, "incidents", [incident("I-1", LUNG_CU, date(2024, 5, 5), "drugs")])
    write(store, "awareness", [awareness(LUNG_CU, 2024, 12, 600, 1, 2)])
    values = ind.unit_indicators(store, "commune", 2024, codes=[LUNG_CU, MUONG_NHE])
    assert set(values) == {LUNG_CU, MUONG_NHE}
    assert all(set(v) == set(INDICATOR_NAMES) for v in values.values())
    lung_cu, muong_nhe = values[LUNG_CU], values[MUONG_NHE]
    assert lung_cu["certification_rate_residential"] == 0.9
    assert lung_cu["certification_rate_agencies_enterprises_schools"] == 0.8
    assert lung_cu["incidents"] == 1 and lung_cu["cooperation_activities"] == 0
    assert (lung_cu["awareness_sessions"], lung_cu["awareness_participants"]) == (12, 600)
    assert lung_cu["model_coverage_self_management"] == 0.0
    assert muong_nhe["certification_rate_residential"] is None
    assert muong_nhe["awareness_sessions"] is None and muong_nhe["incidents"] == 0
    provinces = ind.unit_indicators(store, "province", 2024, restricted=False)
    assert set(provinces) == {"08", "11"}
    assert provinces["08"]["certification_rate_residential"] == 0.54
    assert "incidents" not in provinces["08"]
    assert "cooperation_activities" not in provinces["08"]
    with pytest.raises(ValueError):
        ind.unit_indicators(store, "district", 2024)
