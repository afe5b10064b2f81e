"""``python -m adapters.crm``: run the CRM agency process."""

from adapters._runtime import run_agency
from adapters.crm import SPEC

if __name__ == "__main__":
    run_agency(SPEC)
