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


def test_build_data_takes_province_and_still_the_old_provinces(tmp_path, built):
    shutil.copy(built.gpkg, tmp_path / "boundaries.gpkg")
    assert run(tmp_path, "build-data", "--if-missing").exit_code == 0
    new = run(tmp_path, "build-data", "--province", "08", "--province", "11", "--if-missing")
    assert new.exit_code == 0 and "deprecated" not in new.output
    old = run(tmp_path, "build-data", "--provinces", "08,11", "--if-missing")
    assert old.exit_code == 0 and "nothing to do" in old.output
    assert "--provinces 08,11 is deprecated" in old.output and "--province 08" in old.output
    assert "--provinces" not in run(tmp_path, "build-data", "--help").output  # hidden


def test_backup_writes_to_output_and_takes_the_old_argument(tmp_path, loaded_db):
    from tests.conftest import _copy_database

    _copy_database(loaded_db, tmp_path / "geoservice.sqlite")
    new = run(tmp_path, "backup", "-o", str(tmp_path / "a.sqlite"))
    assert new.exit_code == 0, new.output
    assert (tmp_path / "a.sqlite").stat().st_size > 0 and "deprecated" not in new.output
    old = run(tmp_path, "backup", str(tmp_path / "b.sqlite"))
    assert old.exit_code == 0 and (tmp_path / "b.sqlite").exists()
    assert "OUTPUT as an argument is deprecated" in old.output
    assert run(tmp_path, "backup").exit_code == 2
    assert "backup (database pages)" in new.output  # the progress bar's label


def test_backup_reports_its_progress_page_by_page(tmp_path, loaded_db, monkeypatch):
    from geoservice.store import backup as backups
    from geoservice.store import open_store
    from tests.conftest import _copy_database

    _copy_database(loaded_db, tmp_path / "geoservice.sqlite")
    store = open_store(f"sqlite:///{tmp_path / 'geoservice.sqlite'}")
    monkeypatch.setattr(backups, "STEP_PAGES", 64)
    heard = []
    try:
        counts = backups.backup(store, tmp_path / "copy.sqlite",
                                lambda copied, total: heard.append((copied, total)))
    finally:
        store.close()
    total = heard[-1][1]
    assert len(heard) >= 2 and heard[-1] == (total, total) and total > 64
    assert [c for c, _ in heard] == sorted(c for c, _ in heard)
    assert counts["features"] > 0


def test_report_batch_takes_province_and_the_old_argument(tmp_path, loaded_db):
    from tests.conftest import _copy_database

    _copy_database(loaded_db, tmp_path / "geoservice.sqlite")
    help_text = run(tmp_path, "report-batch", "--help").output
    assert "--province CODE" in help_text and "-o, --output" in help_text
    assert "PROVINCE_CODE" not in help_text
    missing = run(tmp_path, "report-batch", "-o", str(tmp_path / "x.pdf"))
    assert missing.exit_code == 2 and "--province CODE" in missing.output
    # An unknown province fails before any PDF is made: enough to see the spelling taken.
    new = run(tmp_path, "report-batch", "--province", "99", "-o", str(tmp_path / "x.pdf"))
    old = run(tmp_path, "report-batch", "99", "-o", str(tmp_path / "x.pdf"))
    assert new.exit_code == old.exit_code == 2
    assert "deprecated" not in new.output and "PROVINCE_CODE as an argument" in old.output
    assert new.output.strip().splitlines()[-1] == old.output.strip().splitlines()[-1]


def test_one_spelling_of_output_province_and_format_across_commands():
    from geoservice.cli import main as group

    for name, command in group.commands.items():
        for sub in getattr(command, "commands", {name: command}).values():
            for param in sub.params:
                if "--output" in param.opts:
                    assert "-o" in param.opts, f"{name}: --output without -o"
                assert not {"--out", "--provinces", "--fmt"} & set(param.opts) or \
                    param.hidden, f"{name}: {param.opts}"
                if param.param_type_name == "argument" and param.name in (
                        "output", "province_code"):
                    raise AssertionError(f"{name}: {param.name} is still an argument")


# --- progress bars of the long commands (import, build-data, demo-data) --------------------

IMPORT_STAGES = ("reading rows", "checking rows", "checking units", "writing records")


def test_import_shows_a_bar_per_stage_and_a_refused_file_still_reports_its_rows(tmp_path,
                                                                                loaded_db):
    from tests.conftest import _copy_database

    _copy_database(loaded_db, tmp_path / "geoservice.sqlite")
    header = "commune_code,year,group,reviewed,certified\n"
    good = tmp_path / "ket-qua.csv"
    good.write_text(header + "00715,2024,residential,10,7\n00733,2024,residential,8,8\n",
                    encoding="utf-8")
    dry = run(tmp_path, "import", "certification", str(good), "--dry-run")
    assert dry.exit_code == 0, dry.output
    for stage in IMPORT_STAGES[:3]:
        assert f"import certification: {stage}" in dry.output
    assert "writing records" not in dry.output and "dry run, nothing was written" in dry.output
    applied = run(tmp_path, "import", "certification", str(good))
    assert applied.exit_code == 0, applied.output
    assert all(f"import certification: {stage}" in applied.output for stage in IMPORT_STAGES)
    assert "ket-qua.csv: 2 rows applied - 2 new, 0 updated, 0 unchanged" in applied.output
    bad = tmp_path / "sai.csv"
    bad.write_text(header + "00715,2024,residential,10,7\n99999,2024,residential,8,8\n",
                   encoding="utf-8")
    refused = run(tmp_path, "import", "certification", str(bad))
    assert refused.exit_code == 1
    assert "sai.csv: rejected, nothing was written - 1 errors:" in refused.output
    assert "  row 3, commune_code: '99999'" in refused.output
    assert "import certification: checking units" in refused.output
    assert "writing records" not in refused.output
    unreadable = tmp_path / "sai.txt"
    unreadable.write_text(header, encoding="utf-8")
    assert run(tmp_path, "import", "certification", str(unreadable)).exit_code == 2


def test_build_tells_every_step_in_order(built):
    from geoservice.boundaries.build import BUILD_STEPS

    steps = len(BUILD_STEPS)  # the session's build (provinces 08 and 11) was given a callback
    assert built.progress == [*((name, done, steps) for done, name in enumerate(BUILD_STEPS)),
                              ("done", steps, steps)]


def test_build_data_shows_the_build_steps_then_the_load(tmp_path, built, monkeypatch):
    from geoservice.boundaries import build as builds
    from geoservice.boundaries import load as loads

    def build(instance, provinces=None, node_modules=None, progress=None):
        # The build itself is the session's (checked above, too slow to run again): this
        # one tells its steps as it did and leaves its files; the command and the load are
        # the real ones.
        assert provinces == ["11"]
        for call in built.progress:
            progress(*call)
        shutil.copy(built.gpkg, instance / builds.GPKG_NAME)
        shutil.copy(built.instance / "quality.txt", instance / "quality.txt")

    heard, load_boundaries = [], loads.load_boundaries

    def load(store, gpkg, progress=None):
        return load_boundaries(store, gpkg, progress=lambda *call: (heard.append(call),
                                                                    progress(*call)))

    monkeypatch.setattr(builds, "build", build)
    monkeypatch.setattr(loads, "load_boundaries", load)
    result = run(tmp_path, "build-data", "--province", "11")
    assert result.exit_code == 0, result.output
    for step in (*builds.BUILD_STEPS, "done"):
        assert f"build-data: {step}\n" in result.output
    assert "Boundary build quality report" in result.output
    assert "build-data: loading the collections\n" in result.output
    assert "build-data: preparing the communes shapes\n" in result.output
    assert "loaded into the store" in result.output.rsplit("build-data: done", 1)[1]
    steps = heard[-1][2]
    assert [done for _step, done, _total in heard] == list(range(steps + 1))
    assert heard[0][0] == "reading boundaries.gpkg" and heard[-1] == ("done", steps, steps)
    assert {total for *_call, total in heard} == {steps}


def test_demo_data_shows_its_progress(tmp_path, loaded_db):
    from tests.conftest import _copy_database

    _copy_database(loaded_db, tmp_path / "geoservice.sqlite")
    result = run(tmp_path, "demo-data")
    assert result.exit_code == 0, result.output
    assert "demo-data: generating records" in result.output
    assert "demo-data: writing records" in result.output
    assert "certification: " in result.output.rsplit("demo-data: writing records", 1)[1]
