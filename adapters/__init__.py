"""The agencies on the bus: fiscal services, CRM, citizen portal and transparency.

Each agency is a package with a mapping module (its native format <-> shared records' models), a
desk (its business: handlers that read typed records and write and emit through the connector's
transaction, exactly once) and a ``__main__`` that runs it as a process on the agency connector with
a health endpoint on 127.0.0.1. The package's ``__init__`` declares the agency once (``AGENCY``, an
:class:`Agency`); :func:`agencies` finds every declaration, in start order.
"""

from adapters._agencies import Agency, DemoCitizen, Option, agencies, agency
from adapters._runtime import AgencySpec, run_agency

__all__ = ["Agency", "AgencySpec", "DemoCitizen", "Option", "agencies", "agency", "run_agency"]
