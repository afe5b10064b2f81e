"""Fixtures for the agency connector: agencies with published keys, connectors on the real broker and
the real schema registry (the session's ``registry`` service, every record of the catalog registered
by its owner). In-memory schema sources are for pure-logic unit tests only."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bus import load_settings
from bus.identity import AgencyKey, TrustedKey, generate_key, publish_trusted_key
from bus.records import catalog
from bus.transport import KafkaClientConfig, Topics
from connectors import AgencyConnector
from ops.acl import Access
from tests.conftest import Authority


@dataclass
class Bus:
    """One test's corner of the bus: its own topics (created, as ``enlace acl sync`` would), trust topic,
    keys and store files; the session's registry. Its clients sign in as the operator."""

    kafka: KafkaClientConfig
    trust_topic: str
    directory: Path
    registry_url: str
    keys: dict[str, AgencyKey]
    prefix: str
    authority: Authority

    def topic(self, record_type) -> str:
        """The record type's topic on this test's bus (its own prefix, so tests never share topics)."""
        return self.prefix + record_type.topic

    def settings(self, **more):
        return load_settings({}).model_copy(
            update={
                **self.kafka.settings(),
                "registry_url": self.registry_url,
                "trust_topic": self.trust_topic,
                "trust_anchor": self.authority.anchor,
                "retry_backoff_s": 0.05,
                "topic_prefix": self.prefix,
                **more,
            }
        )

    def properties(self) -> str:
        """The clients' Kafka properties file (0600), for the processes a test starts."""
        return str(self.kafka.write_properties(self.directory / "kafka.properties"))

    def trust(self, trusted: TrustedKey) -> None:
        """Publish a trust record (a key, or its revocation) signed by the session's authority."""
        publish_trusted_key(self.kafka, trusted, authority=self.authority.key, topic=self.trust_topic)

    def key(self, agency: str, *, publish: bool = True) -> AgencyKey:
        if agency not in self.keys:
            self.keys[agency] = generate_key(agency)
            if publish:
                self.trust(TrustedKey.for_key(self.keys[agency]))
        return self.keys[agency]


def make_bus(kafka, registered: str, unique_name, directory: Path, authority: Authority, prefix: str = "t") -> Bus:
    """A test's bus on ``kafka``: every topic the catalog needs, under a prefix of its own, created."""
    config = kafka.client_config()
    made = Bus(config, unique_name("trust"), directory, registered, {}, unique_name(prefix) + ".", authority)
    with Topics(config) as topics:
        Access.of(catalog(), made.settings()).create_topics(topics)
    return made


@pytest.fixture
def bus(kafka, registered, unique_name, tmp_path, authority) -> Bus:
    return make_bus(kafka, registered, unique_name, tmp_path, authority)


@pytest.fixture
def connector(bus) -> Iterator[Callable[..., AgencyConnector]]:
    """Make connectors for this test's bus; all are closed at the end."""
    made: list[AgencyConnector] = []

    def make(
        agency: str,
        *,
        key: AgencyKey | None = None,
        tracer_provider=None,
        schema_source=None,
        max_in_flight: int | None = None,
        **settings,
    ) -> AgencyConnector:
        name = agency.rsplit(":", 1)[-1]
        options = {} if max_in_flight is None else {"max_in_flight": max_in_flight}
        instance = AgencyConnector(
            agency,
            key=key or bus.key(agency),
            settings=bus.settings(**settings),
            schema_source=schema_source,  # None: a RegistryClient on the session's registry (read-only)
            store_path=bus.directory / f"{name}-{len(made)}.sqlite3",
            tracer_provider=tracer_provider,
            **options,
        )
        made.append(instance)
        return instance

    yield make
    for instance in made:
        instance.close()


@pytest.fixture(scope="session")
def registered(registry) -> str:
    """The real registry's URL, with every version of every record in the catalog registered by its
    owner, as ``enlace up`` does; connectors then only look schemas up, as agencies do."""
    from bus.registry import RegistryClient

    for record_type in catalog().records():  # shared types first, versions in order: the order to register them in
        with RegistryClient(registry.url, credential=registry.token(record_type.owner)) as client:
            client.id_for(record_type.subject, record_type.schema)
    return registry.url
