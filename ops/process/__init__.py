"""Long-running helper processes (the tracing dashboard, the registry, the agencies) and their health.

A :class:`ManagedProcess` is one child program with its own log file, a health URL that says when it
is ready, and a stop that is always clean (SIGTERM, then SIGKILL after a deadline). Its state can be
written to a file and re-attached to by another process, which is how ``enlace down`` stops what
``enlace up`` started.
"""

from ops.process._managed import ManagedProcess, StartError, free_port, http_ok

__all__ = ["ManagedProcess", "StartError", "free_port", "http_ok"]
