"""JSON responses with orjson: several times faster than the standard library on feature
pages, and geometries written by GEOS are spliced in as they are (`geoservice.geojson`),
never parsed into Python lists and printed again.

Output is UTF-8 (Vietnamese names stay readable, NFC as stored), keys in insertion order.
"""

from __future__ import annotations

import orjson
from flask.json.provider import DefaultJSONProvider

OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


class OrjsonProvider(DefaultJSONProvider):
    """Flask's JSON provider backed by orjson (falls back to Flask's `default` for types
    orjson does not know, such as dates or decimals)."""

    def dumps(self, obj, **kwargs) -> str:
        """Serialise `obj` to a JSON string."""
        return orjson.dumps(obj, default=self.default, option=OPTIONS).decode("utf-8")

    def response(self, *args, **kwargs):
        """A JSON response; the body is orjson's bytes, not re-encoded."""
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(orjson.dumps(obj, default=self.default,
                                                     option=OPTIONS),
                                        mimetype=self.mimetype)
