"""The schema registry service as a process: what tests, benchmarks and operators start and stop."""

from ops.registry._process import RegistryProcess, write_credentials

__all__ = ["RegistryProcess", "write_credentials"]
