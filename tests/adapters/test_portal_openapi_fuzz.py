"""schemathesis against the portal's own OpenAPI document: generated requests never get a server error.

The portal is served over real HTTP (uvicorn) and fuzzed twice per operation: anonymously, and with
the session cookie of a citizen signed in through the real development provider. Driven through
schemathesis' Python API and Hypothesis directly, as tests/bus/registry/test_openapi_fuzz.py does.
"""

from __future__ import annotations

from collections import Counter

import httpx
import pytest

from adapters.portal import SESSION_COOKIE
from ops.signin import sign_in

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402

EXAMPLES_PER_OPERATION = 15


def test_generated_requests_never_get_a_server_error(served_portal, dev_sign_in) -> None:
    base = served_portal.url.rstrip("/")
    with httpx.Client(timeout=10) as browser:
        sign_in(browser, served_portal.url, dev_sign_in.accounts[0])
        cookie = f"{SESSION_COOKIE}={browser.cookies[SESSION_COOKIE]}"
    api = schemathesis.openapi.from_url(f"{base}/api/openapi.json")
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 10
    server_errors: list[str] = []
    calls: list[int] = []
    per_operation: Counter[str] = Counter()

    def fuzz(operation, headers: dict[str, str]) -> None:
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def call(case) -> None:
            response = case.call(base_url=base, headers=headers, timeout=30, allow_redirects=False)
            calls.append(response.status_code)
            per_operation[operation.label] += 1
            if response.status_code >= 500:
                server_errors.append(
                    f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:200]}"
                )
            elif response.status_code >= 400:
                assert response.json()["errors"], response.text[:200]

        call()

    for operation in operations:
        fuzz(operation, {})  # anonymous
        fuzz(operation, {"Cookie": cookie})  # signed in
    assert server_errors == []
    # the fuzzing really ran: every operation was called, those with a body many times over
    assert set(per_operation) == {operation.label for operation in operations}
    for label in ("POST /api/service-requests", "POST /api/information-requests", "POST /api/requests/status"):
        assert per_operation[label] >= EXAMPLES_PER_OPERATION, per_operation
    # generated bodies reach past sign-in and validation; an accepted (202) submission needs a body that
    # happens to pass every rule, which random generation does not promise: accepted submissions are
    # tested with real bodies in test_portal_web and test_portal_security
    assert {200, 401, 422} <= set(calls)
