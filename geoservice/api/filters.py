"""CQL2 filters (OGC API - Features Part 3): `filter` and `filter-lang` into store conditions.

A filter is parsed with pygeofilter (CQL2 text or JSON), then checked against the
collection's queryables — an unknown property, a value of the wrong type or an operator
we do not translate is refused naming it — and turned into the plain conditions of
`geoservice.store.cql`, which both stores write as SQL. Supported: comparisons, AND, OR,
NOT, LIKE, IN, BETWEEN, IS NULL and S_INTERSECTS of the geometry with a BBOX or a WKT /
GeoJSON geometry. Layer collections, whose features are prepared in memory, evaluate the
same conditions with `matches`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date, datetime

import shapely

from geoservice import params as P
from geoservice.errors import InvalidParameter
from geoservice.store.cql import Filter

GEOMETRY = "geometry"
SCALARS = {"string": (str,), "number": (int, float), "integer": (int, float),
           "boolean": (bool,)}


def _refuse(message: str) -> InvalidParameter:
    return InvalidParameter(message, parameter="filter")


def parse(args: Mapping[str, str], types: Mapping[str, str]) -> Filter | None:
    """The `filter` of a request (None without one), checked against `types`
    (queryable property -> JSON type)."""
    text = P.FILTER.get(args)
    lang = P.FILTER_LANG.get(args, "cql2-text")
    P.FILTER_CRS.get(args)
    if text is None:
        return None
    node = _parse(text, lang)
    return Filter(_condition(node, types), dict(types))


def _parse(text: str, lang: str):
    from lark.exceptions import LarkError

    try:
        if lang == "cql2-json":
            from pygeofilter.parsers.cql2_json import parse as parse_json

            try:
                document = json.loads(text)
            except ValueError:
                raise _refuse("filter is not valid JSON (filter-lang=cql2-json).") from None
            return parse_json(_bbox_as_polygon(document))
        from pygeofilter.parsers.cql2_text import parse as parse_text

        return parse_text(text)
    except InvalidParameter:
        raise
    except LarkError as error:
        first = str(error).strip().splitlines()[0][:200]
        raise _refuse(f"filter is not valid CQL2 text: {first}") from None
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as error:
        raise _refuse(f"filter cannot be read: {str(error)[:200]}") from None


def _bbox_as_polygon(node):
    """cql2-json's {"bbox": [...]} as a GeoJSON polygon (pygeofilter misreads its order)."""
    if isinstance(node, dict):
        if set(node) == {"bbox"} and isinstance(node["bbox"], list):
            return _bbox_shape(node["bbox"]).__geo_interface__
        return {k: _bbox_as_polygon(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_bbox_as_polygon(v) for v in node]
    return node


def _bbox_shape(numbers):
    if len(numbers) not in (4, 6) or not all(isinstance(n, int | float) for n in numbers):
        raise _refuse("BBOX takes four numbers (or six).")
    return shapely.box(*P.bbox(",".join(str(n) for n in numbers), "filter"))


def _condition(node, types: Mapping[str, str]) -> tuple:  # noqa: C901 - one case per node
    from pygeofilter import ast

    if isinstance(node, ast.And | ast.Or):
        return ("and" if isinstance(node, ast.And) else "or",
                _condition(node.lhs, types), _condition(node.rhs, types))
    if isinstance(node, ast.Not):
        return ("not", _condition(node.sub_node, types))
    if isinstance(node, ast.Comparison):
        op, lhs, rhs = node.op.value, node.lhs, node.rhs
        if not isinstance(lhs, ast.Attribute) and isinstance(rhs, ast.Attribute):
            op, lhs, rhs = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(op, op), rhs, lhs
        prop = _property(lhs, types)
        return ("cmp", op, prop, _value(rhs, prop, types))
    if isinstance(node, ast.Like):
        prop = _property(node.lhs, types)
        if types[prop] != "string" or not isinstance(node.pattern, str):
            raise _refuse(f"LIKE compares text: '{prop}' is {types[prop]}.")
        return _negated(node.not_, ("like", prop, node.pattern))
    if isinstance(node, ast.In):
        prop = _property(node.lhs, types)
        return _negated(node.not_, ("in", prop, [_value(v, prop, types)
                                                 for v in node.sub_nodes]))
    if isinstance(node, ast.Between):
        prop = _property(node.lhs, types)
        return _negated(node.not_, ("between", prop, _value(node.low, prop, types),
                                    _value(node.high, prop, types)))
    if isinstance(node, ast.IsNull):
        return _negated(node.not_, ("isnull", _property(node.lhs, types)))
    if isinstance(node, ast.GeometryIntersects):
        return _intersects(node, types)
    raise _refuse(f"filter: {_name(node)} is not supported. Supported: comparisons, AND, OR, "
                  "NOT, LIKE, IN, BETWEEN, IS NULL, S_INTERSECTS.")


def _name(node) -> str:
    op = getattr(node, "op", None)
    if op is not None:
        return str(getattr(op, "value", op)).upper()
    return getattr(node, "name", None) or type(node).__name__


def _negated(negate: bool, condition: tuple) -> tuple:
    return ("not", condition) if negate else condition


def _property(node, types: Mapping[str, str]) -> str:
    from pygeofilter import ast

    if not isinstance(node, ast.Attribute):
        raise _refuse(f"filter: expected a property name, got {_name(node)}.")
    if node.name not in types or node.name == GEOMETRY:
        known = ", ".join(n for n in types if n != GEOMETRY)
        raise InvalidParameter(f"filter: '{node.name}' is not a queryable property of this "
                               f"collection. Queryables: {known}.", parameter="filter")
    return node.name


def _value(value, prop: str, types: Mapping[str, str]):
    kind = types[prop]
    if isinstance(value, date | datetime) and kind == "string":
        return value.isoformat()
    allowed = SCALARS.get(kind, ())
    if isinstance(value, bool) and kind != "boolean" or not isinstance(value, allowed):
        shown = type(value).__name__ if not isinstance(value, str) else f"'{value[:40]}'"
        raise _refuse(f"filter: '{prop}' is {kind}, not compared with {shown}.")
    return value


def _intersects(node, types: Mapping[str, str]) -> tuple:
    from pygeofilter import ast, values

    lhs, rhs = node.lhs, node.rhs
    if isinstance(rhs, ast.Attribute):
        lhs, rhs = rhs, lhs
    if not (isinstance(lhs, ast.Attribute) and lhs.name == GEOMETRY and GEOMETRY in types):
        raise _refuse("S_INTERSECTS compares the property 'geometry' with a geometry.")
    if isinstance(rhs, ast.Function) and rhs.name.lower() == "bbox":
        shape = _bbox_shape(rhs.arguments)
    elif isinstance(rhs, values.Geometry):
        try:
            shape = shapely.geometry.shape(rhs.geometry)
        except (ValueError, TypeError, AttributeError, KeyError):
            raise _refuse("S_INTERSECTS: the geometry cannot be read.") from None
    elif isinstance(rhs, values.Envelope):
        shape = shapely.box(rhs.x1, rhs.y1, rhs.x2, rhs.y2)
    else:
        raise _refuse("S_INTERSECTS takes a BBOX(...) or a geometry.")
    if shape.is_empty or not shape.is_valid:
        raise _refuse("S_INTERSECTS: the geometry is empty or invalid.")
    return ("intersects", shapely.to_wkb(shape), tuple(shape.bounds))


# --- evaluated in memory (layer collections) ----------------------------------------------

def matches(condition: tuple, properties: Mapping, geometry) -> bool:
    """True when a feature meets `condition` (SQL's rules: a null compares as unknown)."""
    return _evaluate(condition, properties, geometry) is True


def _evaluate(condition: tuple, props: Mapping, geometry):  # noqa: C901 - one case per op
    op = condition[0]
    if op in ("and", "or"):
        left = _evaluate(condition[1], props, geometry)
        right = _evaluate(condition[2], props, geometry)
        if op == "and":
            return False if False in (left, right) else (None if None in (left, right)
                                                          else True)
        return True if True in (left, right) else (None if None in (left, right) else False)
    if op == "not":
        inner = _evaluate(condition[1], props, geometry)
        return None if inner is None else not inner
    if op == "intersects":
        return geometry is not None and bool(
            shapely.intersects(shapely.from_wkb(condition[1]), geometry))
    value = props.get(condition[2] if op == "cmp" else condition[1])
    if op == "isnull":
        return value is None
    if value is None:
        return None
    try:
        return _compare(op, condition, value)
    except TypeError:  # a value not of its declared type compares as unknown
        return None


def _compare(op: str, condition: tuple, value):
    if op == "cmp":
        other = condition[3]
        return {"=": value == other, "<>": value != other, "<": value < other,
                "<=": value <= other, ">": value > other, ">=": value >= other}[condition[1]]
    if op == "like":
        return re.fullmatch(_regex(condition[2]), str(value), flags=re.S) is not None
    if op == "in":
        return value in condition[2]
    if op == "between":
        return condition[2] <= value <= condition[3]
    return None


def _regex(pattern: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        i += 1
    return "".join(out)
