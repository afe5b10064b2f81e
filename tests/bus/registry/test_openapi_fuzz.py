"""schemathesis against the service's own OpenAPI document: generated requests never get a 500.

Driven through schemathesis' Python API and Hypothesis directly (its pytest plugin does not run
under pytest 9), with a bounded number of examples per operation.
"""

from __future__ import annotations

import uuid

import pytest

from ops.registry import RegistryProcess
from tests.conftest import registry_client

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402

pytestmark = pytest.mark.integration

EXAMPLES_PER_OPERATION = 15


@pytest.fixture
def fuzzed_registry(kafka):
    """A registry of its own: fuzzing may change global config and mode, which others must not see."""
    topic = f"_schemas-fuzz-{uuid.uuid4().hex[:8]}"
    with RegistryProcess(registry_client(kafka, topic), topic=topic) as process:
        yield process


def test_generated_requests_never_get_a_server_error(fuzzed_registry) -> None:
    api = schemathesis.openapi.from_url(f"{fuzzed_registry.url}/openapi.json")
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 20
    server_errors: list[str] = []
    calls: list[int] = []
    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        @given(case=operation.as_strategy())
        def call(case) -> None:
            response = case.call(base_url=fuzzed_registry.url, timeout=30)
            calls.append(response.status_code)
            if response.status_code >= 500:
                server_errors.append(
                    f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:200]}"
                )
            else:
                assert "error_code" in response.json() or response.status_code < 400

        call()
    assert server_errors == []
    assert len(calls) >= 5 * len(operations)  # the fuzzing really ran
    assert {200, 404, 422} <= set(calls)
