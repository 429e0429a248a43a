"""`geoservice analyses run` and `geoservice emerging` on the fixture with the demo data:
the same runs and cache as the API, in the instance folder."""

from __future__ import annotations

import csv
import io
import json

from geoservice.hotspots import emerging
from tests.analysis.test_commands import run
from tests.conftest import _copy_database
from tests.web.test_tiles import demo_db  # noqa: F401 - the shared session fixture


def test_analyses_run_writes_into_the_instance_and_reuses_it(tmp_path, demo_db):  # noqa: F811
    _copy_database(demo_db, tmp_path / "geoservice.sqlite")
    out = tmp_path / "gi.geojson"
    first = run(tmp_path, "analyses", "run", "gistar", "--zones", "hex", "--province", "08",
                "--output", str(out))
    assert first.exit_code == 0, first.output
    assert "computed in" in first.output
    zones = json.loads(out.read_text())["features"]
    assert zones and {f["properties"]["province_code"] for f in zones} == {"08"}
    assert list((tmp_path / "analyses" / "gistar").rglob("*.geojson"))
    again = run(tmp_path, "analyses", "run", "gistar", "--zones", "hex", "--province", "08")
    assert again.exit_code == 0 and "from the cache" in again.output
    border = run(tmp_path, "analyses", "run", "border", "--period", "2024",
                 "--output", str(tmp_path / "border.csv"))
    assert border.exit_code == 0, border.output
    rows = list(csv.DictReader(io.StringIO((tmp_path / "border.csv").read_text("utf-8-sig"))))
    assert [r["value"] for r in rows[:4]] == ["all", "CN", "LA", "KH"]


def test_emerging_command_prints_and_writes_the_province_table(tmp_path, demo_db):  # noqa: F811
    _copy_database(demo_db, tmp_path / "geoservice.sqlite")
    out = tmp_path / "emerging.csv"
    result = run(tmp_path, "emerging", "--province", "11", "--step", "year", "--output",
                 str(out))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"))))
    assert [r["province_code"] for r in rows] == ["11"]
    assert int(rows[0]["zones"]) == sum(int(rows[0][p]) for p in emerging.PATTERNS)
    refused = run(tmp_path, "emerging", "--step", "month")
    assert refused.exit_code == 2 and "step" in refused.output
    too_short = run(tmp_path, "emerging", "--period", "2024", "--step", "year")
    assert too_short.exit_code == 1 and "at least 4 time steps" in too_short.output


def _result_lines(output: str) -> tuple[str, str]:
    """(the result's files, its summary) as `analyses run` prints them."""
    lines = output.splitlines()
    files = next(line for line in lines if ".*: data version " in line)
    return files.split(", ")[0], lines[lines.index(files) + 1]


def test_hotspots_and_kde_are_aliases_of_analyses_run(tmp_path, demo_db):  # noqa: F811
    _copy_database(demo_db, tmp_path / "geoservice.sqlite")
    assert "Alias of `analyses run gistar`" in run(tmp_path, "hotspots", "--help").output
    assert "Alias of `analyses run density" in run(tmp_path, "kde", "--help").output
    analysed = run(tmp_path, "analyses", "run", "gistar", "--zones", "hex", "--province", "08",
                   "--output", str(tmp_path / "run.geojson"))
    assert analysed.exit_code == 0 and "computed in" in analysed.output, analysed.output
    alias = run(tmp_path, "hotspots", "--zones", "hex", "--province", "08", "--output",
                str(tmp_path / "alias.geojson"))
    assert alias.exit_code == 0 and "from the cache" in alias.output, alias.output
    assert _result_lines(alias.output) == _result_lines(analysed.output)
    assert (tmp_path / "alias.geojson").read_bytes() == (tmp_path / "run.geojson").read_bytes()
    assert len(list((tmp_path / "analyses" / "gistar").rglob("*.json"))) == 1
    density = run(tmp_path, "kde", "-o", str(tmp_path / "alias.tif"), "--province", "08",
                  "--bandwidth-km", "3", "--cell-km", "1")
    assert density.exit_code == 0 and "computed in" in density.output, density.output
    analysed = run(tmp_path, "analyses", "run", "density", "--province", "08",
                   "--bandwidth-km", "3", "--output", str(tmp_path / "run.tif"))
    assert analysed.exit_code == 0 and "from the cache" in analysed.output, analysed.output
    assert _result_lines(analysed.output) == _result_lines(density.output)
    assert (tmp_path / "alias.tif").read_bytes() == (tmp_path / "run.tif").read_bytes()
    # The aliases check their options as `analyses run` (and the API) do.
    refused = run(tmp_path, "hotspots", "--weights", "distance")
    assert refused.exit_code == 2 and "distance_km" in refused.output
    refused = run(tmp_path, "hotspots", "--size-km", "3")
    assert refused.exit_code == 2 and "zones=hex" in refused.output
    refused = run(tmp_path, "kde", "-o", str(tmp_path / "x.tif"), "--cell-km", "0")
    assert refused.exit_code == 2 and "cell_km" in refused.output
    assert not (tmp_path / "x.tif").exists()
