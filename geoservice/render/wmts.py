"""WMTS 1.0.0 GetCapabilities (RESTful binding) listing the layers a reader may see as PNG
tiles, in the Web Mercator tile matrix set (GoogleMapsCompatible), for desktop GIS."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from geoservice.tilemath import matrix_limits

MATRIX_SET = "WebMercatorQuad"
TOP_LEFT = "-20037508.3427892 20037508.3427892"
SCALE_Z0 = 559082264.0287178  # scale denominator of zoom 0 (0.28 mm pixels)
MAX_ZOOM = 18
ABSTRACT = ("Vietnam's 2025 administrative units, border communes and security and order "
            "layers")
# Vietnam and its neighbours' border regions (the basemap's extent): west, south, east, north.
REGION_BOUNDS = (97.0, 5.0, 115.0, 26.0)


def capabilities(catalog: dict, layer_ids: list[str], base: str, lang: str = "vi") -> str:
    """Return the capabilities XML for the given layers."""
    west, south, east, north = REGION_BOUNDS
    layers = []
    for layer_id in layer_ids:
        layer = catalog[layer_id]
        template = f"{base}/tiles/{layer_id}/{{TileMatrix}}/{{TileCol}}/{{TileRow}}.png"
        layers.append(f"""
    <Layer>
      <ows:Title>{escape(layer.title(lang))}</ows:Title>
      <ows:Abstract>{escape(layer.description.get(lang))}</ows:Abstract>
      <ows:WGS84BoundingBox>
        <ows:LowerCorner>{west} {south}</ows:LowerCorner>
        <ows:UpperCorner>{east} {north}</ows:UpperCorner>
      </ows:WGS84BoundingBox>
      <ows:Identifier>{escape(layer_id)}</ows:Identifier>
      <Style isDefault="true"><ows:Identifier>default</ows:Identifier>
        <LegendURL format="image/png" xlink:href={quoteattr(
            f"{base}/tiles/{layer_id}/legend.png?lang={lang}")}/>
      </Style>
      <Format>image/png</Format>
      <TileMatrixSetLink><TileMatrixSet>{MATRIX_SET}</TileMatrixSet>
        <TileMatrixSetLimits>{_limits(layer.minzoom, min(layer.maxzoom, MAX_ZOOM))}
        </TileMatrixSetLimits>
      </TileMatrixSetLink>
      <ResourceURL format="image/png" resourceType="tile" template={quoteattr(template)}/>
    </Layer>""")
    matrices = "".join(f"""
      <TileMatrix>
        <ows:Identifier>{z}</ows:Identifier>
        <ScaleDenominator>{SCALE_Z0 / 2**z!r}</ScaleDenominator>
        <TopLeftCorner>{TOP_LEFT}</TopLeftCorner>
        <TileWidth>256</TileWidth><TileHeight>256</TileHeight>
        <MatrixWidth>{2**z}</MatrixWidth><MatrixHeight>{2**z}</MatrixHeight>
      </TileMatrix>""" for z in range(MAX_ZOOM + 1))
    url = f"{base}/wmts/1.0.0/WMTSCapabilities.xml"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Capabilities xmlns="http://www.opengis.net/wmts/1.0" xmlns:ows="http://www.opengis.net/ows/1.1"
    xmlns:xlink="http://www.w3.org/1999/xlink" version="1.0.0">
  <ows:ServiceIdentification>
    <ows:Title>geoservice</ows:Title>
    <ows:Abstract>{ABSTRACT}</ows:Abstract>
    <ows:ServiceType>OGC WMTS</ows:ServiceType>
    <ows:ServiceTypeVersion>1.0.0</ows:ServiceTypeVersion>
  </ows:ServiceIdentification>
  <Contents>{"".join(layers)}
    <TileMatrixSet>
      <ows:Identifier>{MATRIX_SET}</ows:Identifier>
      <ows:SupportedCRS>urn:ogc:def:crs:EPSG::3857</ows:SupportedCRS>
      <WellKnownScaleSet>urn:ogc:def:wkss:OGC:1.0:GoogleMapsCompatible</WellKnownScaleSet>{matrices}
    </TileMatrixSet>
  </Contents>
  <ServiceMetadataURL xlink:href={quoteattr(url)}/>
</Capabilities>
"""


def _limits(low: int, high: int) -> str:
    """Tile ranges over Vietnam for each zoom the layer has."""
    west, south, east, north = REGION_BOUNDS
    rows = []
    for z in range(low, high + 1):
        (col0, row0), (col1, row1) = matrix_limits((west, south, east, north), z)
        rows.append(f"""
          <TileMatrixLimits><TileMatrix>{z}</TileMatrix>
            <MinTileRow>{row0}</MinTileRow><MaxTileRow>{row1}</MaxTileRow>
            <MinTileCol>{col0}</MinTileCol><MaxTileCol>{col1}</MaxTileCol>
          </TileMatrixLimits>""")
    return "".join(rows)
