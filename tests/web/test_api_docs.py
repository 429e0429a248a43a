"""docs/api.md against the routes: the "Endpoints at a glance" table names every route the
app has, and every row of it is a route that answers that method.

A route added without a line in the table, or a line left behind by a removed route, fails
here, so the page officials' integrators read cannot drift from the service.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from werkzeug.exceptions import MethodNotAllowed, NotFound

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
ROW = re.compile(r"^\| ((?:`[A-Z]+ [^`]+`(?:, )?)+) \|")
ENDPOINT = re.compile(r"`([A-Z]+) ([^`]+)`")
PLACEHOLDER = re.compile(r"\{[^}]+\}")


def documented() -> list[tuple[str, str]]:
    """(method, path) of every endpoint in the table, in the order written."""
    text = DOC.read_text(encoding="utf-8")
    table = text.split("## Endpoints at a glance", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in table.splitlines():
        match = ROW.match(line)
        if match:
            rows.extend(ENDPOINT.findall(match.group(1)))
    return rows


@pytest.fixture
def adapter(make_app, loaded_db):
    app = make_app(loaded_db)
    return app, app.url_map.bind("localhost")


def test_the_table_is_read():
    rows = documented()
    assert len(rows) > 40 and ("GET", "/collections/{id}/items") in rows


def test_every_documented_endpoint_is_a_route(adapter):
    _app, urls = adapter
    stale = []
    for method, path in documented():
        sample = PLACEHOLDER.sub("1", path)
        try:
            urls.match(sample, method=method)
        except (NotFound, MethodNotAllowed):
            stale.append(f"{method} {path}")
    assert not stale, f"docs/api.md names endpoints the app does not have: {stale}"


def test_every_route_is_in_the_table(adapter):
    app, urls = adapter
    covered = set()
    for method, path in documented():
        try:
            endpoint, _ = urls.match(PLACEHOLDER.sub("1", path), method=method)
        except (NotFound, MethodNotAllowed):
            continue
        covered.add((endpoint, method))
    missing = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if (rule.endpoint, method) not in covered:
                missing.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert not missing, f"routes missing from docs/api.md's table: {missing}"
