"""Issue 18, batch limits: at most REPORT_BATCH_MAX_UNITS commune reports in one batch
(anonymous callers at most ANONYMOUS_MAX_UNITS), and no batch for a year without records —
refused before any report is made, in the one JSON error shape; the command line's cap
can be raised with --max-units."""

from __future__ import annotations

import io
import zipfile

import pytest
from click.testing import CliRunner

from geoservice.cli import main
from geoservice.reports.batch import ANONYMOUS_MAX_UNITS, data_years
from geoservice.services import of as services_of
from geoservice.store import FeatureQuery
from tests.conftest import _copy_database
from tests.reports.conftest import key_headers
from tests.web.helpers import assert_error, decode

YEAR = 2024


def commune_codes(app, province: str, count: int) -> list[str]:
    page = services_of(app).store.query("communes", FeatureQuery(limit=count,
                                                                 province_code=province))
    codes = [fid for fid, _props, _geometry in page.features]
    assert len(codes) == count
    return codes


def test_a_batch_over_the_setting_is_refused_before_any_work(make_app, demo_db):
    app = make_app(demo_db, REPORT_BATCH_MAX_UNITS=2)
    codes = commune_codes(app, "11", 3)
    url = f"/reports/province/11/communes.zip?year={YEAR}&communes={','.join(codes)}"
    response = app.test_client().get(url, headers=key_headers(app, "national"))
    body = decode(response, 400, "application/json")
    assert_error(body, 400, parameter="communes")
    assert "at most 2" in body["description"] and "has 3" in body["description"]
    # at the cap it is made
    url = f"/reports/province/11/communes.zip?year={YEAR}&communes={','.join(codes[:2])}"
    response = app.test_client().get(url, headers=key_headers(app, "national"))
    assert response.status_code == 200
    assert len(zipfile.ZipFile(io.BytesIO(response.data)).namelist()) == 2


def test_anonymous_callers_get_small_batches_only(app):
    province = services_of(app).store.query("communes", FeatureQuery(
        limit=10**6, province_code="08")).features
    assert len(province) > ANONYMOUS_MAX_UNITS  # the whole province is more than that
    body = decode(app.test_client().get(f"/reports/province/08/communes.zip?year={YEAR}"),
                  400, "application/json")
    assert_error(body, 400, parameter="communes")
    assert f"at most {ANONYMOUS_MAX_UNITS}" in body["description"]


@pytest.mark.parametrize("year", ["1900", "2100"])
def test_a_year_without_records_is_refused(app, year):
    years = data_years(services_of(app).store)
    assert years and int(year) not in years
    code = commune_codes(app, "11", 1)[0]
    response = app.test_client().get(
        f"/reports/province/11/communes.zip?year={year}&communes={code}",
        headers=key_headers(app, "national"))
    body = decode(response, 400, "application/json")
    assert_error(body, 400, parameter="year")
    assert str(years[-1]) in body["description"]  # it says which years have records


def run(instance, *args):
    return CliRunner().invoke(main, list(args), env={"GEOSERVICE_INSTANCE_PATH": str(instance)},
                              catch_exceptions=False)


def test_the_command_line_cap_and_its_override(tmp_path, demo_db):
    _copy_database(demo_db, tmp_path / "geoservice.sqlite")
    (tmp_path / "config.py").write_text("REPORT_BATCH_MAX_UNITS = 1\n", encoding="utf-8")
    from geoservice.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'geoservice.sqlite'}")
    codes = [fid for fid, _p, _g in store.query("communes", FeatureQuery(
        limit=2, province_code="11")).features]
    store.close()
    out = tmp_path / "two.zip"
    args = ("report-batch", "--province", "11", "--year", str(YEAR), "--communes",
            ",".join(codes), "-o", str(out))
    result = run(tmp_path, *args)
    assert result.exit_code == 2 and "at most 1 commune" in result.output, result.output
    assert not out.exists()
    result = run(tmp_path, *args, "--max-units", "2")
    assert result.exit_code == 0, result.output
    assert len(zipfile.ZipFile(out).namelist()) == 2
    result = run(tmp_path, "report-batch", "--province", "11", "--year", "1900",
                 "--communes", codes[0], "-o", str(tmp_path / "old.zip"))
    assert result.exit_code == 2 and "no records for 1900" in result.output
    assert not (tmp_path / "old.zip").exists()
