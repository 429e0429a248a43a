"""A layer's features ready for tiles: read once per data version, projected to Web
Mercator, simplified per zoom band (computed once, kept in the store) and indexed.

`prepare(store, layer, filters)` reads the layer's collection (boundaries, records, or
units joined to a year's indicators), keeps what the layer's source filter accepts, applies
its geometry transform, and remembers each feature's province so that one access decision
can limit restricted layers to a reader's area. `TileSource.shapes(z, x, y, area)`
answers a tile's features in tile coordinates; an empty tile costs one index lookup.

The simplified, snapped shapes of each zoom band are kept in the store (`Store.
prepared_shapes`), per shape key (collection, geometry transform, kind, top band: what
the shapes depend on) and the version of the data they are made from
(`geoservice.layers.versions.shape_version`): a process started later, or a layer sharing
the shapes (every commune layer), reads them instead of simplifying again.
`geoservice.boundaries.load` makes them when boundaries are loaded.
"""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass, field

import numpy as np
import shapely

from geoservice.access import Area
from geoservice.collections import COLLECTIONS
from geoservice.indicators import published
from geoservice.layers.definition import LayerDef
from geoservice.layers.versions import layer_data_version, shape_version
from geoservice.render.mvt import PropertyTable
from geoservice.render.symbols import Symbol
from geoservice.store import FeatureQuery
from geoservice.store.records import RecordQuery
from geoservice.tilemath import WORLD, tile_bounds, to_mercator

LOGGER = logging.getLogger(__name__)

# Zoom bands sharing one simplified geometry: half a pixel at the band's highest zoom, so
# no band shows its simplification; above the last band the geometry is 0.5 px at z13.
BANDS = ((0, 4), (5, 6), (7, 8), (9, 10), (11, 13))
ALL = 10**7
MVT_GRID = 4096  # vector-tile extent: band geometries are snapped to this grid (see _snap)
SNAP_MIN_ZOOM = 4  # the coarsest band is snapped to zoom 4's grid, not zoom 0's (9.8 km)


@dataclass
class TileSource:
    """A layer's features prepared for tiling (one data version, one set of parameters)."""

    layer: LayerDef
    version: str
    geometries: np.ndarray  # Web Mercator, full resolution
    properties: list[dict]  # tile properties (the layer's fields)
    symbols: list[Symbol | None]
    provinces: np.ndarray  # province code of each feature ('' for none)
    ids: list[str] = field(default_factory=list)  # the source collection's feature ids
    lonlat: np.ndarray | None = None  # WGS 84 geometries (the layer's features API)
    shape_version: str = ""  # the version of the data its geometries are made from
    _zooms: dict = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    shapeless: frozenset = frozenset()  # ids of features it takes that have no geometry

    def __len__(self) -> int:
        return len(self.geometries)

    def with_values(self, version: str, properties: list[dict], symbols: list
                    ) -> TileSource:
        """This source's features with new properties and symbols (of data `version`):
        geometries, bands and indexes shared, not copied."""
        other = TileSource(self.layer, version, self.geometries, properties, symbols,
                           self.provinces, self.ids, self.lonlat, self.shape_version,
                           self._zooms, shapeless=self.shapeless)
        for name in ("lonlat_tree", "index_of"):  # cached indexes of the same shapes
            if name in self.__dict__:
                other.__dict__[name] = self.__dict__[name]
        return other

    @functools.cached_property
    def lonlat_tree(self) -> shapely.STRtree:
        """Index of the WGS 84 geometries (bbox queries of the layer's features API)."""
        return shapely.STRtree(self.lonlat)

    @functools.cached_property
    def property_table(self) -> PropertyTable:
        """The features' tile properties, tabled once for the MVT encoder."""
        return PropertyTable(self.properties)

    @functools.cached_property
    def index_of(self) -> dict[str, int]:
        """Position of each feature id."""
        return {fid: i for i, fid in enumerate(self.ids)}

    def simplify(self) -> None:
        """Pre-compute each zoom band's geometry and index (finest first, each band
        simplified from the next finer one, which is much faster than from the source).

        Bands below the layer's minimum zoom are made too (they are small): the shapes
        then depend on the maximum zoom only, and layers of one collection share them."""
        current = self.geometries
        for low, high in reversed(BANDS):
            if low > self.layer.maxzoom:
                continue
            if self.layer.geometry != "point":
                tolerance = WORLD / (256 * 2**high) / 2  # half a screen pixel
                current = shapely.simplify(current, tolerance, preserve_topology=True)
                invalid = ~shapely.is_valid(current)
                if invalid.any():  # parts of a multipolygon simplified into each other
                    current = current.copy()
                    current[invalid] = [only(g, self.layer.geometry)
                                        for g in shapely.make_valid(current[invalid])]
            snapped = self._snap(current, max(low, SNAP_MIN_ZOOM))
            self._zooms[low] = (snapped, shapely.STRtree(snapped))

    def bands(self) -> list[int]:
        """The zoom bands this layer is drawn at (by their lowest zoom)."""
        return [low for low, _high in BANDS if low <= self.layer.maxzoom]

    def band_shapes(self) -> dict[int, list[tuple[str, bytes]]]:
        """Each band's shapes as (feature id, WKB), to be kept in the store (b'' for a
        feature that has no shape at that band)."""
        return {low: [(fid, b"" if wkb is None else wkb) for fid, wkb in
                      zip(self.ids, shapely.to_wkb(self._zooms[low][0]))]
                for low in self.bands()}

    def load_bands(self, stored: dict[int, dict[str, bytes]]) -> bool:
        """Take each band's shapes from `stored` (`Store.prepared_shapes`) instead of
        simplifying; False (nothing taken) when a band or feature is missing."""
        bands = {}
        for low in self.bands():
            kept = stored.get(low, {})
            wkbs = [kept.get(fid) for fid in self.ids]
            if any(wkb is None for wkb in wkbs):
                return False
            shapes = np.empty(len(wkbs), dtype=object)
            present = np.array([bool(wkb) for wkb in wkbs], dtype=bool)
            if present.any():
                shapes[present] = shapely.from_wkb(
                    np.array([wkb for wkb in wkbs if wkb], dtype=object))
            bands[low] = (shapes, shapely.STRtree(shapes))
        self._zooms.update(bands)
        return True

    def _snap(self, geometries: np.ndarray, z: int) -> np.ndarray:
        """Snap a band's polygons to the vector-tile grid of zoom `z` (kept valid by GEOS).

        A grid unit of zoom z is a whole number of units at every higher zoom, and tiles
        start on it, so the band's MVT tiles need no snapping of their own (only the points
        clipping adds on tile edges, rarely, need repair) — that is most of a low-zoom
        tile's cost saved.
        """
        if self.layer.geometry != "polygon":  # lines can snap into degenerate rings
            return geometries
        snapped = shapely.set_precision(geometries, WORLD / 2**z / MVT_GRID)
        empty = shapely.is_empty(snapped) & ~shapely.is_empty(geometries)
        if empty.any():  # a sliver smaller than a grid unit: keep it unsnapped
            snapped[empty] = geometries[empty]
        return snapped

    def _zoom(self, z: int):
        for low, high in BANDS:
            if low <= z <= high:
                return self._zooms[max(low, 0)]
        return self._zooms[BANDS[-1][0]]

    def shapes(self, z: int, x: int, y: int, extent: int, buffer: int,
               area: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Return the features of tile z/x/y: their positions in the source and their
        shapes in tile coordinates (0..extent, y down), as arrays (a dense tile has
        thousands of points: no object per feature).

        `area` keeps only features of that province (restricted layers, province readers).
        """
        nothing = np.array([], dtype=int), np.array([], dtype=object)
        if not self.layer.minzoom <= z <= self.layer.maxzoom or not len(self):
            return nothing
        simple, tree = self._zoom(z)
        minx, miny, maxx, maxy = tile_bounds(z, x, y)
        # A fraction of a grid unit more: clip edges off the grid that band shapes are
        # snapped to (an edge along a snapped ring would leave degenerate rings).
        margin = (maxx - minx) * (buffer / extent + 0.37 / MVT_GRID)
        hits = np.sort(tree.query(shapely.box(minx - margin, miny - margin,
                                              maxx + margin, maxy + margin)))
        if area is not None:
            hits = hits[self.provinces[hits] == area]
        if not len(hits):
            return nothing
        shapes = simple[hits]
        if self.layer.geometry != "point":
            shapes = shapely.clip_by_rect(shapes, minx - margin, miny - margin,
                                          maxx + margin, maxy + margin)
        scale = extent / (maxx - minx)

        def to_tile(coords: np.ndarray) -> np.ndarray:
            return np.column_stack([(coords[:, 0] - minx) * scale,
                                    (maxy - coords[:, 1]) * scale])

        shapes = shapely.transform(shapes, to_tile)
        mixed = np.flatnonzero((shapely.get_type_id(shapes) == 7) | shapely.is_empty(shapes))
        if len(mixed):  # clipping made collections or empties: keep the layer's kind
            shapes = shapes.copy()
            shapes[mixed] = [only(shapes[i], self.layer.geometry) for i in mixed]
            kept = np.flatnonzero(~shapely.is_missing(shapes))
            hits, shapes = hits[kept], shapes[kept]
        return hits, shapes


_KEEP = {"polygon": ("Polygon", "MultiPolygon"), "line": ("LineString", "MultiLineString"),
         "point": ("Point", "MultiPoint")}


def only(shape, geometry: str):
    """Keep the parts of a clipped shape that match the layer's geometry (None if none)."""
    if shape is None or shape.is_empty:
        return None
    if shape.geom_type != "GeometryCollection":
        return shape
    parts = [p for p in shapely.get_parts(shape) if p.geom_type in _KEEP[geometry]
             and not p.is_empty]
    return shapely.union_all(parts) if parts else None


def prepare(store, layer: LayerDef, year: int | None = None, runs=None,
            previous: TileSource | None = None) -> TileSource:
    """Read `layer`'s features from the store and prepare them for tiles.

    Indicator layers join the year of their parameters ("latest" resolved here); record
    layers take `year` as a filter on the records (None: every year). Analysis layers wait
    for their result in the app's run registry `runs` (computed now if needed;
    `SourceCache.get` never waits). `previous`, the same layer prepared for an earlier
    data version, lends its geometries, bands and indexes when its shapes are still the
    current ones and it holds the same features (an import that changed only values):
    only the properties are new, and no geometry is made again.
    """
    if layer.source.analysis is not None:
        from geoservice.layers.analysis import result_for

        result = result_for(runs, store, layer, wait=True)
        return from_rows(layer, result.token, result.features())
    if layer.source.geometry_transform == "label_points":  # names (render.labels)
        from geoservice.render.labelstore import labels_of

        return from_rows(layer, layer_data_version(store, layer), labels_of(store).rows())
    version = layer_data_version(store, layer)
    shapes = shape_version(store, layer)
    if (previous is not None and previous.shape_version == shapes
            and not layer.source.geometry_transform):  # the shapes may be kept: read no geometry
        kept = _new_values(previous, layer, _read(store, layer, year, geometry=False), version)
        if kept is not None:
            return kept
    rows = _read(store, layer, year)
    anchors = _commune_points(store) if layer.source.geometry_transform else {}
    geometries, properties, symbols, provinces, ids, shapeless = [], [], [], [], [], []
    for fid, props, geometry in rows:
        if anchors:  # lines start at the Vietnamese unit, not at the record's point
            geometry = anchors.get(props.get("commune_code"))
        if not layer.accepts(props):
            continue
        geometry = layer.transform_geometry(geometry, props) if geometry is not None else None
        if geometry is None or geometry.is_empty:
            shapeless.append(fid)
            continue
        geometries.append(geometry)
        ids.append(fid)
        properties.append(layer.tile_properties(props))
        symbols.append(layer.symbol_for(props))
        provinces.append(props.get("province_code")
                         or (props.get("code") if layer.source.collection == "provinces"
                             else None) or "")
    if previous is not None and previous.shape_version == shapes and previous.ids == ids:
        LOGGER.info("prepared layer %s: %d features, shapes kept (data version %s)",
                    layer.id, len(ids), version)
        return previous.with_values(version, properties, _shared(symbols))
    lonlat = np.array(geometries, dtype=object) if geometries else np.array([], dtype=object)
    projected = to_mercator(lonlat) if geometries else lonlat
    LOGGER.info("prepared layer %s: %d features (data version %s)", layer.id, len(projected),
                version)
    source = TileSource(layer, version, projected, properties, _shared(symbols),
                        np.array(provinces, dtype=object), ids, lonlat, shape_version=shapes,
                        shapeless=frozenset(shapeless))
    _prepared_bands(store, source, year)
    return source


def _new_values(previous: TileSource, layer: LayerDef, rows, version: str
                ) -> TileSource | None:
    """`previous` with the values of `rows` (read without geometry), when they are the
    same features (its shapes are current, so a feature without geometry then still has
    none); None when the features differ (the layer is prepared anew)."""
    ids, properties, symbols = [], [], []
    for fid, props, _none in rows:
        if layer.accepts(props) and fid not in previous.shapeless:
            ids.append(fid)
            properties.append(layer.tile_properties(props))
            symbols.append(layer.symbol_for(props))
    if ids != previous.ids:
        return None
    LOGGER.info("prepared layer %s: %d features, shapes kept (data version %s)", layer.id,
                len(ids), version)
    return previous.with_values(version, properties, _shared(symbols))


def shape_key(layer: LayerDef, year: int | None = None) -> str | None:
    """What a layer's band shapes depend on besides the data (None: points, whose bands
    are their geometries and cost nothing to make)."""
    if layer.geometry == "point":
        return None
    top = max(low for low, high in BANDS if low <= layer.maxzoom)
    return "|".join((layer.source.collection, layer.source.geometry_transform or "",
                     layer.geometry, "" if year is None else str(year), str(top)))


def _prepared_bands(store, source: TileSource, year: int | None) -> None:
    """Give `source` its band shapes: those kept in the store, else simplified now and
    kept (a failure to keep them costs the next process the simplification, no tile)."""
    key = shape_key(source.layer, year)
    if key is None or not len(source):
        source.simplify()
        return
    version = shape_version(store, source.layer)
    if source.load_bands(store.prepared_shapes(key, version)):
        return
    source.simplify()
    try:
        store.save_prepared_shapes(key, version, source.band_shapes())
    except Exception as exc:  # noqa: BLE001 - e.g. a database locked by a long import
        LOGGER.warning("could not keep the prepared shapes of %s: %s", key, exc)


def from_rows(layer: LayerDef, version: str, rows) -> TileSource:
    """Prepare (id, properties, WGS 84 geometry) rows, e.g. an analysis's zones."""
    kept = [(fid, props, geometry) for fid, props, geometry in rows
            if geometry is not None and not geometry.is_empty and layer.accepts(props)]
    lonlat = np.array([g for _f, _p, g in kept], dtype=object)
    source = TileSource(layer, version, to_mercator(lonlat) if kept else lonlat,
                        [layer.tile_properties(p) for _f, p, _g in kept],
                        _shared([layer.symbol_for(p) for _f, p, _g in kept]),
                        np.array([p.get("province_code") or "" for _f, p, _g in kept],
                                 dtype=object), [f for f, _p, _g in kept], lonlat)
    source.simplify()
    return source


def _shared(symbols: list) -> list:
    """The symbols with equal ones made one object (a class's thousands of features share
    it: the PNG renderer then looks its pen and brush up by identity)."""
    shared: dict = {}
    return [None if symbol is None else shared.setdefault(symbol, symbol)
            for symbol in symbols]


def _commune_points(store) -> dict:
    """A point inside each commune (where lines from that commune start)."""
    page = store.query("communes", FeatureQuery(limit=ALL))
    return {fid: geometry.representative_point() for fid, _props, geometry in page.features
            if geometry is not None}


def _read(store, layer: LayerDef, year: int | None, geometry: bool = True):
    collection = layer.source.collection
    if COLLECTIONS[collection].source == "records":
        page = store.query_records(collection, RecordQuery(limit=ALL, year=year,
                                                           geometry=geometry))
        return page.features
    page = store.query(collection, FeatureQuery(limit=ALL, geometry=geometry))
    if layer.source.indicator is None:
        return page.features
    indicator_year = layer.params.get("year")
    if indicator_year in (None, "latest"):
        indicator_year = published.indicator_year(store, None)
    return published.decorate(store, collection, page.features, indicator_year,
                              Area.national())
