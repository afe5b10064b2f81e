"""Fixtures for the agency connector: agencies with published keys, connectors on the real broker."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bus import load_settings
from bus.codec import InMemorySchemaSource
from bus.identity import AgencyKey, TrustedKey, generate_key, publish_trusted_key
from connectors import AgencyConnector
from tests.conftest import Authority


@dataclass
class Bus:
    """One test's corner of the bus: its own trust topic, keys and processed-id files."""

    bootstrap_servers: str
    trust_topic: str
    directory: Path
    schema_source: InMemorySchemaSource
    keys: dict[str, AgencyKey]
    prefix: str
    authority: Authority

    def topic(self, record_type) -> str:
        """The record type's topic on this test's bus (its own prefix, so tests never share topics)."""
        return self.prefix + record_type.topic

    def settings(self, **more):
        return load_settings({}).model_copy(
            update={
                "bootstrap_servers": self.bootstrap_servers,
                "trust_topic": self.trust_topic,
                "trust_anchor": self.authority.anchor,
                "retry_backoff_s": 0.05,
                "topic_prefix": self.prefix,
                **more,
            }
        )

    def trust(self, trusted: TrustedKey) -> None:
        """Publish a trust record (a key, or its revocation) signed by the session's authority."""
        publish_trusted_key(self.bootstrap_servers, trusted, authority=self.authority.key, topic=self.trust_topic)

    def key(self, agency: str, *, publish: bool = True) -> AgencyKey:
        if agency not in self.keys:
            self.keys[agency] = generate_key(agency)
            if publish:
                self.trust(TrustedKey.for_key(self.keys[agency]))
        return self.keys[agency]


@pytest.fixture
def bus(kafka, unique_name, tmp_path, authority) -> Bus:
    return Bus(
        kafka.bootstrap_servers,
        unique_name("trust"),
        tmp_path,
        InMemorySchemaSource(),
        {},
        unique_name("t") + ".",
        authority,
    )


@pytest.fixture
def connector(bus) -> Iterator[Callable[..., AgencyConnector]]:
    """Make connectors for this test's bus; all are closed at the end."""
    made: list[AgencyConnector] = []

    def make(
        agency: str, *, key: AgencyKey | None = None, tracer_provider=None, schema_source=None, **settings
    ) -> AgencyConnector:
        name = agency.rsplit(":", 1)[-1]
        instance = AgencyConnector(
            agency,
            key=key or bus.key(agency),
            settings=bus.settings(**settings),
            schema_source=schema_source or bus.schema_source,
            processed_db=bus.directory / f"{name}-{len(made)}.sqlite3",
            tracer_provider=tracer_provider,
        )
        made.append(instance)
        return instance

    yield make
    for instance in made:
        instance.close()


@pytest.fixture(scope="session")
def registered(registry) -> str:
    """The real registry's URL, with CaseOpened and the shared types it uses registered by their owners."""
    from bus.records import catalog
    from bus.registry import RegistryClient

    cases = catalog().get("CaseOpened")
    needed = {cases.full_name} | {r.full_name for r in cases.references(transitive=True)}
    for record_type in catalog().records():  # shared types first: the order to register them in
        if record_type.full_name in needed:
            client = RegistryClient(registry.url, credential=registry.token(record_type.owner))
            client.id_for(record_type.subject, record_type.schema)
    return registry.url
