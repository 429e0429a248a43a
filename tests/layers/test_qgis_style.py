"""QGIS itself (Debian's python3-qgis, headless) loads our QML and SLD styles and draws
features in our colours; and QGIS 3.22's MapLibre converter keeps every legend colour."""

from __future__ import annotations

import json
import os
import subprocess
import xml.etree.ElementTree as ET

import pytest

from geoservice.layers.catalog import load_catalog
from geoservice.layers.qgis import qml
from geoservice.layers.sld import OGC, SE, SLD, sld
from geoservice.layers.style import maplibre_style

SYSTEM_PYTHON = "/usr/bin/python3"
DRAW = """
import sys
from qgis.core import *
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor
app = QgsApplication([], False); app.initQgis()
path, prop, kind, value = sys.argv[1:5]
vl = QgsVectorLayer(f"Polygon?crs=EPSG:3857&field={prop}:{kind}", "t", "memory")
f = QgsFeature(vl.fields()); f.setAttribute(0, float(value) if kind == "double" else value)
f.setGeometry(QgsGeometry.fromWkt("POLYGON((0 0, 100 0, 100 100, 0 100, 0 0))"))
vl.dataProvider().addFeatures([f])
msg, ok = vl.loadSldStyle(path) if path.endswith(".sld") else vl.loadNamedStyle(path)
assert ok, msg
s = QgsMapSettings(); s.setLayers([vl]); s.setDestinationCrs(vl.crs())
s.setExtent(QgsRectangle(-10, -10, 110, 110)); s.setOutputSize(QSize(64, 64))
s.setBackgroundColor(QColor(255, 255, 255))
job = QgsMapRendererSequentialJob(s); job.start(); job.waitForFinished()
print(vl.renderer().type(), QColor(job.renderedImage().pixel(32, 32)).name())
"""


def _qgis() -> None:
    found = subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True,
                           check=False).returncode == 0 if os.path.exists(SYSTEM_PYTHON) else False
    if not found:
        if os.environ.get("GEOSERVICE_REQUIRE_QGIS") == "1":
            pytest.fail("GEOSERVICE_REQUIRE_QGIS=1 but python3-qgis is not installed")
        pytest.skip("python3-qgis is not installed (apt-get install python3-qgis)")


def _run(*args: str) -> str:
    env = {"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    done = subprocess.run([SYSTEM_PYTHON, *args], capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


def _over_white(hex_colour: str, opacity: float) -> str:
    channels = [int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c * opacity + 255 * (1 - opacity)):02x}" for c in channels)


@pytest.mark.parametrize(("layer_id", "lang", "kind", "value", "colour", "opacity"), [
    ("border-communes", "vi", "string", "CN", "#d55e00", 0.75),
    ("border-communes", "en", "string", "KH,LA", "#e69f00", 0.75),
    ("certification-rate", "en", "double", "0.9", "#2c7fb8", 0.85),
    ("certification-rate", "vi", "double", "0.5", "#a1dab4", 0.85),  # closed below
])
@pytest.mark.parametrize("fmt", ["qml", "sld"])
def test_qgis_draws_our_colours(tmp_path, layer_id, lang, kind, value, colour, opacity, fmt):
    _qgis()
    layer = load_catalog()[layer_id]
    path = tmp_path / f"style.{fmt}"
    path.write_text((qml if fmt == "qml" else sld)(layer, lang), encoding="utf-8")
    script = tmp_path / "draw.py"
    script.write_text(DRAW)
    renderer, drawn = _run(str(script), str(path), layer.style.property, kind, value).split()
    assert renderer == "RuleRenderer"
    wanted = _over_white(colour, opacity)
    assert all(abs(int(drawn[i:i + 2], 16) - int(wanted[i:i + 2], 16)) <= 2
               for i in (1, 3, 5)), (drawn, wanted)


def test_sld_structure():
    layer = load_catalog()["certification-rate"]
    root = ET.fromstring(sld(layer, "en").split("\n", 1)[1])
    assert root.tag == f"{{{SLD}}}StyledLayerDescriptor" and root.get("version") == "1.1.0"
    rules = root.findall(f".//{{{SE}}}FeatureTypeStyle/{{{SE}}}Rule")
    titles = [r.find(f"{{{SE}}}Description/{{{SE}}}Title").text for r in rules]
    assert titles == [e["label"] for e in layer.legend("en")["entries"]]
    second = rules[1].find(f"{{{OGC}}}Filter/{{{OGC}}}And")
    assert [c.tag.split("}")[1] for c in second] == ["PropertyIsGreaterThanOrEqualTo",
                                                     "PropertyIsLessThan"]
    assert rules[-1].find(f"{{{OGC}}}Filter/{{{OGC}}}PropertyIsNull") is not None
    fills = [r.find(f".//{{{SE}}}SvgParameter[@name='fill']").text for r in rules]
    assert fills == [e["color"] for e in layer.legend("en")["entries"]]


CONVERT = """
import json, sys
from qgis.core import *
app = QgsApplication([], False); app.initQgis()
conv = QgsMapBoxGlStyleConverter()
conv.convert(json.load(open(sys.argv[1])), QgsMapBoxGlStyleConversionContext())
print(json.dumps({"warnings": conv.warnings(), "styles": [
    [s.filterExpression(), s.symbol().color().name()] for s in conv.renderer().styles()]}))
"""


@pytest.mark.parametrize("layer_id", ["border-communes", "certification-rate", "model-points"])
def test_qgis_converts_our_maplibre_style(tmp_path, layer_id):
    _qgis()
    catalog = load_catalog()
    path = tmp_path / "style.json"
    path.write_text(json.dumps(maplibre_style(catalog, "http://x/tiles", [layer_id])))
    script = tmp_path / "convert.py"
    script.write_text(CONVERT)
    result = json.loads(_run(str(script), str(path)))
    assert result["warnings"] == []
    colours = [colour for _filter, colour in result["styles"]]
    for entry in catalog[layer_id].legend("vi")["entries"]:
        assert entry["color"] in colours, entry
