"""Every published layer as a collection of the features API, besides the stored collections.

A layer such as ``certification-rate`` or ``border-communes-cn`` is its source collection
filtered and joined the way its TOML file says, with the layer's fields as properties —
the same features its tiles hold, in WGS 84 GeoJSON, paged, with `bbox`, `province_code`
and the layer's parameters (`year`, `group`, `model_type`, or an analysis's). The access
decision is the tiles' one: restricted layers need a key, and a province key gets its
province only.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import shapely

from geoservice import params as P
from geoservice.api import filters
from geoservice.api import queryables as Q_
from geoservice.api.collections import Collection, feature, page, with_notice
from geoservice.api.context import GEOJSON, RequestContext
from geoservice.collections import COLLECTIONS
from geoservice.errors import FeatureNotFound, Forbidden
from geoservice.layers.definition import INDICATOR_FAMILIES, LayerDef
from geoservice.layers.params import accepted, layer_for
from geoservice.store import FeatureQuery

PAGING = ("bbox", "limit", "offset", "province_code", "f", "datetime", "filter",
          "filter-lang", "filter-crs", "sortby", "properties")
F = P.fmt("json", "geojson", "html", *P.TABLE_FORMATS)
ITEM_F = P.fmt("json", "geojson")
COMMON = (P.BBOX, P.OFFSET, P.PROVINCE_CODE, F, P.DATETIME, P.FILTER, P.FILTER_LANG,
          P.FILTER_CRS, P.SORTBY, P.PROPERTIES)


class LayerCollection(Collection):
    """A published layer's features."""

    is_layer = True

    def __init__(self, layer: LayerDef):
        self.layer = layer
        self.id = layer.id
        self.restricted = layer.restricted

    def titles(self, lang: str = "vi") -> tuple[str, str, str]:
        """(Vietnamese title, English title, description)."""
        return self.layer.title("vi"), self.layer.title("en"), self.layer.description.get(lang)

    def extent(self, ctx: RequestContext):
        """Not counted: counting would prepare the layer (its tiles' work) for a listing."""
        return None, None

    def links(self, ctx: RequestContext) -> list[dict]:
        """The layer's TileJSON (its tile sets and styles: `Collection.document`)."""
        return [{"href": ctx.url(f"/tiles/{self.id}.json"), "rel": "tiles",
                 "type": "application/json"}]

    def parameters(self, limits: tuple[int, int]) -> list[P.Parameter]:
        """The parameters of this layer's items route (the OpenAPI document lists these)."""
        return [*COMMON, P.limit(*limits), *layer_parameters(self.layer)]

    def types(self, layer: LayerDef | None = None) -> dict[str, str]:
        """Queryable properties (the layer's scalar fields; those of `layer`, the layer as a
        request's group or model type resolved it, when given) and the geometry."""
        types = {name: kind for name, kind in (layer or self.layer).field_types().items()
                 if kind in ("string", "number", "integer", "boolean")}
        types["geometry"] = "geometry"
        return types

    def temporal(self) -> tuple | None:
        """The validity of the layer's boundary version, when its source has one."""
        definition = COLLECTIONS.get(self.layer.source.collection or "")
        return definition.valid if definition and definition.source != "records" else None

    def _resolved(self, ctx: RequestContext, args: Mapping[str, str]):
        """(the layer as the request's parameters resolve it, the reader's decision, a
        record-year filter)."""
        layer_args = {k: v for k, v in args.items() if k not in PAGING}
        return layer_for(ctx.catalog, self.id, layer_args, ctx.principal)

    def _source(self, ctx: RequestContext, args: Mapping[str, str], resolved=None):
        """The resolved layer's prepared source and the reader's decision."""
        layer, decision, year = resolved or self._resolved(ctx, args)
        runs = ctx.services.analysis_runs if layer.source.analysis else None
        return ctx.services.sources.get(ctx.store, layer, year, runs=runs), decision

    def items(self, ctx: RequestContext, args: Mapping[str, str]) -> dict:
        """A page of the layer's features."""
        P.known(args, (*PAGING, *accepted(self.layer)))
        F.get(args)
        settings = ctx.services.settings
        default = settings["DEFAULT_ITEMS_LIMIT"]
        limit = P.limit(default, settings["MAX_ITEMS_LIMIT"]).get(args, default)
        offset = P.OFFSET.get(args, 0)
        resolved = self._resolved(ctx, args)
        wanted = Q_.chosen(args, set(resolved[0].field_types()))
        source, chosen = self.matching(ctx, args, resolved=resolved)
        shown = chosen[offset:offset + limit]
        features = [feature(ctx, source.ids[i], source.properties[i], source.lonlat[i])
                    for i in shown]
        return page(ctx, self.id, Q_.select(features, wanted), int(len(chosen)), args,
                    FeatureQuery(limit=limit, offset=offset))

    def matching(self, ctx: RequestContext, args: Mapping[str, str], every: bool = False,
                 resolved=None):
        """(the prepared source, positions of the features an items request matches, in
        its order; with `every` unsorted: clusters count them all)."""
        bbox = P.BBOX.get(args)
        province = P.PROVINCE_CODE.get(args)
        resolved = resolved or self._resolved(ctx, args)
        types = self.types(resolved[0])
        where = filters.parse(args, types)
        sortby = () if every else Q_.sort_keys(args, types)
        in_time = Q_.in_time(self.temporal(), P.DATETIME.get(args))
        source, decision = self._source(ctx, args, resolved)
        if decision.province_code and province not in (None, decision.province_code):
            raise Forbidden(f"Your area is province {decision.province_code}.",
                            parameter="province_code")
        province = decision.province_code or province
        chosen = np.arange(len(source))
        if bbox is not None and len(source):
            chosen = np.sort(source.lonlat_tree.query(shapely.box(*bbox),
                                                      predicate="intersects"))
        if province is not None:
            chosen = chosen[source.provinces[chosen] == province]
        if not in_time:  # an interval the layer's boundaries were not valid in
            chosen = chosen[:0]
        if where is not None:  # evaluated on the prepared properties (they are in memory)
            chosen = np.array([i for i in chosen if filters.matches(
                where.condition, source.properties[i], source.lonlat[i])], dtype=int)
        return source, sort(chosen, source.properties, sortby)

    def item(self, ctx: RequestContext, feature_id: str, args: Mapping[str, str]) -> dict:
        """One feature of the layer."""
        P.known(args, ("f", *accepted(self.layer)))
        ITEM_F.get(args)
        source, decision = self._source(ctx, args)
        index = source.index_of.get(feature_id)
        if index is None or decision.province_code not in (None, source.provinces[index]):
            raise FeatureNotFound(f"Layer '{self.id}' has no feature '{feature_id}'.")
        body = feature(None, feature_id, source.properties[index], source.lonlat[index])
        url = ctx.url(f"/collections/{self.id}")
        body["links"] = [{"href": f"{url}/items/{feature_id}", "rel": "self", "type": GEOJSON},
                         {"href": url, "rel": "collection", "type": "application/json"}]
        return with_notice(ctx.store, self.id, body)


def sort(chosen: np.ndarray, properties: list[dict], sortby) -> np.ndarray:
    """`chosen` ordered by `sortby` (nulls last, as the stores order them); stable, so
    ties keep the layer's order."""
    order = list(chosen)
    for prop, descending, _ in reversed(sortby):
        present = [i for i in order if properties[i].get(prop) is not None]
        missing = [i for i in order if properties[i].get(prop) is None]
        try:
            present.sort(key=lambda i: properties[i][prop], reverse=descending)
        except TypeError:  # mixed types: order them as text
            present.sort(key=lambda i: str(properties[i][prop]), reverse=descending)
        order = present + missing
    return np.array(order, dtype=int)


def layer_parameters(layer: LayerDef) -> list[P.Parameter]:
    """The layer's own parameters (`accepted`) as typed parameters."""
    out = []
    for name in accepted(layer):
        if name == "year" and layer.source.analysis is None:
            out.append(P.LAYER_YEAR)
            continue
        member = INDICATOR_FAMILIES.get(layer.source.indicator or "")
        if member is not None and name == member[0]:
            out.append(P.Parameter(name, P.choice(member[1]),
                                   {"type": "string", "enum": list(member[1])},
                                   f"Member of the indicator family: {', '.join(member[1])}"))
            continue
        out.append(P.Parameter(name, P.text(200), {"type": "string"},
                               "A parameter of the layer's analysis (see /analyses)"))
    return out
