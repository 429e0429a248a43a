"""Layers and their tiles: `geoservice check-layers`, `seed-tiles` and `export-tiles`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from geoservice import services


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


def _tile_job(layer_id: str, zooms: str, bbox: str | None, fmt: str, year, group):
    """The layer, zooms and area a seeding or export command covers, for a national admin."""
    from geoservice.access import Principal
    from geoservice.api.context import RequestContext
    from geoservice.api.export import tile_job

    args = {k: v for k, v in (("year", year), ("group", group)) if v is not None}
    national = Principal(name="command line", authenticated=True, role="admin")
    ctx = RequestContext(services.current(), base="", principal=national)
    return tile_job(ctx, layer_id, args, zooms, bbox, fmt)


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


@click.command("seed-tiles")
@_tile_options
@with_appcontext
def seed_tiles(layer_id, zooms, bbox, fmt, year, group) -> None:
    """Render a layer's tiles into the tile cache ahead of use, with a progress bar."""
    from geoservice.api.export import render_all

    job = _tile_job(layer_id, zooms, bbox, fmt, year, group)
    with click.progressbar(length=job.count(), label=f"{job.layer.id} z{job.low}-{job.high}"
                           ) as bar:
        sizes = [len(data) for *_zxy, data in render_all(services.current(), job, bar.update)]
    click.echo(f"{len(sizes)} tiles seeded ({sum(1 for s in sizes if s)} not empty, "
               f"largest {max(sizes, default=0) // 1024} KB)")


@click.command("export-tiles")
@_tile_options
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def export_tiles(layer_id, zooms, bbox, fmt, year, group, output: Path) -> None:
    """Write a layer's tiles into OUTPUT.mbtiles or OUTPUT.pmtiles for offline use."""
    from geoservice.api.export import export_mbtiles, export_pmtiles, render_all

    writers = {".mbtiles": export_mbtiles, ".pmtiles": export_pmtiles}
    if output.suffix not in writers:
        click.echo("OUTPUT must end in .mbtiles or .pmtiles", err=True)
        sys.exit(2)
    job = _tile_job(layer_id, zooms, bbox, fmt, year, group)
    with click.progressbar(length=job.count(), label=f"{job.layer.id} z{job.low}-{job.high}"
                           ) as bar:
        written = writers[output.suffix](output, job, render_all(services.current(), job,
                                                                 bar.update))
    click.echo(f"{output}: {written} tiles of {job.layer.id} (z{job.low}-{job.high}, {fmt})")


COMMANDS = (check_layers_command, seed_tiles, export_tiles)
