"""Enlace's core: errors and configuration shared by every layer.

Sub-packages are doors of their own (``bus.records``, ``bus.policy``, ``bus.avsc``, ``bus.codec``,
``bus.envelope``, ``bus.registry`` with ``bus.registry.server``/``.compatibility``/``.checks``,
``bus.identity``, ``bus.transport``, ``bus.tracing``).
"""

from bus._errors import (
    AccessDenied,
    ConfigError,
    EnlaceError,
    PolicyViolation,
    SchemaError,
    SignatureError,
    TransportError,
    ValidationError,
)
from bus._settings import ENV_PREFIX, EnlaceSettings, check_record_age, load_settings

__all__ = [
    "ENV_PREFIX",
    "AccessDenied",
    "ConfigError",
    "EnlaceError",
    "EnlaceSettings",
    "PolicyViolation",
    "SchemaError",
    "SignatureError",
    "TransportError",
    "ValidationError",
    "check_record_age",
    "load_settings",
]
