"""The citizen's portal (urn:mx:gob:portal): a web page and JSON API for citizens' requests.

``_forms`` reads what a citizen sends (problems per field), ``_mapping`` builds the shared records,
``_desk`` follows each request as agencies answer, ``_web`` serves the page and API, ``_signin``
signs citizens in (OpenID Connect), ``_guard`` and ``_limits`` refuse what no citizen's browser sends,
``_config`` reads the ``ENLACE_PORTAL_*`` settings. Run it with
``python -m adapters.portal --key-file K --data-dir D --port P``; the page is at ``/``, the API
under ``/api`` (OpenAPI at ``/api/openapi.json``).
"""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from adapters._agencies import Agency
from adapters._runtime import AgencySpec
from adapters.portal._config import OidcConfig, PortalConfig, Rate
from adapters.portal._desk import RECORDS_READ, Accepted, PortalDesk
from adapters.portal._forms import SERVICES, FieldProblem, addressable_agencies
from adapters.portal._signin import SESSION_COOKIE
from adapters.portal._store import SCHEMA
from adapters.portal._web import create_app, current_trace_id
from bus import load_settings

__all__ = [
    "AGENCY",
    "RECORDS_READ",
    "SERVICES",
    "SESSION_COOKIE",
    "SPEC",
    "Accepted",
    "FieldProblem",
    "OidcConfig",
    "PortalConfig",
    "PortalDesk",
    "Rate",
    "addressable_agencies",
    "create_app",
]

AGENCY = Agency(
    urn="urn:mx:gob:portal",
    name="portal",
    module=__name__,
    title="Citizen's portal",
    reads=tuple(model.avro_name for model in RECORDS_READ),
    publishes=("mx.gob.portal.ServiceRequestSubmitted", "mx.gob.portal.InformationRequestSubmitted"),
    # Citizens' requests enter here: the agencies that take them are listening first.
    starts_after=("crm", "transparencia"),
    answers_information_requests=True,
)


def _desk(store, args) -> PortalDesk:  # type: ignore[no-untyped-def]
    return PortalDesk(store, trace_id=current_trace_id)


def _app(desk: Any, health: Callable[[], dict[str, Any]]) -> FastAPI:
    # The process's ENLACE_PORTAL_* settings, checked before the portal answers anything.
    return create_app(desk, health=health, config=PortalConfig.from_settings(load_settings()))


def _describe(desk: Any) -> dict[str, Any]:
    return {"requests": desk.store.count_by_status(), "waiting": desk.store.waiting_count()}


SPEC = AgencySpec(urn=AGENCY.urn, name=AGENCY.name, schema=SCHEMA, make_desk=_desk, make_app=_app, describe=_describe)
