"""Everything a report template needs, gathered once: figures, map, charts and texts.

Runs inside the app's request context (the CLI makes one), where Flask-Babel's language
is the report's: words drawn into the map and charts are translated here, the rest in
the templates. The access decision is made by `restricted.scopes` with the principal
given, so the CLI and the web use the same rule.
"""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from flask_babel import gettext as _

from geoservice.access import Principal
from geoservice.layers.params import with_params
from geoservice.records.kinds import KINDS
from geoservice.reports import charts, labels
from geoservice.reports.content import KEY_GROUPS, provenance, public_figures
from geoservice.reports.format import Formatter
from geoservice.reports.heading import heading
from geoservice.reports.maps import MapSpec, unit_map
from geoservice.reports.pages import PAGES
from geoservice.reports.reads import ReportReads
from geoservice.reports.restricted import SECTIONS, restricted_figures
from geoservice.reports.units import ReportRequest, Unit

if TYPE_CHECKING:
    from geoservice.services import Services

SERVICE_AUTHOR = "geoservice"
# The issuing authority ("CÔNG AN TỈNH …"), when the deployment names one (a setting of
# geoservice.config); without it the PDF's author is the service.
AUTHORITY_SETTING = "REPORT_ISSUING_AUTHORITY"
KEEP_ROWS = 45  # a compact table of up to this many rows fits on one A4 page
TAIL_ROWS = 20  # a long table's last rows, kept together on the page they end on
SECTION_OF = {collection: section for section, collection in SECTIONS.items()}


def unit_label(unit: Unit, catalog: dict, lang: str) -> str:
    """The unit as titles name it: 'Tỉnh Tuyên Quang', 'Lũng Cú Commune', a border line."""
    if unit.kind == "border":
        entry = next(e for e in catalog["border-lines"].style.classes if e.value == unit.code)
        return entry.label.get(lang)
    return unit.full_name if lang == "vi" else unit.english_name()


def kind_label(unit: Unit) -> str:
    """What kind of report it is, translated."""
    if unit.kind == "border":
        return _("Border sector: the communes facing %(country)s",
                 country=_(labels.COUNTRIES[unit.code]))
    if unit.kind == "province":
        return _("Province report")
    return _("Commune report (%(province)s)", province=unit.province_name or "")


def report_context(services: Services, request: ReportRequest, principal: Principal,
                   map_scale: float = 2.0, reads: ReportReads | None = None) -> dict:
    """Gather the template context of one report.

    `reads` keeps the store's answers across the reports of a batch (default: this
    report's own).
    """
    store, catalog, node_modules = services.store, services.catalog, services.node_modules
    unit, year, lang = request.unit, request.year, request.lang
    fmt = Formatter(lang)
    reads = reads or ReportReads(store)
    public = public_figures(reads, unit, year)
    restricted = restricted_figures(reads, unit, year, principal, with_data=public.has_data)
    label = unit_label(unit, catalog, lang)
    page = PAGES[request.options.page]
    orientation = "portrait" if unit.kind == "commune" else "landscape"
    spec = MapSpec(unit, year, lang, orientation, map_scale, classify=public.has_data,
                   node_modules=node_modules, magnify=page.magnify(orientation))
    report_map = unit_map(store, catalog, spec, restricted.hot_spot_features, map_texts(label))
    layer = with_params(catalog["certification-rate"], year=year)
    source = provenance(store)
    authority = (services.settings.get(AUTHORITY_SETTING) or "").strip()
    return {
        **metadata(authority),
        "lang": lang, "fmt": fmt, "unit": unit, "year": year, "unit_label": label,
        "kind_label": kind_label(unit),
        "title": _("Security and order report: %(unit)s", unit=label),
        "issued": fmt.date(source["issued"]), "page": page,
        "heading": heading(services.settings, authority, _province_name(
            store, unit.province_code) if unit.province_code else None, request.options,
            date.fromisoformat(source["issued"])),
        "class_limits": class_limits(layer.style),
        "keep_rows": KEEP_ROWS, "tail_rows": TAIL_ROWS,
        "provenance": source, "kinds": KINDS, "labels": labels,
        "imports": [entry for entry in source["imports"] if entry["kind"] not in SECTION_OF
                    or restricted.scopes[SECTION_OF[entry["kind"]]].allowed],
        "public": public, "restricted": restricted,
        "omitted": _omitted(store, restricted, lang),
        "area_note": _area_note(store, unit, restricted),
        "reader": _reader(store, principal),
        "map": report_map, "map_png": _data_uri(report_map.png) if report_map else None,
        "legends": [(_data_uri(png), width, height) for png, width, height
                    in report_map.legends] if report_map else [],
        "map_layer_title": layer.title(lang),
        "charts": _charts(public, unit, layer, fmt) if public.has_data else {},
        "key_groups": KEY_GROUPS,
        "hot_spot_status": {e.value: e.label.get(lang)
                            for e in catalog["hot-spots"].style.entries},
    }


def map_texts(label: str) -> dict:
    """The translated words drawn into the map image."""
    return {"north": _("N"), "boundaries": _("Boundaries"),
            "province_boundary": _("Provincial boundary"), "unit": label,
            "hoang_sa": _("Hoang Sa (Paracel) Islands"),
            "truong_sa": _("Truong Sa (Spratly) Islands")}


def metadata(authority: str = "") -> dict:
    """The PDF's author (the issuing authority, else the service) and creation time."""
    now = datetime.now(UTC).replace(microsecond=0)
    return {"author": authority or SERVICE_AUTHOR, "author_is_authority": bool(authority),
            "created": now.isoformat().replace("+00:00", "Z")}


def class_limits(style) -> list[float]:
    """The map classes' lower bounds: a rate printed beside them must not cross one."""
    return [entry.lower for entry in style.classes if entry.lower is not None]


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _charts(public, unit: Unit, layer, fmt: Formatter) -> dict:
    series = [(group, _(labels.GROUPS[group])) for group in KEY_GROUPS]
    limits = class_limits(layer.style)
    out = {"trend": charts.trend_chart(public.trend, series,
                                       _("Certification rate by year"), fmt)}
    if unit.kind != "commune":
        rows = [(row["full_name"], row.get("certification_rate_residential"))
                for row in public.communes]
        out["ranking"] = charts.ranking_chart(
            rows, layer.style, _("Communes ranked by certification rate"), fmt,
            _("… %(count)s communes in between …", count="{count}"), limits)
    return out


def _province_name(store, code: str | None) -> str:
    found = store.get("provinces", code) if code else None
    return found[1]["full_name"] if found else (code or "")


def _omitted(store, restricted, lang: str) -> str | None:
    """One sentence saying which restricted sections are left out, and why."""
    left_out = [name for name, scope in restricted.scopes.items() if not scope.allowed]
    if not left_out:
        return None
    names = ", ".join(_(labels.SECTIONS[name]) for name in left_out)
    reason = restricted.scopes[left_out[0]].reason
    if reason == "sign_in":
        return _("The sections on %(sections)s hold restricted data and are left out of "
                 "this report because it was requested without signing in or an API key; "
                 "an official whose area covers this unit gets the full report.",
                 sections=names)
    if reason == "not_allowed":
        return _("The sections on %(sections)s hold restricted data and are left out of "
                 "this report because this key may not read them.", sections=names)
    return _("The sections on %(sections)s hold restricted data and are left out of this "
             "report because the key's area does not cover this unit.", sections=names)


def _area_note(store, unit: Unit, restricted) -> str | None:
    """For a border sector read by a province key: the restricted rows are its own only."""
    areas = {s.province_code for s in restricted.scopes.values() if s.allowed}
    area = next(iter(areas), None)
    if unit.kind != "border" or area is None:
        return None
    return _("Restricted figures cover only the communes of %(province)s (the key's area).",
             province=_province_name(store, area))


def _reader(store, principal: Principal) -> str:
    if not principal.authenticated:
        return _("the public: public sections only")
    if principal.province_code is None:
        return _("a national reader: every section")
    return _("a reader for %(province)s",
             province=_province_name(store, principal.province_code))
