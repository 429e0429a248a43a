"""The OpenAPI document is the API: generated from the parsers the routes use, it lists
every collection (stored and layers) with exactly the parameters each takes, and every
documented operation answers as documented. Schemathesis sends schema-valid requests
(derandomised, a few per operation) on both stores: 0 server errors, 0 schema violations."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from geoservice.auth import create_key
from geoservice.services import of as services_of
from tests.web.helpers import get

EXAMPLES = int(os.environ.get("OPENAPI_EXAMPLES", "3"))
# Server errors are asserted below: 503 is the documented "analysis not ready / store
# unavailable" answer (an analysis layer of a fixture without dated incidents), no other 5xx.
CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]


def items_parameters(document: dict, collection: str) -> dict:
    operation = document["paths"][f"/collections/{collection}/items"]["get"]
    shared = document["components"]["parameters"]
    resolved = [shared[p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p
                for p in operation["parameters"]]
    return {p["name"]: p for p in resolved}


def test_document_lists_every_collection_with_its_own_parameters(client):
    document = get(client, "/api", content_type="application/vnd.oai.openapi+json")
    ids = [c["id"] for c in get(client, "/collections")["collections"]]
    for cid in ids:
        assert f"/collections/{cid}/items" in document["paths"], cid
        assert f"/collections/{cid}/queryables" in document["paths"], cid
    communes = items_parameters(document, "communes")
    assert {"year", "f", "datetime", "filter", "filter-lang", "sortby", "properties",
            "bbox", "limit", "offset", "province_code", "q"} <= set(communes)
    assert communes["bbox"]["schema"]["maxItems"] == 6
    assert communes["limit"]["schema"]["maximum"] == 1000
    assert "group" in items_parameters(document, "certification-rate")
    assert "group" not in items_parameters(document, "border-communes-cn")
    assert "model_type" not in items_parameters(document, "certification-rate")
    props = document["components"]["schemas"]
    assert props["communes_properties"]["properties"]["official_area_km2"]["nullable"]
    assert props["legacy_communes_properties"]["properties"]["area_km2"]["nullable"]
    assert props["certification_properties"]["properties"]["source_row"]["nullable"]
    schemes = document["components"]["securitySchemes"]
    assert schemes["ApiKey"]["name"] == "X-API-Key" and schemes["Bearer"]["scheme"] == "bearer"
    assert schemes["Session"]["in"] == "cookie"
    lang = {p["name"]: p for p in document["paths"]["/collections"]["get"]["parameters"]}
    assert lang["lang"]["schema"]["enum"] == ["vi", "en"]
    report = next(op for path, item in document["paths"].items()
                  if path.startswith("/reports") for op in item.values())
    assert "429" in report["responses"]


def test_every_documented_operation_answers_as_documented(app):
    store = services_of(app).store
    headers = {"X-API-Key": create_key(store, "schemathesis", "viewer", "national")[1]}
    schema = schemathesis.openapi.from_wsgi("/api", app)
    results = list(schema.get_all_operations())
    broken = [str(r.err())[:300] for r in results if not hasattr(r, "ok")]
    assert broken == []
    operations = [result.ok() for result in results]
    operations = [op for op in operations if op.method.upper() == "GET"]
    assert len(operations) > 80
    failures, count = [], [0]
    for operation in operations:
        @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        def run(case):
            count[0] += 1
            response = case.call_and_validate(headers=headers, checks=CHECKS)
            assert response.status_code < 500 or response.status_code == 503

        try:
            run()
        except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - all are reported
            failures.append(f"GET {operation.path}: {str(error)[:1500]}")
    print(f"\nopenapi: {len(operations)} operations, {count[0]} requests")
    assert failures == [], "\n\n".join(failures)


@pytest.mark.parametrize("url", ["/collections/communes/items?limit=1001",
                                 "/collections/certification-rate/items?limit=5000"])
def test_limit_above_the_documented_maximum_is_served_as_the_maximum(client, url):
    body = get(client, url)
    assert body["numberReturned"] <= 1000
