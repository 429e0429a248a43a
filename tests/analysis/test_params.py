"""Analysis parameters: one canonical form whatever the spelling, refusals with the parameter."""

from __future__ import annotations

from datetime import date

import pytest

from geoservice.errors import Forbidden, InvalidParameter
from geoservice.hotspots.params import parse, parse_period


def test_spellings_of_one_analysis_share_one_key():
    by_year = parse("density", {"year": "2024", "category": "drugs"})
    by_period = parse("density", {"period": "2024-01-01/2024-12-31", "category": "drugs"})
    by_years = parse("density", {"period": "2024/2024", "category": "drugs"})
    assert by_year.key() == by_period.key() == by_years.key()
    assert by_year.date_from == date(2024, 1, 1) and by_year.date_to == date(2024, 12, 31)
    assert parse("density", {}).key() != by_year.key()
    # Defaults spelled out are the defaults; settings a method does not use do not count.
    assert parse("gistar", {"zones": "communes", "weights": "queen"}).key() == \
        parse("gistar", {}).key()
    assert parse("gistar", {}).key() != parse("emerging", {}).key()
    assert parse("gistar", {"zones": "hex"}).canonical()["size_km"] == "5"
    assert "size_km" not in parse("gistar", {}).canonical()


def test_periods_quarters_and_open_ends():
    assert parse_period("2024-Q3") == (date(2024, 7, 1), date(2024, 9, 30))
    assert parse_period("2025q1") == (date(2025, 1, 1), date(2025, 3, 31))
    assert parse_period("../2023-06-30") == (None, date(2023, 6, 30))
    assert parse_period("2023-02-01/..") == (date(2023, 2, 1), None)
    assert parse("emerging", {"period": "2022/2025"}).period == "2022-01-01/2025-12-31"


def test_a_province_reader_is_kept_to_its_province():
    assert parse("gistar", {}, area="08").province_code == "08"
    assert parse("gistar", {"province_code": "08"}, area="08").province_code == "08"
    with pytest.raises(Forbidden) as refused:
        parse("gistar", {"province_code": "11"}, area="08")
    assert refused.value.parameter == "province_code"
    assert parse("gistar", {"province_code": "11"}).province_code == "11"


@pytest.mark.parametrize("method, args, parameter", [
    ("kriging", {}, "method"),
    ("density", {"zones": "hex"}, "zones"),
    ("density", {"cell_km": "0"}, "cell_km"),
    ("density", {"cell_km": "abc"}, "cell_km"),
    ("density", {"bandwidth_km": "nan"}, "bandwidth_km"),
    ("density", {"category": "bananas"}, "category"),
    ("density", {"period": "2024-13-01/2024-12-31"}, "period"),
    ("density", {"period": "2025/2024"}, "period"),
    ("density", {"year": "24"}, "year"),
    ("density", {"year": "2024", "period": "2024"}, "year"),
    ("density", {"province_code": "8"}, "province_code"),
    ("density", {"border_neighbor": "TH"}, "border_neighbor"),
    ("density", {"border_band": "<=5"}, "border_band"),
    ("gistar", {"weights": "distance"}, "distance_km"),
    ("gistar", {"distance_km": "10"}, "distance_km"),
    ("gistar", {"size_km": "3"}, "size_km"),
    ("gistar", {"zones": "hex", "size_km": "0.1"}, "size_km"),
    ("emerging", {"step": "month"}, "step"),
    ("emerging", {"cell_km": "1"}, "cell_km"),
    ("border", {"zones": "hex"}, "zones"),
    ("gistar", {"category": ["drugs"]}, "category"),
])
def test_bad_parameters_name_the_parameter(method, args, parameter):
    with pytest.raises(InvalidParameter) as refused:
        parse(method, args)
    assert refused.value.parameter == parameter and refused.value.message


def test_border_scope_and_fixed_layer_parameters():
    params = parse("gistar", {"border_neighbor": "la", "border_band": "10"})
    assert (params.border_neighbor, params.border_band) == ("LA", "<=10")
    assert parse("density", {"border_neighbor": "ANY"}).border_neighbor == "any"
    hex_layer = parse("gistar", {"size_km": "3"}, fixed={"zones": "hex"})
    assert hex_layer.zones == "hex" and hex_layer.size_km == 3.0
    with pytest.raises(InvalidParameter, match="set by this layer"):
        parse("gistar", {"zones": "communes"}, fixed={"zones": "hex"})
    # JSON bodies give numbers as numbers.
    assert parse("density", {"cell_km": 2, "bandwidth_km": 3.5}).bandwidth_km == 3.5
