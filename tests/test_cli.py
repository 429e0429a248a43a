"""The `geoservice` command, on the fixture GeoPackage (no build here)."""

from __future__ import annotations

import json
import shutil

from click.testing import CliRunner

from geoservice.cli import main
from geoservice.store import FeatureQuery, open_store


def run(instance, *args):
    result = CliRunner().invoke(main, list(args),
                                env={"GEOSERVICE_INSTANCE_PATH": str(instance)},
                                catch_exceptions=False)
    return result


def test_load_boundaries_without_a_build_fails_clearly(tmp_path):
    result = run(tmp_path, "load-boundaries")
    assert result.exit_code == 1
    assert "build-data" in result.output


def test_load_boundaries_loads_the_instance_gpkg(tmp_path, built):
    shutil.copy(built.gpkg, tmp_path / "boundaries.gpkg")
    result = run(tmp_path, "load-boundaries")
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output.split("loaded into the store: ", 1)[1])
    assert counts["communes"] == len(built.layers["communes"])
    store = open_store(f"sqlite:///{tmp_path / 'geoservice.sqlite'}")
    assert store.query("communes", FeatureQuery(q="lung cu")).features[0][0] == "00715"
    store.close()


def test_build_data_if_missing_loads_an_existing_gpkg_then_does_nothing(tmp_path, built):
    shutil.copy(built.gpkg, tmp_path / "boundaries.gpkg")
    first = run(tmp_path, "build-data", "--if-missing")
    assert first.exit_code == 0, first.output
    assert "loaded into the store" in first.output
    second = run(tmp_path, "build-data", "--if-missing")
    assert second.exit_code == 0
    assert "nothing to do" in second.output


def test_version_is_ours():
    from importlib.metadata import version

    from click.testing import CliRunner

    from geoservice.cli import main

    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and result.output == f"geoservice {version('geoservice')}\n"
    assert "Flask" not in result.output
