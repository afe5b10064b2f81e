"""Zipkin, the tracing dashboard ``enlace up`` starts: resolved from Maven Central, run with java.

Zipkin (a widely used tracing UI and API) keeps spans in memory here and listens on loopback only.
Adapters send their spans to ``<url>/api/v2/spans`` (Zipkin's JSON v2) through OpenTelemetry's Zipkin
exporter; ``enlace trace`` and the tests read traces back from ``<url>/api/v2/trace/<id>``.
"""

from ops.zipkin._distribution import resolve_zipkin, zipkin_version
from ops.zipkin._server import ZipkinServer, fetch_trace

__all__ = ["ZipkinServer", "fetch_trace", "resolve_zipkin", "zipkin_version"]
