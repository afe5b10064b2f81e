"""``python -m adapters.portal``: run the citizen's portal process (web page, API, bus)."""

from adapters._runtime import run_agency
from adapters.portal import SPEC

if __name__ == "__main__":
    run_agency(SPEC)
