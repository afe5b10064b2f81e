"""Registry services for the registry's own tests: a plain one and one enforcing a test policy."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ops.kafka import KafkaCluster
from ops.registry import RegistryProcess, write_credentials
from tests.conftest import RegistryService, registry_client

TEST_POLICY = Path(__file__).parent / "data" / "policy.yaml"
AGENCIES = ["urn:mx:gob:interop", "urn:mx:gob:pruebas", "urn:mx:gob:otra"]


def _serve(
    kafka: KafkaCluster, policy: str, credentials: Path | None, tokens: dict[str, str]
) -> Iterator[RegistryService]:
    topic = f"_schemas-{uuid.uuid4().hex[:10]}"
    process = RegistryProcess(
        registry_client(kafka, topic), topic=topic, policy=policy, credentials=credentials
    ).start()
    try:
        yield RegistryService(url=process.url, topic=topic, policy=policy, tokens=tokens)
    finally:
        process.stop()


@pytest.fixture(scope="session")
def plain_registry(kafka: KafkaCluster) -> Iterator[RegistryService]:
    """A registry with ``--policy none``: plain Confluent behaviour, no credentials needed."""
    yield from _serve(kafka, "none", None, {})


@pytest.fixture(scope="session")
def policy_registry(kafka: KafkaCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryService]:
    """A registry enforcing ``data/policy.yaml``, with a token for each of its agencies."""
    credentials = tmp_path_factory.mktemp("policy-registry") / "credentials.yaml"
    tokens = write_credentials(credentials, AGENCIES)
    yield from _serve(kafka, str(TEST_POLICY), credentials, tokens)
