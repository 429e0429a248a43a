"""Helpers for the layer tests: a copy of a real layer file with edits, and colour parsing."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from geoservice.layers.catalog import LAYERS_FOLDER
from geoservice.render.symbols import parse_colour


def copy_layer(tmp_path: Path, name: str, *edits: tuple[str, str],
               as_name: str | None = None) -> Path:
    """Copy layers/<name>.toml into tmp_path/layers, replacing each (old, new) once."""
    folder = tmp_path / "layers"
    folder.mkdir(exist_ok=True)
    text = (LAYERS_FOLDER / f"{name}.toml").read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) >= 1, f"{old!r} not in {name}.toml"
        text = text.replace(old, new, 1)
    (folder / f"{as_name or name}.toml").write_text(text, encoding="utf-8")
    return folder


def copy_folder(tmp_path: Path) -> Path:
    """Copy the whole real layers/ folder into tmp_path/layers."""
    folder = tmp_path / "layers"
    shutil.copytree(LAYERS_FOLDER, folder)
    return folder


def css_to_rgba(text: str) -> tuple[int, int, int, int]:
    """Parse '#rrggbb' or 'rgba(r, g, b, a)' as written by the catalogue."""
    match = re.fullmatch(r"rgba\((\d+), (\d+), (\d+), ([\d.]+)\)", text)
    if match:
        red, green, blue, alpha = match.groups()
        return int(red), int(green), int(blue), round(float(alpha) * 255)
    return parse_colour(text)


def evaluate(expression, properties: dict, geometry_type: str = "Polygon"):
    """Evaluate the subset of MapLibre expressions the catalogue writes, on one feature.

    Follows the style specification: ``get`` of a missing property is null, ``step``
    takes the last stop whose input is <= the value, ``match`` compares literal labels
    (or arrays of labels) and falls back to its last argument.
    """
    if not isinstance(expression, list):
        return expression
    op, args = expression[0], expression[1:]

    def value(item):
        return evaluate(item, properties, geometry_type)
    if op in SIMPLE:
        return SIMPLE[op](args, properties, geometry_type, value)
    if op == "case":
        for condition, result in zip(args[:-1:2], args[1:-1:2]):
            if value(condition):
                return value(result)
        return value(args[-1])
    if op == "step":
        number, result = value(args[0]), args[1]
        assert isinstance(number, int | float) and not isinstance(number, bool), number
        for stop, output in zip(args[2::2], args[3::2]):
            result = output if number >= stop else result
        return result
    assert op == "match", f"unexpected expression operator {op!r}"
    found = value(args[0])
    for labels, output in zip(args[1:-1:2], args[2:-1:2]):
        if found in (labels if isinstance(labels, list) else [labels]):
            return value(output)
    return value(args[-1])


SIMPLE = {
    "get": lambda args, props, _geometry, _value: props.get(args[0]),
    "has": lambda args, props, _geometry, _value: args[0] in props,
    "geometry-type": lambda _args, _props, geometry, _value: geometry,
    "typeof": lambda args, _props, _geometry, value: _typeof(value(args[0])),
    "!": lambda args, _props, _geometry, value: not value(args[0]),
    "any": lambda args, _props, _geometry, value: any(value(a) for a in args),
    "all": lambda args, _props, _geometry, value: all(value(a) for a in args),
    "==": lambda args, _props, _geometry, value: value(args[0]) == value(args[1]),
    "!=": lambda args, _props, _geometry, value: value(args[0]) != value(args[1]),
    "<": lambda args, _props, _geometry, value: _compare(value(args[0]), value(args[1]), -1),
    ">=": lambda args, _props, _geometry, value: _compare(value(args[0]), value(args[1]), 1),
}


def _compare(left, right, sign: int) -> bool:
    """MapLibre's `<` (sign -1) and `>=` (sign 1) of a property and a number: a value that
    is not a number makes the expression fail, so the filter drops the feature."""
    if _typeof(left) != "number" or _typeof(right) != "number":
        return False
    return left < right if sign < 0 else left >= right


def _typeof(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "string" if isinstance(value, str) else "object"
