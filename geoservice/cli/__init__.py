"""The `geoservice` command: one click group and the commands registered on it.

The commands live in one module per concern, each with its `COMMANDS`:

* `data`: build-data, load-boundaries, import, demo-data;
* `tiles`: check-layers, seed-tiles, export-tiles;
* `analyses`: analyses run, emerging, and the aliases hotspots and kde;
* `reports`: report, report-batch;
* `admin`: keys, users, backup, restore, audit;
* `serve`: serve.

Options are spelled alike across commands (`geoservice.cli.options`): ``--province CODE``,
``-o/--output PATH``, ``--format``.

Commands reach the app's store, catalogue and caches through `geoservice.services.current()`
and import anything heavy (pandas, GeoPandas, rendering) inside themselves, so that
`geoservice --help` stays quick.
"""

from __future__ import annotations

import logging
import os

import click
from flask.cli import FlaskGroup

from geoservice.cli import admin, analyses, data, reports, serve, tiles


def _create_app():
    from geoservice import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False,
             add_version_option=False)
@click.version_option(package_name="geoservice", message="geoservice %(version)s")
def main() -> None:
    """Geoservice: Vietnam's administrative units, border communes and security-data layers."""
    from geoservice import logs

    # Text until the app is created, which applies LOG_FORMAT (the instance file's too).
    logs.configure(os.environ.get("GEOSERVICE_LOG_FORMAT", "text").strip().lower(),
                   level=logging.INFO)


def _register(group: click.Group) -> None:
    for module in (data, tiles, analyses, reports, admin, serve):
        for command in module.COMMANDS:
            group.add_command(command)


_register(main)
