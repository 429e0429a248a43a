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
    # `limit` used when a request gives none (GDAL/OGR clients page with it: 100 keeps an
    # ogr2ogr of the communes to a few dozen requests instead of hundreds).
    "DEFAULT_ITEMS_LIMIT": 100,
    # Largest uploaded file accepted by the import endpoint, in megabytes.
    "MAX_UPLOAD_MB": 20,
    # PostGIS backend: vector tiles of stored boundary layers are made by the database
    # (ST_AsMVT) from this zoom on; below it our encoder on pre-simplified shapes is faster.
    # 0: always the database; 99: never. No effect on the embedded SQLite store.
    "DATABASE_MVT_MIN_ZOOM": 10,
    # Tile cache: "" (files in the instance folder), "none", or a redis:// URL shared by hosts.
    "TILE_CACHE": "",
    # Origins allowed to call the API and tiles from a browser (CORS): "" none, "*" any, or a
    # space-separated list such as "https://portal.example.gov.vn https://gis.example".
    "CORS_ORIGINS": "",
    # Folder of node_modules: npm packages installed at build time (world-atlas, fonts).
    "NODE_MODULES": "",
    # Raster basemap tiles of an internal server for the map page instead of our own basemap
    # layers: "" (none) or a URL with {z}, {x}, {y}, e.g. "https://tiles.intra/{z}/{x}/{y}.png".
    "BASEMAP_URL": "",
    # Anonymous readers may use public layers (true) or everything needs a user or key (false).
    "PUBLIC_ACCESS": True,
    # Signs session cookies and CSRF tokens; empty = generated once into instance/secret_key.
    "SECRET_KEY": "",
    # Send the session cookie only over https (set true when served over https).
    "SESSION_COOKIE_SECURE": False,
    # A sign-in lasts this many hours.
    "SESSION_HOURS": 8,
    # Failed sign-ins in a row that lock an account, and for how many minutes.
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_LOCKOUT_MINUTES": 15,
    # Rate-limit counters: "memory://" (per process) or a redis:// URL shared by every process.
    "RATELIMIT_STORAGE": "memory://",
    # Sign-in attempts per address, and calls of heavy endpoints (imports …) per caller.
    "LOGIN_RATE_LIMIT": "20 per minute",
    "HEAVY_RATE_LIMIT": "30 per minute",
    # Reverse proxies in front of the service that set X-Forwarded-For/-Proto/-Host/-Port/
    # -Prefix (0: none, the headers are ignored; 1: one nginx in front …). Links, tile URLs,
    # rate limits and the audit trail then use the client's scheme, host and address.
    "TRUSTED_PROXIES": 0,
    # The issuing authority named in reports (PDF author, "Cơ quan ban hành"), e.g.
    # "CÔNG AN TỈNH TUYÊN QUANG"; empty: the service's own name.
    "REPORT_ISSUING_AUTHORITY": "",
    # The issuing authority's unit that signs reports (e.g. "PHÒNG THAM MƯU"), under it in
    # the title block; and the place in "…, ngày … tháng … năm …" (empty: the unit's province).
    "REPORT_ISSUING_UNIT": "",
    "REPORT_ISSUING_PLACE": "",
    # Most commune reports one batch may hold (anonymous callers: at most 10 of them).
    "REPORT_BATCH_MAX_UNITS": 60,
    # Logs: "text" (one readable line per record) or "json" (one JSON object per line, for a
    # log collector); and whether every request is logged (method, path, status, duration,
    # request id, principal kind).
    "LOG_FORMAT": "text",
    "REQUEST_LOG": True,
    # Who may read GET /metrics (Prometheus): "local" (callers on this host's loopback, not
    # through a proxy, or a national administrator's key), "admin" (only such a key) or
    # "anyone" (when only the monitoring network reaches the service's port).
    "METRICS_ACCESS": "local",
    # A deployment's own categories file (TOML) extending the shipped catalogue of incident
    # categories, model types, activity types, severities and statuses: new codes, or other
    # labels, aliases and colours for shipped ones (docs/data.md, "Categories"). "" none; a
    # relative path is read from the instance folder. Checked at start.
    "CATEGORIES": "",
}

LOG_FORMATS = ("text", "json")
METRICS_ACCESS = ("local", "admin", "anyone")

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
    _security_settings(config)
    _operations_settings(config)
    config["BASEMAP_URL"] = _basemap_url(config["BASEMAP_URL"])
    config["CATEGORIES"] = _categories_file(config["CATEGORIES"], instance_path)
    for key in ("MAX_ITEMS_LIMIT", "DEFAULT_ITEMS_LIMIT", "MAX_UPLOAD_MB",
                "DATABASE_MVT_MIN_ZOOM", "TRUSTED_PROXIES", "REPORT_BATCH_MAX_UNITS"):
        try:
            config[key] = int(config[key])
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{key} must be a whole number, not {config[key]!r}") from exc
        lowest = 0 if key in ("DATABASE_MVT_MIN_ZOOM", "TRUSTED_PROXIES") else 1
        if config[key] < lowest:
            raise ConfigError(f"{key} must be at least {lowest}")
    return config


def _flag(key: str, value) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{key} must be true or false, not {value!r}")


def _security_settings(config: dict) -> None:
    """Validate the access-control settings in place."""
    from limits import parse_many

    for key in ("PUBLIC_ACCESS", "SESSION_COOKIE_SECURE"):
        config[key] = _flag(key, config[key])
    for key in ("SESSION_HOURS", "LOGIN_MAX_FAILURES", "LOGIN_LOCKOUT_MINUTES"):
        try:
            config[key] = int(config[key])
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{key} must be a whole number, not {config[key]!r}") from exc
        if config[key] < 1:
            raise ConfigError(f"{key} must be at least 1")
    for key in ("LOGIN_RATE_LIMIT", "HEAVY_RATE_LIMIT"):
        try:
            parse_many(str(config[key]))
        except ValueError as exc:
            raise ConfigError(f"{key} must be a rate such as '20 per minute', not "
                              f"{config[key]!r}") from exc
    if not str(config["RATELIMIT_STORAGE"]).startswith(("memory://", "redis://", "rediss://")):
        raise ConfigError("RATELIMIT_STORAGE must be memory:// or a redis:// URL")


def _operations_settings(config: dict) -> None:
    """Validate the logging and metrics settings in place."""
    config["REQUEST_LOG"] = _flag("REQUEST_LOG", config["REQUEST_LOG"])
    for key, allowed in (("LOG_FORMAT", LOG_FORMATS), ("METRICS_ACCESS", METRICS_ACCESS)):
        value = str(config[key]).strip().lower()
        if value not in allowed:
            raise ConfigError(f"{key} must be {' or '.join(allowed)}, not {config[key]!r}")
        config[key] = value


def _basemap_url(value) -> str:
    """Validate BASEMAP_URL: empty, or an http(s) or site-relative URL with {z}, {x}, {y}."""
    url = str(value or "").strip()
    if not url:
        return ""
    if not url.startswith(("http://", "https://", "/")) or url.startswith("//"):
        raise ConfigError(f"BASEMAP_URL must be an http(s):// URL or a path starting with /, "
                          f"not {url!r}")
    missing = [part for part in ("{z}", "{x}", "{y}") if part not in url]
    if missing:
        raise ConfigError(f"BASEMAP_URL must contain {', '.join(missing)} (a tile URL such as "
                          f"https://tiles.example/{{z}}/{{x}}/{{y}}.png), not {url!r}")
    return url


def _categories_file(value, instance_path: Path) -> str:
    """Validate CATEGORIES: empty, or a categories file that extends the shipped catalogue
    without a problem (every problem is listed). Returns the file's absolute path."""
    from geoservice.records import catalogue

    text = str(value or "").strip()
    if not text:
        return ""
    path = Path(text).expanduser()
    path = path if path.is_absolute() else instance_path / path
    if not path.is_file():
        raise ConfigError(f"CATEGORIES: no categories file at {path}")
    problems = catalogue.check(path)
    if problems:
        raise ConfigError(f"CATEGORIES: {path} cannot extend the categories ("
                          f"{len(problems)} problem{'s' if len(problems) > 1 else ''}):\n"
                          + "\n".join(f"  {problem}" for problem in problems))
    return str(path.resolve())
