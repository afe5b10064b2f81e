"""Exporters from the standard ``OTEL_*`` environment variables.

Only ``OTEL_TRACES_EXPORTER`` / ``OTEL_METRICS_EXPORTER`` (or an ``OTEL_EXPORTER_OTLP_*ENDPOINT``,
which implies ``otlp``) switch telemetry on; with none of them set nothing is installed and the
connector's spans cost next to nothing. Exporters are found by name through the entry points their
packages register (``console`` ships with the SDK; ``otlp`` comes with opentelemetry-exporter-otlp,
``zipkin`` with opentelemetry-exporter-zipkin), as the OpenTelemetry SDK's own configurator does.

The sampler comes from ``OTEL_TRACES_SAMPLER`` and ``OTEL_TRACES_SAMPLER_ARG`` as the specification
defines them (``always_on``, ``always_off``, ``traceidratio``, ``parentbased_always_on`` — the default —,
``parentbased_always_off``, ``parentbased_traceidratio``, or a sampler package's entry point), read from
the same environment as the exporters; a name no sampler has, or a ratio that is not a number from 0 to
1, is an error naming the variable (the SDK alone would log a warning and sample everything).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.trace import NoOpTracerProvider, ProxyTracerProvider

from bus._errors import ConfigError

__all__ = ["configure_from_env"]

_lock = threading.Lock()
_done = False


def _exporter_names(env: Mapping[str, str], variable: str, signal: str) -> list[str]:
    names = [n.strip() for n in env.get(variable, "").split(",") if n.strip()]
    if not names and (env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get(f"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT")):
        names = ["otlp"]
    return [n for n in names if n != "none"]


def _load_exporter(group: str, name: str, variable: str) -> Any:
    found = list(entry_points(group=group, name=name))
    if not found:
        known = sorted(e.name for e in entry_points(group=group))
        raise ConfigError(
            f"{variable}={name}: no such exporter installed (installed: {', '.join(known) or 'none'}); "
            f"install the opentelemetry-exporter-{name} package"
        )
    return found[0].load()()


def _sampler(env: Mapping[str, str]) -> Any:
    """The sampler ``OTEL_TRACES_SAMPLER`` / ``OTEL_TRACES_SAMPLER_ARG`` name."""
    from opentelemetry.sdk.trace import sampling

    fixed = {
        "always_on": sampling.ALWAYS_ON,
        "always_off": sampling.ALWAYS_OFF,
        "parentbased_always_on": sampling.ParentBased(sampling.ALWAYS_ON),
        "parentbased_always_off": sampling.ParentBased(sampling.ALWAYS_OFF),
    }
    by_ratio = {
        "traceidratio": sampling.TraceIdRatioBased,
        "parentbased_traceidratio": sampling.ParentBasedTraceIdRatio,
    }
    name = env.get("OTEL_TRACES_SAMPLER", "").strip().lower() or "parentbased_always_on"
    argument = env.get("OTEL_TRACES_SAMPLER_ARG", "").strip()
    if name in by_ratio:
        try:
            ratio = float(argument) if argument else 1.0
        except ValueError:
            ratio = -1.0
        if not 0.0 <= ratio <= 1.0:  # also NaN
            raise ConfigError(
                f"OTEL_TRACES_SAMPLER_ARG={argument!r}: {name} takes a sampling ratio from 0 to 1 (e.g. 0.1)"
            )
        return by_ratio[name](ratio)
    if name in fixed:
        return fixed[name]
    found = list(entry_points(group="opentelemetry_traces_sampler", name=name))
    if not found:
        installed = (e.name for e in entry_points(group="opentelemetry_traces_sampler"))
        raise ConfigError(
            f"OTEL_TRACES_SAMPLER={name}: no such sampler (known: {', '.join(sorted({*fixed, *by_ratio, *installed}))})"
        )
    return found[0].load()(argument)


def _resource(service_name: str, env: Mapping[str, str]) -> Any:
    from opentelemetry.sdk.resources import Resource

    attributes = {} if env.get("OTEL_SERVICE_NAME") else {"service.name": service_name}
    return Resource.create(attributes)


def configure_from_env(service_name: str, environ: Mapping[str, str] | None = None) -> bool:
    """Install SDK tracer/meter providers for the exporters the ``OTEL_*`` variables name.

    Idempotent, and a no-op when the application already installed its own providers or when
    ``OTEL_SDK_DISABLED=true``.

    Args:
        service_name: ``service.name`` of the resource, unless ``OTEL_SERVICE_NAME`` says otherwise.
        environ: the environment to read; ``os.environ`` when omitted.

    Returns:
        Whether anything was installed by this call.

    Raises:
        ConfigError: an exporter is named whose package is not installed.
    """
    global _done
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    with _lock:
        if _done:
            return False
        _done = True
        installed = False
        traces = _exporter_names(env, "OTEL_TRACES_EXPORTER", "TRACES")
        if traces and isinstance(trace.get_tracer_provider(), (NoOpTracerProvider, ProxyTracerProvider)):
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor

            provider = TracerProvider(resource=_resource(service_name, env), sampler=_sampler(env))
            for name in traces:
                exporter = _load_exporter("opentelemetry_traces_exporter", name, "OTEL_TRACES_EXPORTER")
                provider.add_span_processor(BatchSpanProcessor(exporter))
            trace.set_tracer_provider(provider)
            installed = True
        meters = _exporter_names(env, "OTEL_METRICS_EXPORTER", "METRICS")
        if meters and isinstance(metrics.get_meter_provider(), metrics._internal._ProxyMeterProvider):
            from opentelemetry.sdk.metrics import MeterProvider
            from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

            readers = [
                PeriodicExportingMetricReader(
                    _load_exporter("opentelemetry_metrics_exporter", n, "OTEL_METRICS_EXPORTER")
                )
                for n in meters
            ]
            metrics.set_meter_provider(MeterProvider(metric_readers=readers, resource=_resource(service_name, env)))
            installed = True
        return installed
