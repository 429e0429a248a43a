"""Name search for the map: `GET /search?q=` over the 2025 units and the pre-reform names.

Officials type a commune or province name with or without diacritics and with or without
its unit type ("Xã", "Tỉnh" …), often an old (pre-2025) name. Matches are the 2025
provinces and communes whose names contain the words typed, then the pre-reform units —
communes from the `legacy-communes` collection, and the districts and provinces they
belonged to — each with the 2025 unit(s) it went into (`now_in`). An old unit that kept
its name in the 2025 unit it went into is shown on that unit (`former`) rather than twice.
Every match has a bounding box to zoom to. Province abbreviations and older names
("TP.HCM", "BR-VT", "Thừa Thiên Huế": `records.names`) find the province they stand for.

`search_units` is a plain function over a store; `geoservice.web.search` adapts HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping

from geoservice import params as P
from geoservice.errors import InvalidParameter
from geoservice.records.names import province_alias
from geoservice.store import FeatureQuery
from geoservice.text import search_key

PARAMETERS = ("q", "limit")
MAX_QUERY_CHARS = 100
DEFAULT_LIMIT, MAX_LIMIT = 10, 50
CANDIDATES = 300  # read per collection (in code order) before ranking
MAX_SUCCESSORS = 10
LEVELS = ("province", "commune", "former-province", "former-district", "former-commune")
Q = P.Parameter("q", P.text(MAX_QUERY_CHARS), description="Name, with or without diacritics")
LIMIT = P.Parameter("limit", P.whole(1, MAX_LIMIT),
                    {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                     "default": DEFAULT_LIMIT}, "Matches at most")


def parse_search(args: Mapping[str, str]) -> tuple[str, int]:
    """Validate `q` (into its search key) and `limit`, or raise InvalidParameter."""
    P.known(args, PARAMETERS)
    text = Q.get(args)
    if text is None or not text.strip():
        raise InvalidParameter("q is required: a commune or province name, e.g. q=lung cu.",
                               parameter="q")
    key = search_key(text)
    if not key:
        raise InvalidParameter("q must contain letters or digits.", parameter="q")
    return key, LIMIT.get(args, DEFAULT_LIMIT)


def search_units(store, key: str, limit: int = DEFAULT_LIMIT) -> dict:
    """Return the units matching a search key (`text.search_key`), best first.

    A province alias ("tp hcm", "thua thien hue": `records.names`) also finds the units of
    the name it stands for, ranked first.
    """
    matches = _matches(store, key)
    canonical = province_alias(key)
    if canonical:
        seen = {(m["level"], m["code"]) for m in matches}
        matches = [m for m in _matches(store, search_key(canonical))
                   if (m["level"], m["code"]) not in seen] + matches
    chosen = matches[:limit]
    for match in chosen:
        if "successors" in match:
            codes = match.pop("successors")
            match["now_in"] = _now_in(store, codes)
            match["successor_count"] = len(codes)
    return {"query": key, "matches": chosen,
            "numberMatched": len(matches), "numberReturned": len(chosen)}


def _matches(store, key: str) -> list[dict]:
    """Every unit matching a search key, best first (successors not yet looked up)."""
    query = FeatureQuery(q=key, limit=CANDIDATES)
    current = [_unit("province", *f) for f in store.query("provinces", query).features]
    current += [_unit("commune", *f) for f in store.query("communes", query).features]
    by_code = {(m["level"], m["code"]): m for m in current}
    index = _legacy_index(store)
    former = [_former_commune(*f) for f in store.query("legacy-communes", query).features]
    former += [_former_area(store, index, level, unit)
               for level in ("former-province", "former-district")
               for unit in index[level] if _contains(unit["key"], key)]
    matches = list(current)
    for unit in former:
        successor = by_code.get(unit["successors"][0]) if len(unit["successors"]) == 1 else None
        if successor is not None and search_key(successor["name"]) == search_key(unit["name"]):
            successor.setdefault("former", []).append(
                {k: unit[k] for k in ("level", "code", "full_name", "district", "province")})
        else:
            matches.append(unit)
    matches.sort(key=lambda m: _rank(m, key))
    return matches


def _contains(name_key: str, key: str) -> bool:
    """The search key's words start at a word of the name (as the store's `q` matches)."""
    return f" {name_key} ".find(f" {key}") >= 0


def _rank(match: dict, key: str) -> tuple:
    name = search_key(match["name"])
    closeness = 0 if name == key else 1 if name.startswith(key) else 2
    return closeness, LEVELS.index(match["level"]), len(name), match["name"], match["code"]


def _bbox(geometry) -> list[float] | None:
    if geometry is None or geometry.is_empty:
        return None
    return [round(v, 5) for v in geometry.bounds]


def _unit(level: str, fid: str, properties: dict, geometry) -> dict:
    unit = {"level": level, "code": fid, "name": properties.get("name"),
            "full_name": properties.get("full_name") or properties.get("name"),
            "unit_type": properties.get("unit_type"), "province": None,
            "bbox": _bbox(geometry)}
    if level == "commune":
        unit["province"] = {"code": properties.get("province_code"),
                            "name": properties.get("province_name")}
    return unit


def _now_in(store, successors: list[tuple[str, str]]) -> list[dict]:
    """The 2025 units (level, code) an old unit went into, as matches (the first few)."""
    found = []
    for level, code in successors[:MAX_SUCCESSORS]:
        feature = store.get("provinces" if level == "province" else "communes", code)
        if feature is not None:
            found.append(_unit(level, *feature))
    return found


def _former_commune(fid: str, properties: dict, geometry) -> dict:
    return {"level": "former-commune", "code": fid, "name": properties.get("name"),
            "full_name": properties.get("full_name") or properties.get("name"),
            "district": properties.get("district_name"),
            "province": {"code": properties.get("province_code"),
                         "name": properties.get("province_name")},
            "bbox": _bbox(geometry),
            "successors": [("commune", c) for c in sorted(properties.get("successors") or [])]}


def _former_area(store, index: dict, level: str, unit: dict) -> dict:
    """An old district or province: the 2025 communes (district) or provinces it went into."""
    if level == "former-province":
        successors = sorted({("province", code) for code in
                             (_province_of(store, index, c) for c in unit["successors"]) if code})
    else:
        successors = [("commune", c) for c in sorted(unit["successors"])]
    return {"level": level, "code": unit["code"], "name": unit["name"],
            "full_name": unit["full_name"], "district": None,
            "province": unit["province"], "bbox": unit["bbox"], "successors": successors}


def _province_of(store, index: dict, commune: str) -> str | None:
    """The 2025 province of a 2025 commune (remembered with the index)."""
    known = index["province_of"]
    if commune not in known:
        feature = store.get("communes", commune)
        known[commune] = feature[1].get("province_code") if feature else None
    return known[commune]


def _legacy_index(store) -> dict:
    """The pre-reform districts and provinces (from the legacy communes), per data version."""
    return store.derived.get("search/legacy-index", store.data_version(),
                             lambda: _build_legacy_index(store))


def _build_legacy_index(store) -> dict:
    areas: dict = {"former-province": {}, "former-district": {}}
    every = FeatureQuery(limit=10**7)
    for _fid, props, geometry in store.query("legacy-communes", every).features:
        province = {"code": props.get("province_code"), "name": props.get("province_name")}
        keys = (("former-province", province["code"], props.get("province_name"), None),
                ("former-district", f"{province['code']}-{props.get('district_code')}",
                 props.get("district_name"), province))
        for level, code, name, parent in keys:
            if not name:
                continue
            unit = areas[level].setdefault(code, {
                "code": code, "name": _bare(name), "full_name": name,
                "key": search_key(name), "province": parent, "bounds": [],
                "successors": set()})
            unit["successors"].update(props.get("successors") or [])
            if geometry is not None and not geometry.is_empty:
                unit["bounds"].append(geometry.bounds)
    index = {level: [_finish(unit) for unit in units.values()]
             for level, units in areas.items()}
    index["province_of"] = {}  # filled as old provinces are searched for
    return index


def _bare(name: str) -> str:
    """The name without its unit type ("Tỉnh Hà Giang" -> "Hà Giang"), as typed names are."""
    words = name.split()
    for size in (2, 1):
        if len(words) > size and search_key(" ".join(words)) == search_key(
                " ".join(words[size:])):
            return " ".join(words[size:])
    return name


def _finish(unit: dict) -> dict:
    bounds = unit.pop("bounds")
    unit["bbox"] = ([round(min(b[0] for b in bounds), 5), round(min(b[1] for b in bounds), 5),
                     round(max(b[2] for b in bounds), 5), round(max(b[3] for b in bounds), 5)]
                    if bounds else None)
    return unit


def openapi_paths() -> dict:
    """The OpenAPI description of `/search`."""
    unit = {"type": "object", "properties": {
        "level": {"type": "string", "enum": list(LEVELS)},
        "code": {"type": "string"}, "name": {"type": "string"},
        "full_name": {"type": "string"},
        "province": {"type": "object", "nullable": True},
        "bbox": {"type": "array", "items": {"type": "number"}, "nullable": True},
        "former": {"type": "array", "items": {"type": "object"}},
        "now_in": {"type": "array", "items": {"type": "object"}}}}
    def error(text: str) -> dict:
        return {"description": text, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Error"}}}}

    return {"/search": {"get": {
        "summary": "Find a commune or province by name (2025 and pre-reform names)",
        "operationId": "search_units",
        "description": "Diacritics, case and unit types (Xã, Phường, Tỉnh …) are ignored. "
                       "Pre-reform communes, districts and provinces come with the 2025 "
                       "units they went into (now_in).",
        "parameters": [
            {**Q.openapi(), "required": True,
             "schema": {"type": "string", "minLength": 1, "maxLength": MAX_QUERY_CHARS}},
            LIMIT.openapi()],
        "responses": {"200": {"description": "Matches, best first", "content": {
            "application/json": {"schema": {"type": "object", "properties": {
                "query": {"type": "string"}, "numberMatched": {"type": "integer"},
                "numberReturned": {"type": "integer"},
                "matches": {"type": "array", "items": unit}}}}}},
            "400": error("Invalid parameter"),
            "401": error("Sign-in or API key needed (when PUBLIC_ACCESS is false)"),
            "403": error("This API key is not allowed here")}}}}
