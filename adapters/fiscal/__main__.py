"""``python -m adapters.fiscal``: run the fiscal services agency process."""

from adapters._runtime import run_agency
from adapters.fiscal import SPEC

if __name__ == "__main__":
    run_agency(SPEC)
