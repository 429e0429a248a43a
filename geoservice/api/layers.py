"""Every published layer as a collection of the features API, besides the base collections.

A layer such as ``certification-rate`` or ``border-communes-cn`` is its source collection
filtered and joined the way its TOML file says, with the layer's fields as properties —
the same features its tiles hold, in WGS 84 GeoJSON, paged, with `bbox`, `province_code`
and the layer's parameters (`year`, `group`, `model_type`). The access decision is the
tiles' one: restricted layers need a key, and a province key gets its province only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import urlencode

import numpy as np
import shapely

from geoservice.access import ANONYMOUS, Principal
from geoservice.api.features import CRS84, GEOJSON, _whole, feature, parse_bbox, with_notice
from geoservice.api.tiles import LAYER_PARAMETERS, VIETNAM_BOUNDS, layer_for, readable_layers
from geoservice.collections import COLLECTIONS
from geoservice.errors import FeatureNotFound, Forbidden, InvalidParameter

PARAMETERS = {"bbox", "limit", "offset", "province_code", "f", *LAYER_PARAMETERS}


def layer_ids(catalog: dict, principal: Principal = ANONYMOUS) -> list[str]:
    """Layers published as collections of their own (those not named like a collection)."""
    return [i for i in readable_layers(catalog, principal) if i not in COLLECTIONS]


def is_layer(catalog: dict, collection_id: str) -> bool:
    """True when the id names a layer served as a collection of its own."""
    return collection_id in catalog and collection_id not in COLLECTIONS


def collection(catalog: dict, base: str, layer_id: str, principal: Principal = ANONYMOUS,
               lang: str = "vi") -> dict:
    """The collection document of a layer."""
    layer, _decision, _year = layer_for(catalog, layer_id, {}, principal)
    url = f"{base}/collections/{layer_id}"
    return {
        "id": layer_id, "title": layer.title("vi"), "title_en": layer.title("en"),
        "description": layer.description.get(lang), "itemType": "feature", "crs": [CRS84],
        "extent": {"spatial": {"bbox": [list(VIETNAM_BOUNDS)], "crs": CRS84}},
        "restricted": layer.restricted, "layer": True,
        "links": [{"href": url, "rel": "self", "type": "application/json"},
                  {"href": f"{url}/items", "rel": "items", "type": GEOJSON},
                  {"href": f"{base}/tiles/{layer_id}.json", "rel": "tiles",
                   "type": "application/json"}],
    }


def items(store, sources, catalog: dict, base: str, layer_id: str, args: Mapping[str, str],
          default_limit: int, max_limit: int, principal: Principal = ANONYMOUS) -> dict:
    """A page of a layer's features as GeoJSON."""
    unknown = sorted(set(args) - PARAMETERS)
    if unknown:
        raise InvalidParameter(f"Unknown parameter '{unknown[0]}'. Accepted: "
                               f"{', '.join(sorted(PARAMETERS))}.", parameter=unknown[0])
    layer, decision, year = layer_for(catalog, layer_id, _params(args), principal)
    limit = min(_whole(args.get("limit"), "limit", default_limit, minimum=1), max_limit)
    offset = _whole(args.get("offset"), "offset", 0, minimum=0)
    bbox = parse_bbox(args.get("bbox"))
    province = args.get("province_code")
    if province is not None and not (province.isascii() and province.isdigit()
                                     and len(province) == 2):
        raise InvalidParameter("province_code must be a two-digit province code, e.g. 08.",
                               parameter="province_code")
    if decision.province_code and province not in (None, decision.province_code):
        raise Forbidden(f"Your area is province {decision.province_code}.",
                        parameter="province_code")
    province = decision.province_code or province
    source = sources.get(store, layer, year)
    chosen = np.arange(len(source))
    if bbox is not None and len(source):
        chosen = np.sort(source.lonlat_tree.query(shapely.box(*bbox), predicate="intersects"))
    if province is not None:
        chosen = chosen[source.provinces[chosen] == province]
    page = chosen[offset:offset + limit]
    url = f"{base}/collections/{layer_id}/items"
    kept = {k: v for k, v in args.items() if k not in ("offset", "limit")}
    links = [_link(url, kept, limit, offset, "self")]
    if offset + limit < len(chosen):
        links.append(_link(url, kept, limit, offset + limit, "next"))
    return with_notice(store, layer_id, {
        "type": "FeatureCollection",
        "features": [feature(source.ids[i], source.properties[i], source.lonlat[i])
                     for i in page],
        "numberMatched": int(len(chosen)), "numberReturned": int(len(page)),
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "links": links,
    })


def item(store, sources, catalog: dict, base: str, layer_id: str, feature_id: str,
         args: Mapping[str, str], principal: Principal = ANONYMOUS) -> dict:
    """One feature of a layer."""
    layer, decision, year = layer_for(catalog, layer_id, _params(args), principal)
    source = sources.get(store, layer, year)
    index = source.index_of.get(feature_id)
    if index is None or decision.province_code not in (None, source.provinces[index]):
        raise FeatureNotFound(f"Layer '{layer_id}' has no feature '{feature_id}'.")
    body = feature(feature_id, source.properties[index], source.lonlat[index])
    body["links"] = [{"href": f"{base}/collections/{layer_id}/items/{feature_id}",
                      "rel": "self", "type": GEOJSON}]
    return with_notice(store, layer_id, body)


def _params(args: Mapping[str, str]) -> dict:
    return {k: v for k, v in args.items() if k in LAYER_PARAMETERS}


def _link(url: str, args: dict, limit: int, offset: int, rel: str) -> dict:
    return {"href": f"{url}?{urlencode({**args, 'limit': limit, 'offset': offset})}",
            "rel": rel, "type": GEOJSON}
