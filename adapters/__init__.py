"""The agencies on the bus: fiscal services, CRM, citizen portal and transparency.

Each agency is a package with a mapping module (its native format <-> shared records' models), a
desk (its business: handlers that read typed records and write and emit through the connector's
transaction, exactly once) and a ``__main__`` that runs it as a process on the agency connector with
a health endpoint on 127.0.0.1.
"""

from adapters._runtime import AgencySpec, run_agency

__all__ = ["AGENCY_MODULES", "AgencySpec", "run_agency"]

# Short name -> (URN, module run with ``python -m``), in start order: receivers before senders.
AGENCY_MODULES = {
    "fiscal": ("urn:mx:gob:sat", "adapters.fiscal"),
    "crm": ("urn:mx:gob:crm", "adapters.crm"),
    "transparencia": ("urn:mx:gob:transparencia", "adapters.transparencia"),
    "portal": ("urn:mx:gob:portal", "adapters.portal"),
}
