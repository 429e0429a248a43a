"""The map page officials use: a folium (Leaflet) map of our layers, served at `/`.

Browsers asking for HTML at `/` (and anyone at `/map`) get the page; the OGC API landing
document stays at `/?f=json` (see `geoservice.web.features.landing`). The page is folium's
map — with its scripts and styles pointing at our own bundles of the npm packages and our
files (`geoservice.web.bundles`: one script of Leaflet and its plugins, one style sheet,
one script of ours from `static/js/`) instead of folium's CDNs (jQuery, Bootstrap and the
icon fonts are dropped: the page needs none of them) — inside our template
`map/page.html`. Every inline `<script>`/`<style>` folium writes is given the request's
CSP nonce here. The legends of the first view come in the page too (`first_legends`), so
that it opens with one composite vector tile and one 512-pixel label tile per place.

What the script needs (layers this reader may see, grouped by theme, years, certification
groups, model types, where tiles, legends, features, search and reports are) is written
into the page as JSON; layer titles come from the layer files in the page's language, the
page's own words from the translation catalogue.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

import folium
from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    make_response,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from markupsafe import Markup

from geoservice import access, services
from geoservice import params as P
from geoservice.api import tile_urls
from geoservice.api.context import VIETNAM_BOUNDS
from geoservice.errors import GeoserviceError, InvalidParameter, SourceMissing
from geoservice.i18n import LANGUAGES, request_language
from geoservice.indicators import published
from geoservice.indicators.names import CERTIFICATION_GROUPS, COMBINED_GROUP, COMBINED_MEMBERS
from geoservice.layers.definition import PARAM_LABELS, THEMES
from geoservice.layers.params import readable_layers, with_params
from geoservice.records import catalogue
from geoservice.reports import labels as report_labels
from geoservice.web.bundles import bundle_url
from geoservice.web.maplegends import first_legends
from geoservice.web.security import _nonce, content_security_policy
from geoservice.web.viewer import node_modules

LOGGER = logging.getLogger(__name__)
blueprint = Blueprint("mappage", __name__)

PAGE_PARAMETERS = ("lang", "year", "f")
# The npm packages the page's scripts come from (joined by geoservice/web/bundles.py).
PACKAGES = ("leaflet", "leaflet.vectorgrid", "leaflet.markercluster")
VISIBLE = ("sea", "countries", "provinces", "communes", "border-lines")
BASEMAP_LAYERS = ("sea", "countries")
DEFAULT_INDICATOR = "certification-rate"
CENTRE, START_ZOOM = (16.0, 106.0), 6
LEVEL_ZOOM = 8  # the "auto" level: provinces below this zoom, communes from it
MIN_ZOOM = 5  # the widest view (the basemap's region fills it: boundaries.basemap.REGION)
REGION = ((0.0, 95.0), (30.0, 120.0))  # south-west, north-east corners the map may pan to
DENSITY_TILES = "/analyses/density/"
PROVINCE_VARIANT = "-province"  # `<layer>-province`: the layer's figures rolled up to provinces
LABELS_LAYER = "labels"  # place and archipelago names as transparent PNG tiles
ARCHIPELAGOS = ("20333", "22736")  # Đặc khu Hoàng Sa, Đặc khu Trường Sa: in every national view
# Codes of record fields that no layer file names: the page shows these words instead.
LANG_COOKIE_AGE = 365 * 24 * 3600
_TAG = re.compile(r"<(script|style)(?=[\s>])", re.IGNORECASE)
_VIEWPORT = re.compile(r"<meta\s+name=\"viewport\"[^>]*>", re.IGNORECASE | re.DOTALL)
_REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)


@blueprint.get("/map")
@access.public
def map_view():
    """The map page (also what a browser gets at `/`)."""
    return map_page()


def map_page() -> Response:
    """Render the map page for the current request (its errors are the HTML error page:
    `geoservice.web.errors.PAGE_ENDPOINTS`)."""
    lang = request_language()
    years = _store().record_years("certification")
    year = _parse_page_args(request.args, years)
    page = _render(lang, year, years)
    page.vary.update(("Accept", "Cookie"))
    chosen = request.args.get("lang")
    if chosen in LANGUAGES and request.cookies.get("lang") != chosen:
        page.set_cookie("lang", chosen, max_age=LANG_COOKIE_AGE, samesite="Lax",
                        secure=request.is_secure)
    return page


def prepare_first_layers(app) -> list[str]:
    """Prepare the layers the map draws on opening (its default layers and indicator of the
    latest year) in this process, so that the first officials to open the map after a start
    do not wait seconds for them; returns their ids. Run by each gunicorn worker on start
    (geoservice/gunicorn_conf.py), beside requests: a request for a layer being prepared
    waits for that preparation instead of repeating it."""
    current = services.of(app)
    store, sources, catalog = current.store, current.sources, current.catalog
    layers = [catalog[layer_id] for layer_id in VISIBLE]
    year = published.indicator_year(store, None)
    if year is not None:
        layers.append(with_params(catalog[DEFAULT_INDICATOR], year))
    done = []
    for layer in layers:
        try:
            sources.get(store, layer)
            done.append(layer.id)
        except Exception:  # a start must not fail on data; the request will say why
            LOGGER.exception("could not prepare layer %s on start", layer.id)
    return done


def _parse_page_args(args, years: list[int]) -> int | None:
    P.known(args, PAGE_PARAMETERS)
    P.LANG.get(args)
    if args.get("f") not in (None, "html"):
        raise InvalidParameter("The map page is HTML: f=html, or ?f=json at / for the API.",
                               parameter="f")
    if args.get("year") is None:
        return years[-1] if years else None
    return published.indicator_year(_store(), args["year"])


def _store():
    return services.current().store


def _render(lang: str, year: int | None, years: list[int]) -> Response:
    missing = [package for package in PACKAGES if not (node_modules() / package).is_dir()]
    if missing:
        raise SourceMissing(f"The map's scripts are not installed: npm package {missing[0]} "
                            "(run `npm ci` in the project folder).",
                            detail=f"looked in {node_modules()}")
    catalog = services.current().catalog
    basemap = services.current().settings["BASEMAP_URL"]
    map_parts = folium_parts(basemap, lang)
    config = page_config(catalog, lang, year, years, basemap, map_parts["name"])
    html = render_template("map/page.html", lang=lang, config=config,
                           themes=_themes(config["layers"], lang), map_parts=map_parts,
                           scripts=bundle_url("map.js"))
    response = make_response(html)
    origin = _origin(basemap)
    if origin:  # the internal basemap server's tiles are images from elsewhere
        policy = content_security_policy(_nonce()).replace(
            "img-src 'self'", f"img-src 'self' {origin}")
        response.headers["Content-Security-Policy"] = policy
    return response


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


# --- folium ---------------------------------------------------------------------------------

def folium_parts(basemap: str, lang: str) -> dict:
    """Folium's map as the page's parts: header (links, styles), html (the map's div) and
    script (creating the map), with our asset URLs and the CSP nonce; and the map's name."""
    fmap = folium.Map(location=CENTRE, zoom_start=START_ZOOM, tiles=None,
                      max_zoom=16, zoom_control=False, control_scale=True, max_bounds=True,
                      min_lat=REGION[0][0], min_lon=REGION[0][1], max_lat=REGION[1][0],
                      max_lon=REGION[1][1], position="absolute", font_size="0.9rem",
                      fade_animation=False)  # tiles of the last zoom go as soon as all loaded
    # Leaflet and its plugins in one script, their styles and ours in one sheet.
    fmap.default_js = [("geoservice_map_vendor", bundle_url("map-vendor.js"))]
    fmap.default_css = [("geoservice_map_css", bundle_url("map.css"))]
    if basemap:
        folium.TileLayer(tiles=basemap, attr=_("Internal basemap"), name="basemap",
                         max_zoom=19, max_native_zoom=18).add_to(fmap)
    figure = fmap.get_root()
    figure.render()
    nonce = _nonce()
    header = _VIEWPORT.sub("", figure.header.render())  # ours lets people zoom the page
    parts = {"header": _with_nonce(header, nonce), "html": figure.html.render(),
             "script": figure.script.render()}
    for part in ("header", "html"):
        for reference in _REFERENCE.findall(parts[part]):
            if not reference.startswith("/") or reference.startswith("//"):
                raise SourceMissing("The map page would load a file from elsewhere.",
                                    detail=f"folium {part} references {reference}")
    return {**{k: Markup(v) for k, v in parts.items()}, "name": fmap.get_name()}


def _with_nonce(html: str, nonce: str) -> str:
    """Give every <script> and <style> tag of `html` the CSP nonce."""
    return _TAG.sub(lambda m: f'<{m.group(1)} nonce="{nonce}"', html)


# --- what the script needs ---------------------------------------------------------------------

def page_config(catalog: dict, lang: str, year: int | None, years: list[int], basemap: str,
                map_name: str) -> dict:
    """The page's settings for static/js/map.js (JSON in the page)."""
    store, root = _store(), request.script_root
    layers = [_layer(catalog[i], lang, basemap, catalog)
              for i in readable_layers(catalog, g.principal)]
    urls = {"tiles": url_for("tiles.layers"), "search": url_for("search.search"),
            "collections": f"{root}/collections", "reports": f"{root}/reports",
            "page": url_for("mappage.map_view"), **_optional_routes(root)}
    return {
        "map": map_name, "lang": lang, "year": year, "years": years,
        "bounds": national_bounds(store), "basemap": bool(basemap),
        "layers": layers, "indicator": DEFAULT_INDICATOR if any(
            layer["id"] == DEFAULT_INDICATOR for layer in layers) else None,
        "groups": [{"value": group, "label": PARAM_LABELS[group][lang == "en"]}
                   for group in CERTIFICATION_GROUPS],
        "combined_group": COMBINED_GROUP, "combined_members": list(COMBINED_MEMBERS),
        "model_types": _model_types(catalog, lang),
        "density": _density(catalog),
        "notice": published.synthetic_notice(store),
        "may_read_cooperation": _may_read(catalog, "cooperation"),
        "points_limit": min(500, services.current().settings["MAX_ITEMS_LIMIT"]),
        "items_limit": services.current().settings["MAX_ITEMS_LIMIT"],
        "login": _login_url(), "user": _user(), "start": g.principal.province_code,
        "labels": code_labels(catalog, lang),
        "overlay": LABELS_LAYER if LABELS_LAYER in catalog and any(
            layer["id"] == LABELS_LAYER for layer in layers) else None,
        "urls": urls, "level_zoom": LEVEL_ZOOM, "min_zoom": MIN_ZOOM, "inset": _inset(urls),
        "legends": first_legends(layers, lang, year, urls["tiles"], (
            DEFAULT_INDICATOR, DEFAULT_INDICATOR + PROVINCE_VARIANT)),
    }


def _inset(urls: dict) -> dict | None:
    """Where and when the page shows the archipelagos' inset: its image, their islands
    (lon, lat), the area a click frames, and the widest zoom it shows at (below the
    commune zooms: the views of the country or a region)."""
    from geoservice.reports.map_inset import INSET_AREA, ISLANDS

    if "inset" not in urls:
        return None
    return {"url": urls["inset"], "islands": [p for key in ISLANDS for p in ISLANDS[key]],
            "area": list(INSET_AREA.bounds), "max_zoom": LEVEL_ZOOM - 1}


def national_bounds(store) -> list[float]:
    """The national view's frame: the mainland and both archipelagos (where the store has
    their outlines)."""
    west, south, east, north = VIETNAM_BOUNDS
    for code in ARCHIPELAGOS:
        found = store.get("communes", code)
        if found and found[2] is not None and not found[2].is_empty:
            w, s, e, n = found[2].bounds
            west, south, east, north = min(west, w), min(south, s), max(east, e), max(north, n)
    return [west, south, east, north]


# The record fields whose codes the categories catalogue names (a layer's legend first).
VOCABULARY_FIELDS = {"category": "incident_category", "activity_type": "activity_type",
                     "model_type": "model_type", "severity": "severity",
                     "status": "model_status"}


def code_labels(catalog: dict, lang: str) -> dict:
    """The words for the codes records hold, in `lang`: {"fields": {field: {code: label}},
    "layers": {layer id: {field: {code: label}}}} (a layer's own legend first). The one place
    the page reads these names."""
    countries = {code: str(_(str(text))) for code, text in report_labels.COUNTRIES.items()}
    fields = {field: {term.code: term.label(lang) for term in catalogue.vocabulary(name)}
              for field, name in VOCABULARY_FIELDS.items()}
    fields.update(partner_country=countries, border_neighbors=dict(countries))
    fields["partner_locality"] = {name: report_labels.partner_name(name, lang)
                                  for name in report_labels.PARTNER_LOCALITIES_VI}
    by_layer = {}
    for layer in catalog.values():
        if layer.style.kind == "categorical" and layer.style.property:
            entries = layer.legend(lang)["entries"]
            by_layer[layer.id] = {layer.style.property: {
                str(e["value"]): e["label"] for e in entries if e["role"] == "category"}}
    return {"fields": fields, "layers": by_layer}


def _user() -> dict | None:
    """Who is signed in (name, and whether a session can be ended here)."""
    principal = g.principal
    if not principal.authenticated:
        return None
    name = principal.ident if principal.kind == "user" else principal.name
    return {"name": name, "province": principal.province_code,
            "logout": principal.kind == "user" and "auth.logout" in current_app.view_functions}


def _optional_routes(root: str) -> dict:
    """Routes the page uses when the service has them (clusters, map image)."""
    rules = {rule.rule for rule in current_app.url_map.iter_rules()}
    found = {}
    if "/map/inset.png" in rules:
        found["inset"] = f"{root}/map/inset.png"
    if "/collections/<collection_id>/clusters" in rules:
        found["clusters"] = f"{root}/collections/{{id}}/clusters"
    for fmt in ("png", "pdf"):
        if f"/map/image.{fmt}" in rules:
            found[f"image_{fmt}"] = f"{root}/map/image.{fmt}"
    return found


def _login_url() -> str | None:
    """Where an anonymous reader signs in to see restricted layers (when sign-in exists)."""
    if g.principal.authenticated or "auth.login" not in current_app.view_functions:
        return None
    return url_for("auth.login", next=url_for("mappage.map_view"))


def _layer(layer, lang: str, basemap: str, catalog: dict) -> dict:
    kind = ("overlay" if layer.id == LABELS_LAYER else "indicator" if layer.source.indicator
            else "points" if layer.geometry == "point" else "vector")
    visible = layer.id in VISIBLE and not (basemap and layer.id in BASEMAP_LAYERS)
    params = {k: v for k, v in layer.params.items() if k != "year"}
    base = layer.id[:-len(PROVINCE_VARIANT)] if layer.id.endswith(PROVINCE_VARIANT) else None
    return {"id": layer.id, "title": layer.title(lang), "theme": layer.theme, "kind": kind,
            "geometry": layer.geometry, "restricted": layer.restricted,
            "minzoom": layer.minzoom, "maxzoom": layer.maxzoom, "order": layer.order,
            "params": params, "choosable": _choosable(layer, params),
            "base": base if base in catalog else None,
            "collection": layer.source.collection, "popup": list(layer.popup),
            "property": layer.style.property, "visible": visible,
            "analysis": bool(layer.source.analysis),
            # Public vector tiles at their versioned, immutable URL (nginx may serve them).
            "tiles": (None if kind == "overlay"
                      else tile_urls.tiles_base(services.current(), "", layer))}


def _choosable(layer, params: dict) -> list[str]:
    """The parameters the reader picks for this layer: those its title names
    (`{group_label}`), and those whose values titles cannot name; a parameter its title
    could name but does not is fixed by the layer (e.g. the commune-level units' group)."""
    title = layer.templates[3] or layer.titles
    named = " ".join(title.get(lang) or "" for lang in LANGUAGES)
    return [name for name, value in params.items()
            if f"{{{name}_label}}" in named or value not in PARAM_LABELS]


def _themes(layers: list[dict], lang: str) -> list[dict]:
    """The layer control's groups: each theme with its layers (indicators apart)."""
    return [{"id": theme, "title": titles[lang],
             "layers": [layer for layer in layers if layer["theme"] == theme]}
            for theme, titles in THEMES.items()
            if any(layer["theme"] == theme for layer in layers)]


def _model_types(catalog: dict, lang: str) -> list[dict]:
    types = [{"value": "any", "label": _("Any type")}]
    if "model-points" in catalog:
        types += [{"value": entry["value"], "label": entry["label"]}
                  for entry in catalog["model-points"].legend(lang)["entries"]
                  if entry["role"] == "category"]
    return types


def _may_read(catalog: dict, layer_id: str) -> bool:
    layer = catalog.get(layer_id)
    if layer is None:
        return False
    try:
        access.decide(g.principal, layer)
    except GeoserviceError:
        return False
    return True


def _density(catalog: dict) -> dict | None:
    """The incident-density overlay, when that analysis is served and this reader may see it."""
    rules = {rule.rule for rule in current_app.url_map.iter_rules()}
    tiles = next((r for r in sorted(rules) if r.startswith(DENSITY_TILES)
                  and r.endswith(".png") and r.count("<") == 3), None)
    if tiles is None or not _may_read(catalog, "incidents"):
        return None
    root = request.script_root
    template = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", tiles)
    legend = f"{DENSITY_TILES}legend.json"
    return {"tiles": root + template, "title": _("Density of incidents"),
            "legend": root + legend if legend in rules else None}
