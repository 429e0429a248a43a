"""The name search blueprint: `GET /search?q=` (`geoservice.api.search`)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from geoservice import access, services
from geoservice.api.search import parse_search, search_units

blueprint = Blueprint("search", __name__)


@blueprint.get("/search")
@access.public
def search():
    """Units whose name contains the words of `q` (JSON)."""
    key, limit = parse_search(request.args)
    return jsonify(search_units(services.current().store, key, limit))
