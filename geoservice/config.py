"""Configuration: defaults -> instance file -> GEOSERVICE_* environment -> test dict.

Validated once when the app is created. Every key is documented in docs/configuration.md
(a test keeps the two in step).
"""

from __future__ import annotations

import os
from pathlib import Path

from geoservice.errors import ConfigError

DEFAULTS: dict[str, object] = {
    # Where the store lives; empty means the embedded SQLite file in the instance folder.
    "DATABASE_URL": "",
    # Largest `limit` accepted by the features API (larger values are clamped).
    "MAX_ITEMS_LIMIT": 1000,
    # `limit` used when a request gives none.
    "DEFAULT_ITEMS_LIMIT": 10,
    # Largest uploaded file accepted by the import endpoint, in megabytes.
    "MAX_UPLOAD_MB": 20,
    # Tile cache: "" (files in the instance folder), "none", or a redis:// URL shared by hosts.
    "TILE_CACHE": "",
    # Origins allowed to call the API and tiles from a browser (CORS): "" none, "*" any, or a
    # space-separated list such as "https://portal.example.gov.vn https://gis.example".
    "CORS_ORIGINS": "",
    # Folder of node_modules: npm packages installed at build time (world-atlas, fonts).
    "NODE_MODULES": "",
}

ENV_PREFIX = "GEOSERVICE_"


def load(instance_path: Path, overrides: dict | None = None) -> dict:
    """Return the validated configuration."""
    config = dict(DEFAULTS)
    instance_file = instance_path / "config.py"
    if instance_file.exists():
        namespace: dict = {}
        exec(compile(instance_file.read_text(), str(instance_file), "exec"), namespace)  # noqa: S102
        config.update({k: v for k, v in namespace.items() if k in DEFAULTS})
    for key in DEFAULTS:
        if ENV_PREFIX + key in os.environ:
            config[key] = os.environ[ENV_PREFIX + key]
    config.update(overrides or {})
    if not config["DATABASE_URL"]:
        config["DATABASE_URL"] = f"sqlite:///{instance_path / 'geoservice.sqlite'}"
    for key in ("MAX_ITEMS_LIMIT", "DEFAULT_ITEMS_LIMIT", "MAX_UPLOAD_MB"):
        try:
            config[key] = int(config[key])
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{key} must be a whole number, not {config[key]!r}") from exc
        if config[key] < 1:
            raise ConfigError(f"{key} must be at least 1")
    return config
