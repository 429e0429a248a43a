"""Fuzzing the API: schemathesis generates requests from our own OpenAPI document (/api) —
valid and invalid parameters, bodies and uploads — and sends them to the app through WSGI
(no network), on both backends, as an administrator (so every route runs its code) and
anonymously. Every answer must be documented: no 5xx (503 only as the documented "not
ready / unavailable" answer), a status the document lists for the operation, the documented
content type, and a body matching the documented schema (errors: the one JSON error shape).

Bounded and repeatable: a fixed number of examples per operation and generation mode,
derandomised, so the run is the same every time (about a minute per backend). The
FUZZ_EXAMPLES environment variable raises it for a longer hunt (e.g. FUZZ_EXAMPLES=200).
Every failing operation is reported at the end with a curl command that reproduces it.
"""

from __future__ import annotations

import os
import time

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.security.conftest import key_headers, make_world

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
# Server errors are asserted in `fuzz`: 503 is the documented answer of an analysis layer
# whose result is not ready (and of an unavailable store), any other 5xx fails.
CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(params=["sqlite", "postgis"])
def fuzz_world(request, tmp_path_factory, loaded_db, built):
    """A World whose rate limits do not stop the fuzzer from reaching the code behind."""
    made, cleanup = make_world(request.param, tmp_path_factory, loaded_db, built,
                               HEAVY_RATE_LIMIT="100000 per minute",
                               LOGIN_RATE_LIMIT="100000 per minute")
    yield made
    made.store.close()
    cleanup()


def negatable(operation) -> bool:
    """True when some input of the operation has a constraint a request can break (plain
    strings cannot be made invalid, and Hypothesis would search in vain)."""
    raw = operation.definition.raw
    if raw.get("requestBody"):
        return True
    for parameter in raw.get("parameters", []):
        schema = parameter.get("schema", {})
        if "$ref" in parameter or schema.get("type", "string") != "string" or \
                set(schema) - {"type", "description"}:
            return True
    return False


def fuzz(operation, mode: GenerationMode, headers: dict | None, examples: int,
         counter: list[int]) -> str | None:
    """Run one operation's examples; return the failure (with its reproduction) or None."""
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def run(case):
        counter[0] += 1
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        assert response.status_code < 500 or response.status_code == 503, response.text[:300]

    try:
        run()
    except Unsatisfiable:  # nothing in this operation can be made invalid (no parameters)
        return None
    except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - all are reported
        return f"{operation.method.upper()} {operation.path} ({mode}): {error}"
    return None


def test_every_documented_operation_answers_as_documented(fuzz_world):
    app = fuzz_world.app
    schema = schemathesis.openapi.from_wsgi("/api", app)
    admin = key_headers(fuzz_world.store, "admin")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40
    counter, failures, started, slowest = [0], [], time.monotonic(), []
    for operation in operations:
        begun = time.monotonic()
        modes = [GenerationMode.POSITIVE, *([GenerationMode.NEGATIVE]
                                            if negatable(operation) else [])]
        for mode in modes:
            for headers, examples in ((admin, EXAMPLES), (None, max(EXAMPLES // 4, 2))):
                failure = fuzz(operation, mode, headers, examples, counter)
                if failure:
                    failures.append(failure)
        slowest.append((time.monotonic() - begun, f"{operation.method.upper()} {operation.path}"))
    elapsed = time.monotonic() - started
    print(f"\nfuzz: {len(operations)} operations, {counter[0]} requests in {elapsed:.0f} s; "
          "slowest: " + ", ".join(f"{name} {t:.1f} s" for t, name in sorted(slowest)[-5:]))
    assert failures == [], "\n\n".join(failures)
