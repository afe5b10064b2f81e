"""schemathesis against the bridge's own OpenAPI document: generated requests never get a server error.

The bridge is served over real mutual TLS (uvicorn) on the session's broker; requests carry the CRM's
client certificate, as the portal's fuzz test carries a signed-in citizen's cookie. Driven through
schemathesis' Python API and Hypothesis directly, as tests/bus/registry/test_openapi_fuzz.py does.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.connectors.bridge.conftest import CRM, PORTAL

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402

pytestmark = pytest.mark.integration
EXAMPLES_PER_OPERATION = 12


def test_generated_requests_never_get_a_server_error(served_bridge) -> None:
    served = served_bridge({CRM: None, PORTAL: None}, ack_deadline_s=1)
    cert, key = served.certificates.issue(CRM, served.directory / "clients")
    with served.client(CRM) as crm:
        document = crm.get("/openapi.json").json()
        # one subscription that exists, so fetch and acknowledge get past "no such subscription" too
        assert (
            crm.post(
                "/v3/clusters/enlace/subscriptions", json={"name": "fuzz", "records": ["TaxpayerStatusReported"]}
            ).status_code
            == 201
        )
    api = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 8
    server_errors: list[str] = []
    calls: list[int] = []
    per_operation: Counter[str] = Counter()
    tls = {"verify": str(served.certificates.ca_file), "cert": (str(cert), str(key))}

    def fuzz(operation) -> None:
        @settings(
            max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        @given(case=operation.as_strategy())
        def call(case) -> None:
            wait = (case.query or {}).get("max_wait_ms")
            if isinstance(wait, int) and wait > 50:
                case.query["max_wait_ms"] = 50  # long polls would only slow the fuzzing down
            response = case.call(base_url=served.url, timeout=60, allow_redirects=False, **tls)
            calls.append(response.status_code)
            per_operation[operation.label] += 1
            if response.status_code >= 500:
                server_errors.append(
                    f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:200]}"
                )
            elif response.status_code >= 400:
                assert "error_code" in response.json(), response.text[:200]

        call()

    for operation in operations:
        fuzz(operation)
    assert server_errors == []
    assert set(per_operation) == {operation.label for operation in operations}
    assert {200, 404, 422} <= set(calls)
