"""Collections read straight from the store: boundaries (provinces, communes, border lines,
pre-reform communes, basemap) and records (certification, models, incidents …).

Communes and provinces carry a year's indicators (`?year=`, default the latest); restricted
indicators and restricted records only within the reader's area (`Area`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from geoservice import params as P
from geoservice.access import decide
from geoservice.api import filters
from geoservice.api import queryables as Q_
from geoservice.api.collections import Collection, feature, page, with_notice
from geoservice.api.context import GEOJSON, RequestContext
from geoservice.collections import CollectionDef
from geoservice.errors import DataNotBuilt, FeatureNotFound, Forbidden, InvalidParameter
from geoservice.indicators import published
from geoservice.store import FeaturePage, FeatureQuery
from geoservice.store.records import RecordQuery
from geoservice.text import search_key

MAX_QUERY_CHARS = 200  # a name search longer than any unit name is refused, not run
ALL = 10**7  # every match (clusters)
F = P.fmt("json", "geojson", "html", *P.TABLE_FORMATS)
ITEM_F = P.fmt("json", "geojson")
Q = P.Parameter("q", P.text(MAX_QUERY_CHARS), {"type": "string", "minLength": 1},
                "Name search (diacritics, case and unit-type words such as Xã/Phường "
                "ignored)")
# Every items request: paging, format, time, and Part 3's filter, sortby and properties.
COMMON = (P.BBOX, P.OFFSET, F, P.DATETIME, P.FILTER, P.FILTER_LANG, P.FILTER_CRS,
          P.SORTBY, P.PROPERTIES)
BY_NAME = {p.name: p for p in (P.PROVINCE_CODE, P.BORDER_NEIGHBOR, Q, P.COMMUNE_CODE)}
PAGING = ("bbox", "limit", "offset", "f")
BOUNDARY_PARAMETERS = (*PAGING, "province_code", "border_neighbor", "q", "year")
RECORD_PARAMETERS = (*PAGING, "province_code", "commune_code", "year", "datetime",
                     "category", "border_neighbor")
OPTIONS = ("datetime", "filter", "filter-lang", "filter-crs", "sortby", "properties")


class StoredCollection(Collection):
    """A boundary or record collection of the store."""

    def __init__(self, definition: CollectionDef):
        self.definition = definition
        self.id = definition.id
        self.restricted = definition.restricted

    @property
    def records(self) -> bool:
        """True for record collections (imported tables), False for boundaries."""
        return self.definition.source == "records"

    def titles(self, lang: str = "vi") -> tuple[str, str, str]:
        """(Vietnamese title, English title, description)."""
        d = self.definition
        return d.title, d.title_en, d.description

    def extent(self, ctx: RequestContext):
        """(features the reader may see, bbox): a restricted count only for its readers."""
        if not self.records:
            return ctx.store.extent(self.id)
        if not self.readable(ctx):
            return None, None
        decision = decide(ctx.principal, self.definition)
        found = ctx.store.query_records(self.id, RecordQuery(
            limit=1, province_code=decision.province_code))
        return found.number_matched, None

    def parameters(self, limits: tuple[int, int]) -> list[P.Parameter]:
        """The parameters of this collection's items route (its parsers; the OpenAPI
        document lists these)."""
        extra = [P.limit(*limits)]
        if self.records:
            extra += [P.PROVINCE_CODE, P.COMMUNE_CODE, P.YEAR, P.BORDER_NEIGHBOR]
            category = self.category_parameter()
            extra += [category] if category else []
        else:
            extra += [BY_NAME[name] for name in self.definition.filters]
            extra += [P.LAYER_YEAR] if self.id in published.UNIT_LEVELS else []
        return [*COMMON, *extra]

    def types(self) -> dict[str, str]:
        """Queryable properties and their JSON types (and the geometry)."""
        types = self.definition.queryables()
        if self.definition.geometry != "None":
            types["geometry"] = "geometry"
        return types

    def describe_fields(self) -> dict[str, tuple[str, str, str | None]]:
        """name -> (JSON type, description, format) of the declared properties."""
        d = self.definition
        return {name: (kind, text, d.formats.get(name))
                for name, (kind, text) in d.fields.items()}

    def known_properties(self) -> set[str]:
        """Every property a feature may carry (`properties` chooses among these)."""
        from geoservice.layers.fields import INDICATOR_FIELDS

        known = set(self.definition.fields)
        return known | set(INDICATOR_FIELDS) if self.id in published.UNIT_LEVELS else known

    def temporal(self) -> tuple | None:
        """The validity of this boundary version (None: records, or no time)."""
        return None if self.records else self.definition.valid

    def items(self, ctx: RequestContext, args: Mapping[str, str]) -> dict:
        """A page of features with paging links."""
        decide(ctx.principal, self.definition)  # who may read, before what is asked
        wanted = Q_.chosen(args, self.known_properties())
        found, query = self.matching(ctx, args)
        features = [feature(ctx, fid, props, geom) for fid, props, geom in found.features]
        return page(ctx, self.id, Q_.select(features, wanted), found.number_matched, args,
                    query)

    def matching(self, ctx: RequestContext, args: Mapping[str, str],
                 every: bool = False) -> tuple[FeaturePage, RecordQuery | FeatureQuery]:
        """The features an items request matches: its page, or with `every` all of them
        (clusters count every match, not a page), and the query that chose them."""
        decision = decide(ctx.principal, self.definition)
        limits = _limits(ctx)
        types = self.types()
        where = filters.parse(args, types)
        sortby = () if every else Q_.sort_keys(args, types)
        plain = {k: v for k, v in args.items() if k not in OPTIONS}
        window = {"limit": ALL, "offset": 0} if every else {}
        if self.records:
            query = self.record_query({**plain, **{k: args[k] for k in ("datetime",)
                                                   if k in args}},
                                      limits, decision.province_code)
            query = replace(query, filter=where, sortby=sortby, **window)
            _require_data(ctx.store)
            return ctx.store.query_records(self.id, query), query
        year = self.unit_year(ctx, args)
        query = self.feature_query({k: v for k, v in plain.items() if k != "year"}, limits)
        query = replace(query, filter=where, sortby=sortby, **window)
        _require_data(ctx.store)
        if Q_.in_time(self.definition.valid, P.DATETIME.get(args)):
            found = ctx.store.query(self.id, query)
        else:  # an interval this version was not valid in: no feature, not an error
            found = FeaturePage([], 0)
        found.features = published.decorate(ctx.store, self.id, found.features, year,
                                            ctx.restricted_area)
        return found, query

    def item(self, ctx: RequestContext, feature_id: str, args: Mapping[str, str]) -> dict:
        """One feature with its links."""
        decision = decide(ctx.principal, self.definition)
        P.known(args, ("f", "year") if self.id in published.UNIT_LEVELS else ("f",))
        ITEM_F.get(args)
        year = self.unit_year(ctx, args)
        _require_data(ctx.store)
        if self.records:
            found = ctx.store.query_records(self.id, RecordQuery(
                record_id=feature_id, province_code=decision.province_code, limit=1))
            found = found.features[0] if found.features else None
        else:
            found = ctx.store.get(self.id, feature_id)
        if found is None:
            raise FeatureNotFound(f"Collection '{self.id}' has no feature '{feature_id}'.")
        found = published.decorate(ctx.store, self.id, [found], year, ctx.restricted_area)[0]
        body = feature(None, *found)
        url = ctx.url(f"/collections/{self.id}")
        body["links"] = [{"href": f"{url}/items/{feature_id}", "rel": "self", "type": GEOJSON},
                         {"href": url, "rel": "collection", "type": "application/json"}]
        return with_notice(ctx.store, self.id, body)

    def unit_year(self, ctx: RequestContext, args: Mapping[str, str]) -> int | None:
        """The indicator year of a communes/provinces request (others take none)."""
        if self.id not in published.UNIT_LEVELS:
            if "year" in args and not self.records:
                raise InvalidParameter(f"Collection '{self.id}' has no yearly indicators.",
                                       parameter="year")
            return None
        return published.indicator_year(ctx.store, args.get("year"))

    def feature_query(self, args: Mapping[str, str], limits: tuple[int, int]) -> FeatureQuery:
        """Validate a boundary items request into a `FeatureQuery`."""
        P.known(args, [name for name in BOUNDARY_PARAMETERS if name != "year"])
        F.get(args)
        for name in ("province_code", "border_neighbor", "q"):
            if args.get(name) is not None and name not in self.definition.filters:
                raise InvalidParameter(f"Collection '{self.id}' cannot be filtered by "
                                       f"{name}.", parameter=name)
        q = Q.get(args)
        if q is not None:
            q = search_key(q)
            if not q:
                raise InvalidParameter("q must contain letters or digits.", parameter="q")
        default, maximum = limits
        return FeatureQuery(limit=P.limit(default, maximum).get(args, default),
                            offset=P.OFFSET.get(args, 0), bbox=P.BBOX.get(args),
                            province_code=P.PROVINCE_CODE.get(args),
                            border_neighbor=P.BORDER_NEIGHBOR.get(args), q=q)

    def record_query(self, args: Mapping[str, str], limits: tuple[int, int],
                     area_province: str | None) -> RecordQuery:
        """Validate a records items request into a `RecordQuery` (limited to the reader's
        province when it has one)."""
        P.known(args, RECORD_PARAMETERS)
        F.get(args)
        province = P.PROVINCE_CODE.get(args)
        if area_province:
            if province not in (None, area_province):
                raise Forbidden(f"Your area is province {area_province}.",
                                parameter="province_code")
            province = area_province
        date_from, date_to = P.DATETIME.get(args, (None, None))
        default, maximum = limits
        return RecordQuery(
            limit=P.limit(default, maximum).get(args, default), offset=P.OFFSET.get(args, 0),
            bbox=P.BBOX.get(args), province_code=province,
            commune_code=P.COMMUNE_CODE.get(args), year=P.YEAR.get(args),
            date_from=date_from, date_to=date_to, category=self.category(args),
            border_neighbor=P.BORDER_NEIGHBOR.get(args),
        )

    def category_parameter(self) -> P.Parameter | None:
        """The `category` parameter of a record kind with categories (None without)."""
        from geoservice.records.kinds import KINDS

        kind = KINDS[self.id]
        if kind.category_field is None:
            return None
        options = tuple(kind.field(kind.category_field).choices)
        return P.Parameter("category", P.choice(options),
                           {"type": "string", "enum": list(options)},
                           "The kind's category: " + ", ".join(options))

    def category(self, args: Mapping[str, str]) -> str | None:
        """The `category` filter of a record kind that has categories."""
        from geoservice.records.kinds import KINDS

        value = args.get("category")
        if value is None:
            return None
        kind = KINDS[self.id]
        if kind.category_field is None:
            raise InvalidParameter(f"Collection '{self.id}' has no category.",
                                   parameter="category")
        return P.choice(kind.field(kind.category_field).choices)(value, "category")


def _limits(ctx: RequestContext) -> tuple[int, int]:
    settings = ctx.services.settings
    return settings["DEFAULT_ITEMS_LIMIT"], settings["MAX_ITEMS_LIMIT"]


def _require_data(store) -> None:
    if store.get_meta("boundaries_loaded_at") is None:
        raise DataNotBuilt("The boundary data has not been built yet: run "
                           "'geoservice build-data' (make run does it).")
