"""Layers and their tiles: `geoservice check-layers`, `seed-tiles` and `export-tiles`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from geoservice import services
from geoservice.cli.options import output_option


@click.command("check-layers")
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


# Layer parameters (option, parameter name, help): the indicator layers' own, then the
# analysis layers' (`geoservice.cli.analyses.OPTIONS`, e.g. --province for province_code).
LAYER_OPTIONS = (
    ("--year", "year", str, "Indicator year, or the records' year (default: latest)."),
    ("--group", "group", str, "Certification group (certification-rate layers)."),
    ("--model-type", "model_type", str, "Model type (model-coverage layers)."),
)


def _layer_args(options: dict) -> dict:
    """The layer parameters given, by their API names."""
    from geoservice.cli.analyses import OPTIONS

    names = [name for _o, name, _k, _h in (*LAYER_OPTIONS, *OPTIONS)]
    return {name: str(options[name]) for name in names if options.get(name) is not None}


def _tile_job(layer_id: str, zooms: str, bbox: str | None, fmt: str, options: dict):
    """The layer, zooms and area a seeding or export command covers, for a national admin."""
    from geoservice.access import Principal
    from geoservice.api.context import RequestContext
    from geoservice.api.export import tile_job
    from geoservice.errors import GeoserviceError
    from geoservice.layers.params import accepted

    national = Principal(name="command line", authenticated=True, role="admin")
    current = services.current()
    ctx = RequestContext(current, base="", principal=national)
    try:
        return tile_job(ctx, layer_id, _layer_args(options), zooms, bbox, fmt)
    except GeoserviceError as error:
        click.echo(f"{error.parameter or 'parameter'}: {error.message}", err=True)
        layer = current.catalog.get(layer_id)
        if layer is not None:
            takes = ", ".join(f"--{name.replace('_code', '').replace('_', '-')}"
                              for name in accepted(layer)) or "no parameter"
            click.echo(f"layer {layer_id} takes: {takes}", err=True)
        sys.exit(2)


def _tile_options(command):
    from geoservice.cli.analyses import OPTIONS

    for option, name, kind, text in reversed((*LAYER_OPTIONS, *OPTIONS)):
        command = click.option(option, name, type=kind, default=None,
                               help=f"Layer parameter: {text}")(command)
    for option in reversed((
            click.argument("layer_id"),
            click.option("--zooms", default="5-10", show_default=True, help="Zoom range a-b."),
            click.option("--bbox", default=None, help="west,south,east,north in degrees "
                                                      "(default: Vietnam)."),
            click.option("--format", "fmt", type=click.Choice(["mvt", "png"]), default="mvt",
                         show_default=True))):
        command = option(command)
    return command


def _progress(job):
    return click.progressbar(length=job.count(), label=f"{job.layer.id} z{job.low}-{job.high}")


@click.command("seed-tiles")
@_tile_options
@with_appcontext
def seed_tiles(layer_id, zooms, bbox, fmt, **options) -> None:
    """Render a layer's tiles into the tile cache ahead of use, with a progress bar.

    Layer parameters (--year, --group, --model-type, and the analysis parameters of an
    analysis layer) choose which variant of the layer is seeded.
    """
    from geoservice.api.export import render_all

    job = _tile_job(layer_id, zooms, bbox, fmt, options)
    with _progress(job) as bar:
        sizes = [len(data) for *_zxy, data in render_all(services.current(), job, bar.update)]
    click.echo(f"{len(sizes)} tiles seeded ({sum(1 for s in sizes if s)} not empty, "
               f"largest {max(sizes, default=0) // 1024} KB)")


@click.command("export-tiles")
@_tile_options
@output_option("The file to write: .mbtiles or .pmtiles.", positional=True)
@with_appcontext
def export_tiles(layer_id, zooms, bbox, fmt, output: Path, **options) -> None:
    """Write a layer's tiles into an .mbtiles or .pmtiles file (-o) for offline use."""
    from geoservice.api.export import export_mbtiles, export_pmtiles, render_all

    writers = {".mbtiles": export_mbtiles, ".pmtiles": export_pmtiles}
    if output.suffix not in writers:
        click.echo("--output must end in .mbtiles or .pmtiles", err=True)
        sys.exit(2)
    job = _tile_job(layer_id, zooms, bbox, fmt, options)
    with _progress(job) as bar:
        written = writers[output.suffix](output, job, render_all(services.current(), job,
                                                                 bar.update))
    click.echo(f"{output}: {written} tiles of {job.layer.id} (z{job.low}-{job.high}, {fmt})")


COMMANDS = (check_layers_command, seed_tiles, export_tiles)
