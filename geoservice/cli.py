"""The `geoservice` command: build-data, load-boundaries, serve."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click
from flask.cli import FlaskGroup

LOGGER = logging.getLogger(__name__)


def _create_app():
    from geoservice import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False)
def main() -> None:
    """Geoservice: Vietnam's administrative units, border communes and security-data layers."""
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@main.command("build-data")
@click.option("--provinces", default="", help="Comma-separated 2025 province codes (default: all).")
@click.option("--if-missing", is_flag=True,
              help="Do nothing when the data is already built and loaded.")
@click.option("--no-load", is_flag=True, help="Build the GeoPackage only; do not load the store.")
def build_data(provinces: str, if_missing: bool, no_load: bool) -> None:
    """Build the boundaries into the instance folder and load them into the store."""
    from flask import current_app

    from geoservice.boundaries.build import GPKG_NAME, build
    from geoservice.collections import load_boundaries

    instance = Path(current_app.instance_path)
    gpkg = instance / GPKG_NAME
    store = current_app.extensions["geoservice.store"]
    if if_missing and gpkg.exists() and store.get_meta("boundaries_loaded_at"):
        click.echo(f"boundaries already built ({gpkg}); nothing to do")
        return
    node_modules = current_app.config["GEOSERVICE_NODE_MODULES"]
    codes = [c.strip() for c in provinces.split(",") if c.strip()] or None
    if not (if_missing and gpkg.exists()):
        result = build(instance, provinces=codes,
                       node_modules=Path(node_modules) if node_modules else None)
        click.echo((instance / "quality.txt").read_text(encoding="utf-8"))
        del result
    if not no_load:
        counts = load_boundaries(store, gpkg)
        click.echo(f"loaded into the store: {json.dumps(counts)}")


@main.command("load-boundaries")
def load_boundaries_command() -> None:
    """Load the built boundaries.gpkg into the store (again)."""
    from flask import current_app

    from geoservice.boundaries.build import GPKG_NAME
    from geoservice.collections import load_boundaries

    gpkg = Path(current_app.instance_path) / GPKG_NAME
    if not gpkg.exists():
        click.echo(f"{gpkg} does not exist: run 'geoservice build-data' first", err=True)
        sys.exit(1)
    counts = load_boundaries(current_app.extensions["geoservice.store"], gpkg)
    click.echo(f"loaded into the store: {json.dumps(counts)}")


@main.command("import")
@click.argument("kind")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--user", default=None, help="Who imports (recorded with every record).")
@click.option("--vn2000-meridian", type=float, default=None,
              help="Coordinates are VN-2000 TM-3 with this central meridian (e.g. 105.5).")
@click.option("--utm-zone", type=click.Choice(["48", "49"]), default=None,
              help="Coordinates are VN-2000 / UTM zone 48N or 49N.")
@click.option("--errors-csv", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the row-level error report to this CSV file.")
def import_command(kind, path, user, vn2000_meridian, utm_zone, errors_csv) -> None:
    """Import a CSV or Excel file of KIND records (all rows, or none when any row is wrong)."""
    import getpass

    from flask import current_app

    from geoservice import audit
    from geoservice.errors import GeoserviceError
    from geoservice.records import parsing
    from geoservice.records.importer import coordinate_options, run_import

    store, data = current_app.extensions["geoservice.store"], path.read_bytes()
    actor = f"cli:{user or getpass.getuser()}"
    try:
        options = coordinate_options(vn2000_meridian, int(utm_zone) if utm_zone else None)
        report = run_import(store, kind, data, path.name, user or getpass.getuser(), **options)
    except GeoserviceError as error:  # the file as a whole cannot be read: nothing written
        audit.import_refused(store, actor, kind, path.name, data, error.message, "local")
        click.echo(f"{path.name}: rejected, nothing was written - {error.message}", err=True)
        sys.exit(2)
    audit.import_report(store, actor, report, data, "local")
    for warning in report.warnings:
        click.echo(f"warning: {warning}")
    if report.status == "applied":
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
        errors_csv.write_bytes(parsing.errors_csv(report.errors))
        click.echo(f"error report written to {errors_csv}", err=True)
    sys.exit(1)


@main.command("demo-data")
@click.option("--seed", default=2025, show_default=True, type=int)
@click.option("--if-empty", is_flag=True, help="Do nothing when the store already holds records.")
def demo_data(seed: int, if_empty: bool) -> None:
    """Load the synthetic demo data set (2022-2025, every record marked synthetic)."""
    from flask import current_app

    from geoservice.records.demo import load_demo
    from geoservice.store.records import RecordQuery

    store = current_app.extensions["geoservice.store"]
    if if_empty and store.query_records("certification", RecordQuery(limit=1)).number_matched:
        click.echo("the store already holds records; demo data not loaded")
        return
    from geoservice.indicators.published import warm

    try:
        outcomes = load_demo(store, seed=seed)
    except ValueError as error:  # no boundaries in the store yet
        click.echo(f"demo data not loaded: {error}", err=True)
        sys.exit(1)
    for kind, outcome in outcomes.items():
        click.echo(f"{kind}: {outcome.inserted} new, {outcome.updated} updated, "
                   f"{outcome.unchanged} unchanged (synthetic)")
    warm(store)  # the latest year's indicators, so the first map and API requests are quick


@main.command("check-layers", with_appcontext=False)
@click.option("--folder", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder of layer files (default: the repository's layers/).")
def check_layers_command(folder) -> None:
    """Check every layers/*.toml; list each problem as 'file: key: message'."""
    from geoservice.layers.catalog import LAYERS_FOLDER, check_layers

    problems = check_layers(folder or LAYERS_FOLDER)
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        sys.exit(1)
    click.echo("All layer files are valid.")


def _tile_job(layer_id: str, zooms: str, bbox: str | None, fmt: str, year, group):
    """The layer, the access decision and the tiles a seeding or export command covers."""
    from flask import current_app

    from geoservice.access import Principal
    from geoservice.api.features import parse_bbox
    from geoservice.api.tiles import layer_for
    from geoservice.render.export import DEFAULT_BBOX, count_tiles, parse_zooms, tile_range

    args = {k: v for k, v in (("year", year), ("group", group)) if v is not None}
    national = Principal(name="command line", authenticated=True, role="admin")
    layer, decision, _year = layer_for(current_app.extensions["geoservice.catalog"], layer_id,
                                       args, national)
    box = parse_bbox(bbox) if bbox else DEFAULT_BBOX
    low, high = parse_zooms(zooms)
    low, high = max(low, layer.minzoom), min(high, layer.maxzoom)
    return layer, decision, box, low, high, tile_range(box, low, high), count_tiles(
        box, low, high)


def _tile_options(command):
    for option in reversed((
            click.argument("layer_id"),
            click.option("--zooms", default="5-10", show_default=True, help="Zoom range a-b."),
            click.option("--bbox", default=None, help="west,south,east,north in degrees "
                                                      "(default: Vietnam)."),
            click.option("--format", "fmt", type=click.Choice(["mvt", "png"]), default="mvt",
                         show_default=True),
            click.option("--year", default=None, help="Indicator year (default: latest)."),
            click.option("--group", default=None, help="Certification group."))):
        command = option(command)
    return command


@main.command("seed-tiles")
@_tile_options
def seed_tiles(layer_id, zooms, bbox, fmt, year, group) -> None:
    """Render a layer's tiles into the tile cache ahead of use, with a progress bar."""
    from flask import current_app

    from geoservice.render.export import render_all

    layer, decision, _box, low, high, tiles, total = _tile_job(layer_id, zooms, bbox, fmt,
                                                               year, group)
    ext = current_app.extensions
    with click.progressbar(length=total, label=f"{layer.id} z{low}-{high}") as bar:
        sizes = [len(data) for *_zxy, data in render_all(
            ext["geoservice.store"], ext["geoservice.sources"], ext["geoservice.tile_cache"],
            layer, decision, tiles, fmt, bar.update)]
    click.echo(f"{len(sizes)} tiles seeded ({sum(1 for s in sizes if s)} not empty, "
               f"largest {max(sizes, default=0) // 1024} KB)")


@main.command("export-tiles")
@_tile_options
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
def export_tiles(layer_id, zooms, bbox, fmt, year, group, output: Path) -> None:
    """Write a layer's tiles into OUTPUT.mbtiles or OUTPUT.pmtiles for offline use."""
    from flask import current_app

    from geoservice.render.export import export_mbtiles, export_pmtiles, render_all

    writers = {".mbtiles": export_mbtiles, ".pmtiles": export_pmtiles}
    if output.suffix not in writers:
        click.echo("OUTPUT must end in .mbtiles or .pmtiles", err=True)
        sys.exit(2)
    layer, decision, box, low, high, tiles, total = _tile_job(layer_id, zooms, bbox, fmt,
                                                              year, group)
    ext = current_app.extensions
    with click.progressbar(length=total, label=f"{layer.id} z{low}-{high}") as bar:
        rendered = render_all(ext["geoservice.store"], ext["geoservice.sources"],
                              ext["geoservice.tile_cache"], layer, decision, tiles, fmt,
                              bar.update)
        written = writers[output.suffix](output, layer, fmt, box, low, high, rendered)
    click.echo(f"{output}: {written} tiles of {layer.id} (z{low}-{high}, {fmt})")


def _period(text: str | None):
    from geoservice.api.features import parse_datetime

    return parse_datetime(text) if text else (None, None)


@main.command("hotspots")
@click.option("--zones", type=click.Choice(["communes", "hex"]), default="communes",
              show_default=True)
@click.option("--size-km", type=float, default=5.0, show_default=True,
              help="Hexagon size (centre to centre).")
@click.option("--category", default=None, help="Incident category (default: all).")
@click.option("--period", default=None, help="Dates a/b, e.g. 2024-01-01/2024-12-31.")
@click.option("--province", default=None, help="Two-digit province code.")
@click.option("--weights", type=click.Choice(["queen", "distance"]), default="queen",
              show_default=True)
@click.option("--distance-km", type=float, default=None)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write every zone as GeoJSON (.geojson) or CSV (.csv).")
def hotspots(zones, size_km, category, period, province, weights, distance_km,
             output) -> None:
    """Getis-Ord Gi* hot spots of incidents, FDR-corrected (restricted data: keep it so)."""
    from flask import current_app

    from geoservice.hotspots.gistar import hotspot_frame

    start, end = _period(period)
    frame = hotspot_frame(current_app.extensions["geoservice.store"], zones, size_km,
                          category, start, end, province, weights=weights,
                          distance_km=distance_km)
    hot = frame[frame["gi_bin"] > 0].sort_values("z", ascending=False)
    cold = int((frame["gi_bin"] < 0).sum())
    click.echo(f"{len(frame)} zones, {int(frame['count'].sum())} incidents; hot: {len(hot)} "
               f"(99 %: {int((frame['gi_bin'] == 3).sum())}), cold: {cold}")
    for _index, row in hot.head(20).iterrows():
        click.echo(f"  {row['zone_id']}  {row.get('name') or ''}  count {int(row['count'])}  "
                   f"z {row['z']:.2f}  bin {int(row['gi_bin'])}")
    if output:
        frame = frame.reset_index(drop="zone_id" in frame.columns)
        if output.suffix == ".csv":
            frame.drop(columns="geometry").to_csv(output, index=False)
        else:
            frame.to_file(output, driver="GeoJSON")
        click.echo(f"written to {output}")


@main.command("kde")
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--category", default=None, help="Incident category (default: all).")
@click.option("--period", default=None, help="Dates a/b, e.g. 2024-01-01/2024-12-31.")
@click.option("--province", default=None, help="Two-digit province code.")
@click.option("--cell-km", type=float, default=1.0, show_default=True)
@click.option("--bandwidth-km", type=float, default=None,
              help="Kernel radius (default: the standard-distance rule).")
def kde(output, category, period, province, cell_km, bandwidth_km) -> None:
    """Kernel density of incidents (per km²) as a Cloud-Optimised GeoTIFF."""
    from flask import current_app

    from geoservice.hotspots import kde as kde_mod
    from geoservice.indicators.compute import records_frame

    start, end = _period(period)
    filters = {k: v for k, v in (("category", category), ("date_from", start),
                                 ("date_to", end), ("province_code", province)) if v}
    frame = records_frame(current_app.extensions["geoservice.store"], "incidents", **filters)
    if len(frame) < 2:
        click.echo("fewer than two incidents match: no density surface", err=True)
        sys.exit(1)
    points = frame[["lon", "lat"]].to_numpy(dtype=float)
    bandwidth = bandwidth_km or kde_mod.bandwidth_km(kde_mod.project_points(points))
    array, transform, crs = kde_mod.density(points, cell_km=cell_km, bandwidth_km=bandwidth)
    kde_mod.write_cog(output, array, transform, crs, {
        "bandwidth_km": f"{bandwidth:.3f}", "category": category or "all",
        "period": period or "all", "province": province or "all",
        "incidents": str(len(frame))})
    click.echo(f"{output}: {array.shape[1]}x{array.shape[0]} cells of {cell_km} km, "
               f"bandwidth {bandwidth:.2f} km, {len(frame)} incidents, peak "
               f"{float(array.max()):.2f} per km²")


@main.group("keys")
def keys() -> None:
    """API keys for other systems and editors (shown once, stored hashed)."""


@keys.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(["viewer", "editor", "admin"]), default="viewer",
              show_default=True)
@click.option("--area", default="national", show_default=True,
              help="'national' or a two-digit province code.")
@click.option("--layers", default=None,
              help="Comma-separated layer ids the key may use (default: every layer).")
def keys_create(name: str, role: str, area: str, layers: str | None) -> None:
    """Create a key for NAME (a system or person) and print it once."""
    from flask import current_app

    from geoservice.auth import create_key
    from geoservice.errors import GeoserviceError

    store = current_app.extensions["geoservice.store"]
    if area != "national" and store.get("provinces", area) is None:
        click.echo(f"area must be 'national' or the code of a province in the store, "
                   f"not {area!r}", err=True)
        sys.exit(2)
    from geoservice.admin_cli import cli_actor, record_change
    from geoservice.collections import COLLECTIONS

    scope = [i.strip() for i in layers.split(",") if i.strip()] if layers else None
    try:
        row, key = create_key(store, name, role, area, created_by=cli_actor(), layers=scope,
                              known_layers=[*current_app.extensions["geoservice.catalog"],
                                            *COLLECTIONS])
    except GeoserviceError as error:
        click.echo(error.message, err=True)
        sys.exit(2)
    record_change("key_create", row["id"], {"name": row["name"], "role": role, "area": area,
                                     "layers": row["layers"]})
    click.echo(f"key {row['id']} for {row['name']} ({role}, {area}); keep it now, it is not "
               f"shown again:\n{key}")


@keys.command("list")
def keys_list() -> None:
    """List the keys (never their secrets)."""
    from flask import current_app

    for row in current_app.extensions["geoservice.store"].api_keys():
        state = f"revoked {row['revoked_at']}" if row["revoked_at"] else "active"
        click.echo(f"{row['id']}  {row['name']}  {row['role']}  "
                   f"{row['province_code'] or 'national'}  created {row['created_at']}  {state}")


@keys.command("revoke")
@click.argument("key_id")
def keys_revoke(key_id: str) -> None:
    """Revoke a key by its id (the part after gsk_ and before the dot)."""
    from flask import current_app

    if not current_app.extensions["geoservice.store"].revoke_api_key(key_id):
        click.echo(f"no active key {key_id}", err=True)
        sys.exit(1)
    from geoservice.admin_cli import record_change

    record_change("key_revoke", key_id)
    click.echo(f"key {key_id} revoked")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Serve the application (Werkzeug's threaded server; gunicorn for production)."""
    from flask import current_app
    from werkzeug.serving import run_simple

    app = current_app._get_current_object()
    click.echo(f"serving on http://{host}:{port}/ (Ctrl+C to stop)")
    run_simple(host, port, app, threaded=True, use_reloader=False)


# Administrators' commands: users, backup, restore, audit export (geoservice/admin_cli.py).
def _add_admin_commands() -> None:
    from geoservice.admin_cli import COMMANDS

    for command in COMMANDS:
        main.add_command(command)


_add_admin_commands()


# --- hot-spot analyses (geoservice.hotspots.runs): the same runs and cache as the API -------

def _analysis_options(command):
    options = (
        ("--category", str, "Incident category (default: all)."),
        ("--period", str, "2024, 2024-Q3 or from/to dates, e.g. 2024-01-01/2024-06-30."),
        ("--province", str, "Two-digit province code."),
        ("--border-neighbor", str, "Only border communes facing CN, LA, KH (or 'any')."),
        ("--border-band", str, "Only communes in a distance band: 0, <=10, <=25, <=50, >50."),
        ("--cell-km", float, "Density: cell size (default 1 km)."),
        ("--bandwidth-km", float, "Density: kernel radius (default: standard-distance rule)."),
        ("--zones", str, "Gi* and emerging: communes (default) or hex."),
        ("--size-km", float, "Hexagon size, centre to centre (default 5 km)."),
        ("--weights", str, "Neighbours: queen (default) or distance."),
        ("--distance-km", float, "Neighbour distance for --weights distance."),
        ("--step", str, "Emerging: quarter (default) or year."),
        ("--output", click.Path(dir_okay=False, path_type=Path),
         "Copy the result (.tif, .geojson) or write the table (.csv) here."))
    for name, kind, text in reversed(options):
        command = click.option(name, type=kind, default=None, help=text)(command)
    return command


def _run_analysis(method: str, options: dict):
    """Run (or find cached) an analysis for the command line, with a progress bar."""
    from flask import current_app

    from geoservice.errors import GeoserviceError
    from geoservice.hotspots import runs
    from geoservice.hotspots.params import parse

    names = {"province": "province_code"}
    args = {names.get(k, k): v for k, v in options.items() if v is not None and k != "output"}
    try:
        params = parse(method, args)
    except GeoserviceError as error:
        click.echo(f"{error.parameter or 'parameter'}: {error.message}", err=True)
        sys.exit(2)
    store = current_app.extensions["geoservice.store"]
    run = runs.registry_for(store).request(store, params, None)
    with click.progressbar(length=100, label=f"{method} {params.key()}") as bar:
        while not run.done.wait(0.2):
            bar.update(run.percent - bar.pos)
        bar.update(100 - bar.pos)
    if run.status != "done":
        click.echo(f"{method} failed: {run.error}", err=True)
        sys.exit(1)
    took = f"computed in {run.seconds} s" if run.seconds is not None else "from the cache"
    click.echo(f"{run.result.path.with_suffix('')}.*: data version {run.data_version}, "
               f"{took}")
    summary = {k: v for k, v in run.result.summary.items() if k not in ("hottest", "rows")}
    click.echo(json.dumps(summary, ensure_ascii=False))
    return run


@main.group("analyses")
def analyses_group() -> None:
    """Hot-spot analyses of incidents, cached in instance/analyses (restricted data)."""


@analyses_group.command("run")
@click.argument("method", type=click.Choice(["density", "gistar", "emerging", "border"]))
@_analysis_options
def analyses_run(method: str, **options) -> None:
    """Run METHOD (density, gistar, emerging, border) as the API does, and report it."""
    import shutil

    run = _run_analysis(method, options)
    output, result = options.get("output"), run.result
    if output is not None and result.file is not None and output.suffix != ".csv":
        shutil.copyfile(result.file, output)
        click.echo(f"written to {output}")
    elif output is not None:
        _write_table(method, result, output)
    for row in result.summary.get("rows", []):
        click.echo(f"  {row['group']:8} {row['value']:5} communes {row['communes']:5}  "
                   f"incidents {row['incidents']:6}  per 100 km² {row['per_100_km2']}  "
                   f"hot {row['hot_communes']}")


@main.command("emerging")
@_analysis_options
def emerging_command(**options) -> None:
    """Emerging hot spots: zones per pattern, per province (--output table.csv)."""
    from flask import current_app

    from geoservice.api import analyses as api

    run = _run_analysis("emerging", {k: v for k, v in options.items()
                                     if k not in ("cell_km", "bandwidth_km")})
    table = api.emerging_table(current_app.extensions["geoservice.store"], run.result)
    for row in table["rows"]:
        found = {k: v for k, v in row.items() if k.endswith(("_hot", "_cold")) and v}
        click.echo(f"  {row['province_code']} {row['province_name']}: {row['zones']} zones "
                   f"{json.dumps(found)}")
    if options.get("output"):
        _write_table("emerging", run.result, options["output"])


def _write_table(method: str, result, output: Path) -> None:
    from flask import current_app

    from geoservice.api import analyses as api

    store = current_app.extensions["geoservice.store"]
    if method == "emerging":
        rows = api.emerging_table(store, result)["rows"]
    elif method == "border":
        rows = result.summary["rows"]
    else:
        rows = [{k: v for k, v in props.items()} for _fid, props, _g in result.features()] \
            if result.file is not None and result.file.suffix == ".geojson" else []
    columns = list(rows[0]) if rows else []
    output.write_bytes(api.csv_bytes(rows, columns))
    click.echo(f"written to {output}")


# Printable reports: `report` and `report-batch` (geoservice/reports/commands.py).
def _add_report_commands() -> None:
    from geoservice.reports.commands import COMMANDS

    for command in COMMANDS:
        main.add_command(command)


_add_report_commands()
