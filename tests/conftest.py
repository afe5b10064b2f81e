"""Shared fixtures: real Apache Kafka clusters started once per test session.

``kafka`` is a single node; ``kafka3`` is three combined broker+controller nodes with replication
factor 3 and min.insync.replicas 2. Both are secured as ``enlace up``'s cluster is (TLS, SASL/SCRAM-
SHA-512, deny-by-default ACLs, no topic created on first use): ``kafka.client_config()`` signs in as the
operator (a super user), ``kafka.client_config(principal_for(urn))`` as an agency; a test creates the
topics it uses (``new_topic``). ``registry`` is the real schema registry service (a subprocess of
``python -m ops.cli registry serve``) on ``kafka``, enforcing ``schemas/policy.yaml``.
Each is started lazily (only when a test asks) and stopped at
the end of the session, also when a test fails; a local node also dies with the pytest process
(PR_SET_PDEATHSIG), so an interrupted session leaves no java behind.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bus import load_settings
from bus.identity import AUTHORITY, AgencyKey, generate_key
from bus.records import catalog
from bus.transport import AclAdmin, KafkaClientConfig, Topics
from ops.acl import Access
from ops.kafka import REGISTRY_PRINCIPAL, KafkaCluster, LocalCluster, bus_principals, start_cluster
from ops.registry import RegistryProcess, write_credentials
from ops.zipkin import ZipkinServer

_POLICY = Path(__file__).resolve().parents[1] / "schemas" / "policy.yaml"


@pytest.fixture(scope="session")
def kafka() -> Iterator[KafkaCluster]:
    """A single-node Kafka cluster for the whole session."""
    cluster = start_cluster(load_settings(), nodes=1)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def kafka3() -> Iterator[LocalCluster]:
    """A three-node cluster (RF 3, min ISR 2) whose nodes a test may kill and restart."""
    settings = load_settings()
    if settings.bootstrap_servers or settings.kafka_config or settings.kafka == "testcontainers":
        pytest.skip(
            "the 3-node tests kill and restart brokers, which needs local nodes: "
            "unset ENLACE_BOOTSTRAP_SERVERS, ENLACE_KAFKA_CONFIG and ENLACE_KAFKA to run them"
        )
    cluster = LocalCluster(nodes=3, heap_mb=settings.kafka_heap_mb, secured=True, principals=bus_principals(settings))
    cluster.start(timeout=settings.kafka_start_timeout_s)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def zipkin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZipkinServer]:
    """One real Zipkin server (in-memory, loopback) for the whole session; ``.url``, ``.spans_endpoint``."""
    server = ZipkinServer(workdir=tmp_path_factory.mktemp("zipkin"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass(frozen=True)
class Authority:
    """The session's interoperability authority: its key signs trust records; ``anchor`` pins it."""

    key: AgencyKey
    anchor: str  # the .pub file agencies pin (ENLACE_TRUST_ANCHOR)


@pytest.fixture(scope="session")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Authority:
    """An interoperability authority key for the session, and the public key file that pins it."""
    key = generate_key(AUTHORITY)
    path = key.save(tmp_path_factory.mktemp("authority"))
    return Authority(key, str(path.with_suffix(".pub")))


@pytest.fixture
def unique_name() -> Callable[[str], str]:
    """Make a name no other test in this session uses (topics, groups)."""

    def make(prefix: str) -> str:
        return f"{prefix}-{uuid.uuid4().hex[:10]}"

    return make


@pytest.fixture
def new_topic(kafka: KafkaCluster, unique_name: Callable[[str], str]) -> Iterator[Callable[..., str]]:
    """Create a topic no other test uses (auto-creation is off, as on the bus) and return its name."""
    topics = Topics(kafka.client_config())

    def make(prefix: str = "topic", *, partitions: int = 1, **configs: str) -> str:
        name = unique_name(prefix)
        topics.ensure(name, partitions=partitions, **configs)
        return name

    try:
        yield make
    finally:
        topics.close()


def registry_client(kafka: KafkaCluster, topic: str) -> KafkaClientConfig:
    """The registry principal's configuration on ``kafka``, granted what the policy grants a registry
    storing in ``topic`` (its log and its writer's transactional id), as ``enlace acl sync`` would."""
    config = kafka.client_config(REGISTRY_PRINCIPAL)
    if config.sasl_username != REGISTRY_PRINCIPAL:
        return config  # a cluster where Enlace holds one identity (external, or insecure)
    settings = load_settings({}).model_copy(update={"registry_topic": topic})
    grants = {b for b in Access.of(catalog(), settings).bindings() if b.principal == f"User:{REGISTRY_PRINCIPAL}"}
    acls = AclAdmin(kafka.client_config())
    try:
        acls.create(grants)
    finally:
        acls.close()
    return config


@dataclass(frozen=True)
class RegistryService:
    """The session's registry: ``url``, and one token per agency for writes.

    Attributes:
        url: the service's base URL (127.0.0.1, a free port).
        topic: its storage topic (unique to the session).
        policy: the policy file it enforces (``"none"`` when the repository has none yet).
        tokens: agency URN → bearer token (every owner in the policy); give one to
            ``RegistryClient(url, credential=...)`` to register that agency's subjects.
    """

    url: str
    topic: str
    policy: str
    tokens: dict[str, str] = field(repr=False)

    def token(self, agency: str) -> str:
        """The bearer token of ``agency`` (e.g. ``urn:mx:gob:sat``)."""
        return self.tokens[agency]


@pytest.fixture(scope="session")
def registry(kafka: KafkaCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryService]:
    """The real schema registry service for the whole session, stopped at the end (also on failure)."""
    import yaml

    policy = str(_POLICY) if _POLICY.exists() else "none"
    agencies: set[str] = set()
    if _POLICY.exists():
        data = yaml.safe_load(_POLICY.read_text(encoding="utf-8")) or {}
        agencies = set((data.get("owners") or {}).values()) | set(data.get("admins") or [])
    credentials = tmp_path_factory.mktemp("registry") / "credentials.yaml"
    tokens = write_credentials(credentials, sorted(agencies))
    topic = f"_schemas-{uuid.uuid4().hex[:10]}"
    process = RegistryProcess(registry_client(kafka, topic), topic=topic, policy=policy, credentials=credentials)
    process.start()
    try:
        yield RegistryService(url=process.url, topic=topic, policy=policy, tokens=tokens)
    finally:
        process.stop()
