"""``python -m adapters.transparencia``: run the transparency agency process."""

from adapters._runtime import run_agency
from adapters.transparencia import SPEC

if __name__ == "__main__":
    run_agency(SPEC)
