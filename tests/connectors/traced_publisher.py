"""A publishing agency as its own process, for the cross-process trace test.

Publishes one CaseOpened through the real registry, then prints one JSON line: the delivery and the
trace id and span id of its ``send`` span (read back from an in-memory exporter).

Usage: python -m tests.connectors.traced_publisher BOOTSTRAP TRUST_TOPIC PREFIX REGISTRY_URL KEY_FILE
"""

from __future__ import annotations

import json
import sys

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from bus import load_settings
from bus.records import catalog
from bus.records.models import CaseOpened
from bus.registry import RegistryClient
from connectors import AgencyConnector


def main() -> None:
    kafka_config, trust_topic, prefix, registry_url, key_file = sys.argv[1:6]
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    settings = load_settings({}).model_copy(
        update={"kafka_config": kafka_config, "trust_topic": trust_topic, "topic_prefix": prefix}
    )
    record = CaseOpened.from_avro(catalog().get("CaseOpened").example())
    with AgencyConnector(
        "urn:mx:gob:crm",
        key=key_file,
        settings=settings,
        tracer_provider=provider,
        schema_source=RegistryClient(registry_url),
        store_path=":memory:",
    ) as crm:
        delivery = crm.publish(record)
    (span,) = spans.get_finished_spans()
    print(
        json.dumps(
            {
                "ce_id": delivery.ce_id,
                "topic": delivery.topic,
                "offset": delivery.offset,
                "trace_id": format(span.context.trace_id, "032x"),
                "span_id": format(span.context.span_id, "016x"),
                "name": span.name,
            }
        )
    )


if __name__ == "__main__":
    main()
