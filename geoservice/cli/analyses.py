"""Hot-spot analyses: `geoservice analyses run`, `emerging`, and the aliases `hotspots`, `kde`.

Every one of them goes through `run_analysis`: the options are validated by
`geoservice.hotspots.params.parse` (as the API's query strings are), and the analysis is
run or found by the app's run registry and result cache (``services.analysis_runs``,
``instance/analyses``), the API's own, so a command and a request with the same settings
share one result. The options' Python names are the parameters' own names (``--province``
is ``province_code``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from geoservice import services
from geoservice.cli.options import output_option
from geoservice.hotspots.params import ACCEPTED, METHODS

# (option, parameter of geoservice.hotspots.params, type, help)
OPTIONS = (
    ("--category", "category", str, "Incident category (default: all)."),
    ("--period", "period", str, "2024, 2024-Q3 or from/to dates, e.g. 2024-01-01/2024-06-30."),
    ("--province", "province_code", str, "Two-digit province code."),
    ("--border-neighbor", "border_neighbor", str,
     "Only border communes facing CN, LA, KH (or 'any')."),
    ("--border-band", "border_band", str,
     "Only communes in a distance band: 0, <=10, <=25, <=50, >50."),
    ("--cell-km", "cell_km", float, "Density: cell size (default 1 km)."),
    ("--bandwidth-km", "bandwidth_km", float,
     "Density: kernel radius (default: standard-distance rule)."),
    ("--zones", "zones", str, "Gi* and emerging: communes (default) or hex."),
    ("--size-km", "size_km", float, "Hexagon size, centre to centre (default 5 km)."),
    ("--weights", "weights", str, "Neighbours: queen (default) or distance."),
    ("--distance-km", "distance_km", float, "Neighbour distance for --weights distance."),
    ("--step", "step", str, "Emerging: quarter (default) or year."),
)
OUTPUT_HELP = "Copy the result (.tif, .geojson) or write the table (.csv) here."


def analysis_options(method: str | None = None, output: bool = True):
    """Add the options of `method`'s parameters (every method's when None) and --output."""
    accepted = ACCEPTED[method] if method else {name for m in METHODS for name in ACCEPTED[m]}

    def decorate(command):
        if output:
            command = output_option(OUTPUT_HELP, required=False)(command)
        for option, name, kind, text in reversed(OPTIONS):
            if name in accepted:
                command = click.option(option, name, type=kind, default=None,
                                       help=text)(command)
        return command

    return decorate


def run_analysis(method: str, options: dict):
    """Run (or find cached) an analysis for the command line, with a progress bar."""
    from geoservice.errors import GeoserviceError
    from geoservice.hotspots.params import parse

    args = {k: v for k, v in options.items() if v is not None and k != "output"}
    try:
        params = parse(method, args)
    except GeoserviceError as error:
        click.echo(f"{error.parameter or 'parameter'}: {error.message}", err=True)
        sys.exit(2)
    current = services.current()
    run = current.analysis_runs.request(current.store, params, None)
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


def run_and_report(method: str, options: dict) -> None:
    """What `analyses run METHOD` does: run, print the summary, write --output if given."""
    import shutil

    run = run_analysis(method, options)
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


def _write_table(method: str, result, output: Path) -> None:
    from geoservice.api import analyses as api

    if method == "emerging":
        rows = api.emerging_table(services.current().store, result)["rows"]
    elif method == "border":
        rows = result.summary["rows"]
    else:
        rows = [{k: v for k, v in props.items()} for _fid, props, _g in result.features()] \
            if result.file is not None and result.file.suffix == ".geojson" else []
    columns = list(rows[0]) if rows else []
    output.write_bytes(api.csv_bytes(rows, columns))
    click.echo(f"written to {output}")


@click.group("analyses")
def analyses_group() -> None:
    """Hot-spot analyses of incidents, cached in instance/analyses (restricted data)."""


@analyses_group.command("run")
@click.argument("method", type=click.Choice(METHODS))
@analysis_options()
@with_appcontext
def analyses_run(method: str, **options) -> None:
    """Run METHOD (density, gistar, emerging, border) as the API does, and report it."""
    run_and_report(method, options)


@click.command("hotspots")
@analysis_options("gistar")
@with_appcontext
def hotspots(**options) -> None:
    """Alias of `analyses run gistar`: Gi* hot spots of incidents, FDR-corrected.

    `geoservice hotspots …` is `geoservice analyses run gistar …`: the same options,
    checks, cached result and output (--output zones.geojson or zones.csv). Restricted
    data: keep it so.
    """
    run_and_report("gistar", options)


@click.command("kde")
@output_option("The Cloud-Optimised GeoTIFF to write (.tif).", positional=True)
@analysis_options("density", output=False)
@with_appcontext
def kde(output: Path, **options) -> None:
    """Alias of `analyses run density -o OUTPUT`: kernel density of incidents.

    `geoservice kde -o OUTPUT …` is `geoservice analyses run density -o OUTPUT …`:
    the Cloud-Optimised GeoTIFF of incidents per km², with the same options, checks and
    cached result.
    """
    run_and_report("density", {**options, "output": output})


@click.command("emerging")
@analysis_options()
@with_appcontext
def emerging_command(**options) -> None:
    """Emerging hot spots: zones per pattern, per province (--output table.csv)."""
    from geoservice.api import analyses as api

    run = run_analysis("emerging", {k: v for k, v in options.items()
                                    if k not in ("cell_km", "bandwidth_km")})
    table = api.emerging_table(services.current().store, run.result)
    for row in table["rows"]:
        found = {k: v for k, v in row.items() if k.endswith(("_hot", "_cold")) and v}
        click.echo(f"  {row['province_code']} {row['province_name']}: {row['zones']} zones "
                   f"{json.dumps(found)}")
    if options.get("output"):
        _write_table("emerging", run.result, options["output"])


COMMANDS = (analyses_group, hotspots, kde, emerging_command)
