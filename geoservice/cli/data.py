"""Loading data: `geoservice build-data`, `load-boundaries`, `import` (records, and the
official border-commune list: `import border-designation`), `import-boundaries` (official
boundary files) and `demo-data`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from geoservice import services
from geoservice.cli.options import deprecated, province_option
from geoservice.cli.progress import StageBars, StepBar


@click.command("build-data")
@click.option("--province", "province", multiple=True, metavar="CODE",
              help="A 2025 province code, repeatable or comma-separated (default: all).")
@click.option("--provinces", "legacy_provinces", default=None, hidden=True)
@click.option("--if-missing", is_flag=True,
              help="Do nothing when the data is already built and loaded.")
@click.option("--no-load", is_flag=True, help="Build the GeoPackage only; do not load the store.")
@with_appcontext
def build_data(province: tuple[str, ...], legacy_provinces: str | None, if_missing: bool,
               no_load: bool) -> None:
    """Build the boundaries into the instance folder and load them into the store."""
    from geoservice.boundaries.build import GPKG_NAME, build
    from geoservice.boundaries.load import load_boundaries

    if legacy_provinces is not None:
        deprecated("--provinces 08,11", "--province 08 --province 11")
        province = (*province, legacy_provinces)
    current = services.current()
    instance, store = current.instance_path, current.store
    gpkg = instance / GPKG_NAME
    if if_missing and gpkg.exists() and store.get_meta("boundaries_loaded_at"):
        click.echo(f"boundaries already built ({gpkg}); nothing to do")
        return
    codes = [c.strip() for given in province for c in given.split(",") if c.strip()] or None
    if not (if_missing and gpkg.exists()):
        node_modules = current.node_modules
        with StepBar("build-data") as bar:
            build(instance, provinces=codes,
                  node_modules=Path(node_modules) if node_modules else None, progress=bar)
        click.echo((instance / "quality.txt").read_text(encoding="utf-8"))
    if not no_load:
        with StepBar("build-data") as bar:
            counts = load_boundaries(store, gpkg, progress=bar)
        click.echo(f"loaded into the store: {json.dumps(counts)}")


@click.command("load-boundaries")
@with_appcontext
def load_boundaries_command() -> None:
    """Load the built boundaries.gpkg into the store (again)."""
    from geoservice.boundaries.build import GPKG_NAME
    from geoservice.boundaries.load import load_boundaries

    current = services.current()
    gpkg = current.instance_path / GPKG_NAME
    if not gpkg.exists():
        click.echo(f"{gpkg} does not exist: run 'geoservice build-data' first", err=True)
        sys.exit(1)
    with StepBar("load-boundaries") as bar:
        counts = load_boundaries(current.store, gpkg, progress=bar)
    click.echo(f"loaded into the store: {json.dumps(counts)}")


@click.command("import")
@click.argument("kind")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--user", default=None, help="Who imports (recorded with every record).")
@click.option("--vn2000-meridian", type=float, default=None,
              help="Coordinates are VN-2000 TM-3 with this central meridian (e.g. 105.5).")
@click.option("--utm-zone", type=click.Choice(["48", "49"]), default=None,
              help="Coordinates are VN-2000 / UTM zone 48N or 49N.")
@click.option("--column", "columns", multiple=True, metavar="FIELD=HEADER",
              help='The column holding FIELD, when its header is not recognised, e.g. '
                   '--column reviewed="Số được xét" (repeatable).')
@click.option("--dry-run", is_flag=True,
              help="Check the file and show what would be written, row by row; write "
                   "nothing.")
@click.option("--errors-csv", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the row-level error report to this CSV file.")
@with_appcontext
def import_command(kind, path, user, vn2000_meridian, utm_zone, columns, dry_run,
                   errors_csv) -> None:
    """Import a CSV or Excel file of KIND records (all rows, or none when any row is wrong);
    KIND border-designation: the official list of border communes."""
    import getpass

    from geoservice import audit
    from geoservice.errors import GeoserviceError
    from geoservice.records.importer import (
        audit_import,
        column_mapping,
        coordinate_options,
        run_import,
    )

    store, data = services.current().store, path.read_bytes()
    actor = f"cli:{user or getpass.getuser()}"
    if kind == "border-designation":
        _import_designation(store, path, data, user or getpass.getuser(), actor, dry_run)
        return
    try:
        options = coordinate_options(vn2000_meridian, int(utm_zone) if utm_zone else None)
        with StageBars(f"import {kind}") as bars:
            report = run_import(store, kind, data, path.name, user or getpass.getuser(),
                                columns=column_mapping(columns), dry_run=dry_run,
                                progress=bars, **options)
    except GeoserviceError as error:  # the file as a whole cannot be read: nothing written
        audit.import_refused(store, actor, kind, path.name, data, error.message, "local")
        click.echo(f"{path.name}: rejected, nothing was written - {error.message}", err=True)
        sys.exit(2)
    audit_import(store, actor, report, data, "local")
    for note in report.notes:
        click.echo(f"note: {note}")
    for warning in report.warnings:
        click.echo(f"warning: {warning}")
    if report.status == "preview":
        _echo_preview(path.name, report.preview)
        return
    if report.status == "applied":
        from geoservice.indicators.published import after_import

        after_import(store, report)
        written = report.outcome
        click.echo(f"{path.name}: {report.rows} rows applied - {written['inserted']} new, "
                   f"{written['updated']} updated, {written['unchanged']} unchanged")
        return
    click.echo(f"{path.name}: rejected, nothing was written - {len(report.errors)} errors:",
               err=True)
    for error in report.errors[:50]:
        hint = f" (did you mean: {error.suggestion})" if error.suggestion else ""
        click.echo(f"  row {error.row}, {error.column}: {error.value!r}: {error.reason}{hint}",
                   err=True)
    if errors_csv:
        from geoservice.records.parsing.report import errors_csv as error_report

        errors_csv.write_bytes(error_report(report.errors))
        click.echo(f"error report written to {errors_csv}", err=True)
    sys.exit(1)


def _echo_preview(name: str, preview: dict) -> None:
    """Print a dry run's rows and totals."""
    for row in preview["rows"]:
        values = ", ".join(f"{k}={v}" for k, v in row["values"].items())
        click.echo(f"  row {row['row']} -> {row['commune_code']} {row['commune']} "
                   f"(province {row['province_code']}): {row['action']} {values}")
    if preview["listed"] < preview["records"]:
        click.echo(f"  … {preview['records'] - preview['listed']} more records not listed")
    counts, part = preview["would_write"], ""
    if preview["listed"] < preview["records"]:
        part = " among those listed"
    click.echo(f"{name}: dry run, nothing was written - {preview['records']} records would "
               f"be applied ({counts['insert']} new, {counts['update']} updated, "
               f"{counts['unchanged']} unchanged{part})")


def _import_designation(store, path: Path, data: bytes, user: str, actor: str,
                        dry_run: bool) -> None:
    """`geoservice import border-designation FILE`: the official border-commune list."""
    from geoservice.boundaries.designation import import_designation
    from geoservice.boundaries.official_report import audit_boundary_import, error_lines
    from geoservice.errors import GeoserviceError

    try:
        report = import_designation(store, data, path.name, user, dry_run=dry_run)
    except GeoserviceError as error:
        audit_boundary_import(store, actor, "border-designation", path.name, data, None,
                              error.message)
        click.echo(f"{path.name}: rejected, nothing was written - {error.message}", err=True)
        sys.exit(2)
    audit_boundary_import(store, actor, "border-designation", path.name, data, report)
    for note in report.notes:
        click.echo(f"note: {note}")
    if report.status == "rejected":
        click.echo("\n".join(error_lines(path.name, report.errors)), err=True)
        sys.exit(1)
    verb = "would designate" if report.status == "preview" else "designated"
    click.echo(f"{path.name}: {verb} {report.designated} border communes in province(s) "
               f"{', '.join(report.provinces)}; official but not derived: "
               f"{', '.join(report.not_derived) or 'none'}; derived but not listed: "
               f"{', '.join(report.not_listed) or 'none'}"
               + (" (dry run, nothing was written)" if report.status == "preview" else ""))


@click.command("import-boundaries")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--crs", default=None, metavar="CRS",
              help="The file's coordinate system when it declares none (or a wrong one): "
                   "tm3:105.5 (VN-2000 TM-3 105°30'), utm48, utm49, wgs84 or EPSG:NNNN.")
@province_option("Only units of this 2025 province (a unit elsewhere is an error; units "
                 "of it missing from the file are reported).")
@click.option("--column", "columns", multiple=True, metavar="FIELD=HEADER",
              help="The column holding the commune code or name: --column code=MA_DVHC "
                   "(repeatable).")
@click.option("--user", default=None, help="Who loads the file (recorded with the version).")
@click.option("--dry-run", is_flag=True, help="Check the file and report; write nothing.")
@with_appcontext
def import_boundaries_command(path, crs, province_code, columns, user, dry_run) -> None:
    """Load official commune boundaries (GeoPackage, Shapefile or .zip, GeoJSON) as a new
    boundary version; border communes and provinces are derived again."""
    import getpass

    from geoservice.boundaries.official import import_boundaries
    from geoservice.boundaries.official_report import (
        audit_boundary_import,
        error_lines,
        summary_lines,
    )
    from geoservice.errors import GeoserviceError
    from geoservice.records.importer import column_mapping

    current = services.current()
    store, name = current.store, path.name
    actor, user = f"cli:{user or getpass.getuser()}", user or getpass.getuser()
    node_modules = Path(current.node_modules) if current.node_modules else None
    try:
        report = import_boundaries(store, path, user, crs=crs, province=province_code,
                                   columns=column_mapping(columns), dry_run=dry_run,
                                   node_modules=node_modules)
    except GeoserviceError as error:  # refused as a whole: nothing written
        audit_boundary_import(store, actor, "boundaries", name, _file_bytes(path), None,
                              error.message)
        click.echo(f"{name}: refused, nothing was written - {error.message}", err=True)
        sys.exit(2)
    audit_boundary_import(store, actor, "boundaries", name, _file_bytes(path), report)
    for line in summary_lines(report):
        click.echo(line)
    if report.status == "rejected":
        click.echo("\n".join(error_lines(name, report.errors)), err=True)
        sys.exit(1)


def _file_bytes(path: Path) -> bytes:
    return path.read_bytes()


@click.command("demo-data")
@click.option("--seed", default=2025, show_default=True, type=int)
@click.option("--if-empty", is_flag=True, help="Do nothing when the store already holds records.")
@with_appcontext
def demo_data(seed: int, if_empty: bool) -> None:
    """Load the synthetic demo data set (2022-2025, every record marked synthetic)."""
    from geoservice.demo.dataset import load_demo
    from geoservice.store.records import RecordQuery

    store = services.current().store
    if if_empty and store.query_records("certification", RecordQuery(limit=1)).number_matched:
        click.echo("the store already holds records; demo data not loaded")
        return
    from geoservice.indicators.published import warm

    try:
        with StageBars("demo-data") as bars:
            outcomes = load_demo(store, seed=seed, progress=bars)
    except ValueError as error:  # no boundaries in the store yet
        click.echo(f"demo data not loaded: {error}", err=True)
        sys.exit(1)
    for kind, outcome in outcomes.items():
        click.echo(f"{kind}: {outcome.inserted} new, {outcome.updated} updated, "
                   f"{outcome.unchanged} unchanged (synthetic)")
    warm(store)  # the latest year's indicators, so the first map and API requests are quick


COMMANDS = (build_data, load_boundaries_command, import_command, import_boundaries_command,
            demo_data)
