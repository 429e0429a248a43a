"""geoservice: map layers of Vietnam's administrative units, border communes and security data.

`create_app(config=None)` builds the Flask application; nothing is read or loaded when the
package is imported.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask


def create_app(config: dict | None = None) -> Flask:
    """Create the application (flaskr-style factory); `config` overrides every other source."""
    from geoservice import config as config_mod
    from geoservice.store import open_store
    from geoservice.web import errors, features

    overrides = dict(config or {})
    instance_path = overrides.pop("INSTANCE_PATH", None) or os.environ.get(
        "GEOSERVICE_INSTANCE_PATH")
    app = Flask(__name__, instance_path=str(Path(instance_path).resolve()) if instance_path
                else None, instance_relative_config=True)
    settings = config_mod.load(Path(app.instance_path), overrides)
    app.config.update({f"GEOSERVICE_{k}": v for k, v in settings.items()})
    app.config["JSON_AS_ASCII"] = False
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.extensions["geoservice.store"] = open_store(settings["DATABASE_URL"])
    errors.register(app)
    app.register_blueprint(features.blueprint)
    return app
