"""MapLibre styles of layers: one vector source per layer, drawn as its `Style` says."""

from __future__ import annotations

from urllib.parse import urlencode

from geoservice.errors import NotFound
from geoservice.layers.definition import BACKGROUND, LayerDef
from geoservice.render import classify


def maplibre_layers(layer: LayerDef, source_id: str, source_layer: str) -> list[dict]:
    """Return the MapLibre style layers drawing `layer` from a vector source."""
    return classify.maplibre_layers(layer.style, layer.id, source_id, source_layer,
                                    layer.minzoom)


def maplibre_style(catalog: dict[str, LayerDef], tiles_base_url: str,
                   layer_ids: list[str] | None = None, lang: str = "vi") -> dict:
    """Return a MapLibre style (spec v8) with one vector tile source per layer.

    Tiles are ``{tiles_base_url}/{layer}/{z}/{x}/{y}.mvt`` (plus the layer's parameters
    where they differ from its defaults); the layer inside each tile is named by the
    layer id. No glyphs or sprite are referenced, so nothing is fetched besides tiles.
    """
    ids = (list(layer_ids) if layer_ids is not None
           else sorted(catalog, key=lambda i: (catalog[i].order, i)))
    unknown = [i for i in ids if i not in catalog]
    if unknown:
        raise NotFound(f"There is no layer '{unknown[0]}'. Layers: {', '.join(catalog)}.",
                       parameter="layers")
    base = tiles_base_url.rstrip("/")
    sources, layers = {}, [{"id": "background", "type": "background",
                            "paint": {"background-color": BACKGROUND}}]
    for layer_id in ids:
        layer = catalog[layer_id]
        changed = {k: v for k, v in layer.params.items()
                   if not k.startswith("_") and layer.source.params.get(k) != v}
        query = f"?{urlencode(changed)}" if changed else ""
        sources[layer_id] = {"type": "vector",
                             "tiles": [f"{base}/{layer_id}/{{z}}/{{x}}/{{y}}.mvt{query}"],
                             "minzoom": layer.minzoom, "maxzoom": layer.maxzoom}
        layers += maplibre_layers(layer, layer_id, layer_id)
    return {"version": 8, "name": "geoservice", "sources": sources, "layers": layers,
            "metadata": {"geoservice:lang": lang,
                         "geoservice:legends": [catalog[i].legend(lang) for i in ids]}}
