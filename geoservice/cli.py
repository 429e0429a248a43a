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
