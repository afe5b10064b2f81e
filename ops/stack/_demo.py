"""``enlace demo``: a scripted day on the bus, driven through the portal's JSON API only.

Each citizen signs in through the development sign-in (as a browser would: the portal's login, the
provider's form, back to the portal) and requests a service; every third also asks for public
information without signing in. The demo then follows every request by its id and tracking code.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from adapters.portal import SERVICES, addressable_agencies
from ops.signin import DevAccount, sign_in
from ops.stack._population import Citizen, citizens
from ops.stack._stack import DEMO_CITIZENS

__all__ = ["DemoResult", "archive_through_bridge", "run_demo"]

_SERVICE_CODES = list(SERVICES)
_QUESTIONS = [
    "What is SAT's budget for 2026?",
    "How many cases did you open last month, by channel?",
    "Where is your privacy notice?",
    "Who built this building?",
]
# Statuses after which a request changes no more without a person acting.
_SETTLED = {"resolved", "waiting for you", "answered", "closed"}
# How long the demo waits on a 429 in all (it honours Retry-After) before counting a request refused.
_RATE_LIMIT_PATIENCE_S = 90.0


@dataclass
class DemoResult:
    """What the demo did and saw."""

    submitted: int = 0
    accepted: list[dict[str, Any]] = field(default_factory=list)
    refused: list[tuple[str, list[dict[str, str]]]] = field(default_factory=list)
    final: dict[str, dict[str, Any]] = field(default_factory=dict)
    unsettled: list[str] = field(default_factory=list)
    trace_id: str | None = None
    tracking_codes: dict[str, str] = field(default_factory=dict, repr=False)  # request id -> its code
    owners: dict[str, str] = field(default_factory=dict, repr=False)  # request id -> the citizen's CURP

    def counts(self) -> Counter[str]:
        return Counter(view["status"] for view in self.final.values())


def _post(client: httpx.Client, url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """POST JSON; on 429 wait as long as Retry-After says and send again (bounded)."""
    patience = time.monotonic() + _RATE_LIMIT_PATIENCE_S
    while True:
        response = client.post(url, json=body, timeout=30)
        if response.status_code != 429 or time.monotonic() > patience:
            return response.status_code, dict(response.json() or {})
        time.sleep(min(float(response.headers.get("retry-after", "1")), 10.0))


def _service_body(person: Citizen, service: str) -> dict[str, Any]:
    return {
        "given_names": person.given_names,
        "first_surname": person.first_surname,
        "second_surname": person.second_surname,
        "email": f"{person.given_names.lower()}@example.mx",
        "service": service,
        "details": "demo request",
        "consent": True,
    }


def _expected_settled(view: dict[str, Any]) -> bool:
    if view["kind"] == "information":
        return view["status"] == "answered"
    if view["topic"] == "RENAPO-CAMBIO-DOMICILIO":
        return view["status"] == "case opened"  # a caseworker takes it from there
    return view["status"] in _SETTLED


def run_demo(
    portal_url: str,
    *,
    accounts: Sequence[DevAccount],
    people: int = 30,
    timeout_s: float = 120,
    say: Callable[[str], None] = print,
) -> DemoResult:
    """Submit requests for ``people`` citizens (and one invalid one), then wait until each settles.

    Args:
        portal_url: the portal's base URL.
        accounts: the development sign-in's accounts (``Stack.dev_accounts()``), one per citizen.
        people: how many citizens take part (at most the population ``enlace up`` registered).
        timeout_s: how long to wait for every request to settle.
        say: where progress lines go.
    """
    base = portal_url.rstrip("/")
    result = DemoResult()
    population = citizens(DEMO_CITIZENS)[: min(people, DEMO_CITIZENS)]
    by_curp = {account.curp: account for account in accounts}
    asked = list(addressable_agencies())  # information requests go round the agencies that answer them
    with httpx.Client() as anonymous:
        for i, person in enumerate(population):
            with httpx.Client() as browser:
                sign_in(browser, portal_url, by_curp[person.curp])
                service = _SERVICE_CODES[i % len(_SERVICE_CODES)]
                _submit(result, browser, f"{base}/api/service-requests", _service_body(person, service), person.curp)
            if i % 3 == 0:  # public information: no sign-in needed
                question = {
                    "curp": person.curp,
                    "agency": asked[i % len(asked)],
                    "question": _QUESTIONS[i % len(_QUESTIONS)],
                    "consent": True,
                }
                _submit(result, anonymous, f"{base}/api/information-requests", question, person.curp)
        # One deliberately invalid request: a CURP whose check digit is wrong, and no consent.
        bad = population[0]
        wrong = bad.curp[:-1] + str((int(bad.curp[-1]) + 1) % 10)
        invalid = {"curp": wrong, "agency": asked[0], "question": _QUESTIONS[0], "consent": False}
        _submit(result, anonymous, f"{base}/api/information-requests", invalid, wrong)
        say(f"demo: {result.submitted} requests sent, {len(result.accepted)} accepted, {len(result.refused)} refused")
        _wait(anonymous, base, result, timeout_s, say)
    # The last resolved tax certificate: the one most likely to show every hop in the dashboard.
    for view in reversed(list(result.final.values())):
        if view["topic"] == "SAT-CONSTANCIA-SITUACION-FISCAL" and view["status"] == "resolved" and view["trace_id"]:
            result.trace_id = view["trace_id"]
            break
    return result


def _submit(result: DemoResult, client: httpx.Client, url: str, body: dict[str, Any], curp: str) -> None:
    status, answer = _post(client, url, body)
    result.submitted += 1
    if status == 202:
        request = answer["request"]
        result.accepted.append(request)
        result.tracking_codes[request["request_id"]] = answer["tracking_code"]
        result.owners[request["request_id"]] = curp
    else:
        result.refused.append((curp, answer.get("errors", [])))


def _status(client: httpx.Client, base: str, result: DemoResult, request_id: str) -> dict[str, Any]:
    """One request's status, by its id and tracking code."""
    body = {"request_id": request_id, "tracking_code": result.tracking_codes[request_id]}
    response = client.post(f"{base}/api/requests/status", json=body, timeout=10)
    response.raise_for_status()
    return dict(response.json())


def _wait(client: httpx.Client, base: str, result: DemoResult, timeout_s: float, say: Callable[[str], None]) -> None:
    pending = {r["request_id"] for r in result.accepted}
    deadline = time.monotonic() + timeout_s
    while pending and time.monotonic() < deadline:
        for request_id in sorted(pending):
            view = _status(client, base, result, request_id)
            result.final[request_id] = view
            if _expected_settled(view):
                pending.discard(request_id)
        if pending:
            time.sleep(0.5)
    for request_id in pending:
        result.final[request_id] = _status(client, base, result, request_id)
    result.unsettled = sorted(pending)
    say(f"demo: {len(result.final) - len(pending)} of {len(result.final)} requests settled")


def archive_through_bridge(
    bridge_url: str, context: Any, *, expected: int, timeout_s: float, say: Callable[[str], None] = print
) -> int:
    """The national archive's part of the demo, over HTTPS only: subscribe to the transparency answers
    through the bridge, long-poll and acknowledge each, until ``expected`` were archived (or the time is up).

    Args:
        bridge_url: the bridge's URL.
        context: the archive's TLS context (``bridge_client_context``).
        expected: how many answers the demo saw.
        timeout_s: how long to keep fetching.

    Returns:
        How many answers the archive received and acknowledged.
    """
    archived: set[str] = set()
    base = f"{bridge_url}/v3/clusters/enlace/subscriptions"
    with httpx.Client(verify=context, timeout=40) as archive:
        made = archive.post(base, json={"name": "answers", "records": ["InformationRequestAnswered"]})
        if made.status_code not in (200, 201):
            say(f"demo: the archive could not subscribe through the bridge: {made.text[:200]}")
            return 0
        deadline = time.monotonic() + timeout_s
        while len(archived) < expected and time.monotonic() < deadline:
            fetched = archive.get(f"{base}/answers/records", params={"max_wait_ms": 2000}).json()["records"]
            if fetched:
                archive.post(f"{base}/answers/acknowledgements", json={"ce_ids": [r["ce_id"] for r in fetched]})
                archived.update(r["ce_id"] for r in fetched)
    say(f"demo: the archive (bridge only) archived {len(archived)} answers")
    return len(archived)
