"""``enlace demo``: a scripted day on the bus, driven through the portal's JSON API only."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from adapters.portal import SERVICES, addressable_agencies
from ops.stack._population import Citizen, citizens
from ops.stack._stack import DEMO_CITIZENS

__all__ = ["DemoResult", "run_demo"]

_SERVICE_CODES = list(SERVICES)
_QUESTIONS = [
    "What is SAT's budget for 2026?",
    "How many cases did you open last month, by channel?",
    "Where is your privacy notice?",
    "Who built this building?",
]
# Statuses after which a request changes no more without a person acting.
_SETTLED = {"resolved", "waiting for you", "answered", "closed"}


@dataclass
class DemoResult:
    """What the demo did and saw."""

    submitted: int = 0
    accepted: list[dict[str, Any]] = field(default_factory=list)
    refused: list[tuple[str, list[dict[str, str]]]] = field(default_factory=list)
    final: dict[str, dict[str, Any]] = field(default_factory=dict)
    unsettled: list[str] = field(default_factory=list)
    trace_id: str | None = None

    def counts(self) -> Counter[str]:
        return Counter(view["status"] for view in self.final.values())


def _post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _get(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return dict(json.loads(response.read()))


def _service_body(person: Citizen, service: str) -> dict[str, Any]:
    return {
        "curp": person.curp,
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
    portal_url: str, *, people: int = 30, timeout_s: float = 120, say: Callable[[str], None] = print
) -> DemoResult:
    """Submit requests for ``people`` citizens (and one invalid one), then wait until each settles.

    Args:
        portal_url: the portal's base URL.
        people: how many citizens take part (at most the population ``enlace up`` registered).
        timeout_s: how long to wait for every request to settle.
        say: where progress lines go.
    """
    base = portal_url.rstrip("/")
    result = DemoResult()
    population = citizens(DEMO_CITIZENS)[: min(people, DEMO_CITIZENS)]
    asked = list(addressable_agencies())  # information requests go round the agencies that answer them
    for i, person in enumerate(population):
        attempts = [("/api/service-requests", _service_body(person, _SERVICE_CODES[i % len(_SERVICE_CODES)]))]
        if i % 3 == 0:
            attempts.append(
                (
                    "/api/information-requests",
                    {
                        "curp": person.curp,
                        "agency": asked[i % len(asked)],
                        "question": _QUESTIONS[i % len(_QUESTIONS)],
                        "consent": True,
                    },
                )
            )
        for path, body in attempts:
            status, answer = _post(base + path, body)
            result.submitted += 1
            if status == 202:
                result.accepted.append(answer["request"])
            else:
                result.refused.append((body["curp"], answer.get("errors", [])))
    # One deliberately invalid request: a CURP whose check digit is wrong, and no consent.
    bad = population[0]
    wrong_digit = str((int(bad.curp[-1]) + 1) % 10)
    status, answer = _post(
        base + "/api/service-requests",
        _service_body(bad, _SERVICE_CODES[0]) | {"curp": bad.curp[:-1] + wrong_digit, "consent": False},
    )
    result.submitted += 1
    result.refused.append((bad.curp[:-1] + wrong_digit, answer.get("errors", [])))
    say(f"demo: {result.submitted} requests sent, {len(result.accepted)} accepted, {len(result.refused)} refused")
    _wait(base, result, timeout_s, say)
    # The last resolved tax certificate: the one most likely to show every hop in the dashboard.
    for view in reversed(list(result.final.values())):
        if view["topic"] == "SAT-CONSTANCIA-SITUACION-FISCAL" and view["status"] == "resolved" and view["trace_id"]:
            result.trace_id = view["trace_id"]
            break
    return result


def _wait(base: str, result: DemoResult, timeout_s: float, say: Callable[[str], None]) -> None:
    pending = {r["request_id"] for r in result.accepted}
    deadline = time.monotonic() + timeout_s
    while pending and time.monotonic() < deadline:
        for request_id in sorted(pending):
            view = _get(f"{base}/api/requests/{request_id}")
            result.final[request_id] = view
            if _expected_settled(view):
                pending.discard(request_id)
        if pending:
            time.sleep(0.5)
    for request_id in pending:
        result.final[request_id] = _get(f"{base}/api/requests/{request_id}")
    result.unsettled = sorted(pending)
    say(f"demo: {len(result.final) - len(pending)} of {len(result.final)} requests settled")
