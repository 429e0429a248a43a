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
    from geoservice import i18n, resources
    from geoservice import services as services_mod
    from geoservice.layers.catalog import load_catalog
    from geoservice.layers.sourcecache import SourceCache
    from geoservice.render.tilecache import open_cache
    from geoservice.store import open_store
    from geoservice.web import errors, features, imports, security, tiles, viewer
    from geoservice.web.jsonio import OrjsonProvider

    overrides = dict(config or {})
    instance_path = overrides.pop("INSTANCE_PATH", None) or os.environ.get(
        "GEOSERVICE_INSTANCE_PATH")
    app = Flask(__name__, instance_path=str(Path(instance_path).resolve()) if instance_path
                else None, instance_relative_config=True,
                static_folder=str(resources.STATIC_FOLDER))
    settings = config_mod.load(Path(app.instance_path), overrides)
    app.config.update({f"GEOSERVICE_{k}": v for k, v in settings.items()})
    app.config["JSON_AS_ASCII"] = False
    app.json = OrjsonProvider(app)
    app.config["MAX_CONTENT_LENGTH"] = settings["MAX_UPLOAD_MB"] * 1024 * 1024
    from geoservice.web.publicfiles import PublicTileFiles

    app.wsgi_app = PublicTileFiles(app, app.wsgi_app)  # kept public tiles, as nginx would
    if settings["TRUSTED_PROXIES"]:  # the client's scheme, host and address, as the proxy saw
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = settings["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops,
                                x_port=hops, x_prefix=hops)
    # The categories catalogue first: the layer catalogue's legends are drawn from it.
    from geoservice.records import catalogue

    catalogue.install(settings["CATEGORIES"] or None)
    store = open_store(settings["DATABASE_URL"])
    store.mvt_min_zoom = settings["DATABASE_MVT_MIN_ZOOM"]
    app.extensions[services_mod.EXTENSION] = services_mod.Services(
        settings=settings, instance_path=Path(app.instance_path), store=store,
        catalog=load_catalog(),  # validated now, not on a request
        sources=SourceCache(),
        tile_cache=open_cache(settings["TILE_CACHE"], Path(app.instance_path)))
    i18n.init_app(app)
    security.init_app(app)
    errors.register(app)
    from geoservice import logs

    logs.init_app(app)  # request id and timing first: even refused requests are logged
    app.before_request(_identify)
    from geoservice.web import admin, auth, guard

    guard.init_app(app)  # sessions, CSRF, rate limits: after _identify knows the caller
    app.register_blueprint(auth.blueprint)
    app.register_blueprint(admin.blueprint)
    app.after_request(_cors)
    app.register_blueprint(features.blueprint)
    app.register_blueprint(imports.blueprint)
    app.register_blueprint(tiles.blueprint)
    app.register_blueprint(viewer.blueprint)
    from geoservice.web import bundles, mappage, search

    app.register_blueprint(bundles.blueprint)
    app.register_blueprint(mappage.blueprint)
    app.register_blueprint(search.blueprint)
    from geoservice.web import mapimage, reports

    app.register_blueprint(reports.blueprint)
    app.register_blueprint(mapimage.blueprint)
    from geoservice.web import analyses, catalogue, health

    app.register_blueprint(catalogue.blueprint)  # installs the categories catalogue
    app.register_blueprint(analyses.blueprint)
    app.register_blueprint(health.blueprint)
    from geoservice.web import metrics

    metrics.init_app(app)  # GET /metrics and the per-request counts
    return app


def _identify():
    """Decide once per request who is asking (an API key, a signed-in user or anonymous)
    and whether the route admits them (geoservice.web.guard)."""
    from geoservice.web.guard import identify

    return identify()


def _cors(response):
    """Allow the configured browser origins to read our API and tiles (CORS)."""
    from flask import current_app, request

    allowed = current_app.config["GEOSERVICE_CORS_ORIGINS"].split()
    origin = request.headers.get("Origin")
    if allowed and "*" not in allowed:  # the answer depends on the origin: caches must know
        response.vary.add("Origin")
    if origin and ("*" in allowed or origin in allowed):
        response.headers["Access-Control-Allow-Origin"] = "*" if "*" in allowed else origin
        response.headers["Access-Control-Allow-Headers"] = "X-API-Key, Authorization"
        response.headers["Access-Control-Expose-Headers"] = "ETag"
    return response
