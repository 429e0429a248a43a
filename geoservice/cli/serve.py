"""`geoservice serve`: the development server."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def serve(host: str, port: int) -> None:
    """Serve the application (Werkzeug's threaded server; gunicorn for production)."""
    from flask import current_app
    from werkzeug.serving import run_simple

    app = current_app._get_current_object()  # the app itself, not a proxy, for the server
    click.echo(f"serving on http://{host}:{port}/ (Ctrl+C to stop)")
    run_simple(host, port, app, threaded=True, use_reloader=False)


COMMANDS = (serve,)
