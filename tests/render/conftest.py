"""Fixtures of the rendering tests."""

from __future__ import annotations

import pytest

from geoservice.boundaries.load import load_boundaries
from geoservice.store import open_store


@pytest.fixture
def loaded_url(store_url, built):
    """A store of each backend of its own with the fixture boundaries."""
    store = open_store(store_url)
    load_boundaries(store, built.gpkg)
    store.close()
    return store_url
