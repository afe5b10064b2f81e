"""Enlace's one configuration model, read from ``ENLACE_*`` environment variables."""

from __future__ import annotations

import os
from typing import Literal

from pydantic import Field, model_validator
from pydantic import ValidationError as PydanticValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from bus._errors import ConfigError

__all__ = ["ENV_PREFIX", "EnlaceSettings", "check_record_age", "load_settings"]

ENV_PREFIX = "ENLACE_"

KafkaMode = Literal["auto", "local", "testcontainers", "external"]
KafkaClient = Literal["kafka-python", "confluent"]


class EnlaceSettings(BaseSettings):
    """Settings shared by every command and service.

    Attributes:
        bootstrap_servers: the Kafka cluster; unset means the local one from ``enlace kafka up``.
        registry_url: the schema registry's base URL.
        kafka: which Kafka to use: ``auto`` picks ``external`` when ``bootstrap_servers`` is set,
            ``testcontainers`` when a Docker daemon answers, else ``local``.
        registry_topic: the registry's storage topic (compacted, one partition).
        registry_policy: the policy file the registry enforces, or ``none``; unset means
            ``schemas/policy.yaml`` in the working directory.
        registry_credentials: the registry's file of agency token hashes (server side).
        registry_tokens: a client's file of ``agency URN: token`` (mode 0600), used by
            ``enlace schemas register`` to write each subject with its owner's token.
        registry_token: one agency's token for registry writes (a secret: never logged).
        schemas_dir: the shared records' catalog (``.avsc`` files and ``policy.yaml``); unset means
            the repository's ``schemas/`` folder beside the ``bus`` package.
        kafka_config: a Kafka client properties file in the Java client's key names
            (``bootstrap.servers``, ``security.protocol``, ``sasl.mechanism``, ``sasl.jaas.config``,
            ``ssl.truststore.type=PEM``, ``ssl.truststore.location``), read by every Kafka client.
        kafka_insecure: a local cluster Enlace starts listens in PLAINTEXT, without authentication
            or ACLs (for a developer's own machine only; it says so when it starts). Off by default:
            local clusters run TLS + SASL/SCRAM-SHA-512 with deny-by-default ACLs.
        kafka_security_protocol: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.
        kafka_sasl_mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
        kafka_sasl_username: the SASL principal.
        kafka_sasl_password: its password (a secret: never logged).
        kafka_ssl_cafile: PEM file of the CA certificates that sign the brokers' certificates.
        kafka_client: the Kafka client library every producer and consumer is made with:
            ``kafka-python`` (the default) or ``confluent`` (confluent-kafka over librdkafka, the
            ``enlace[confluent]`` extra). See the README's transport section for the measured difference.
        registry_transactional_id: the ``transactional.id`` of the registry's writer (every instance
            of one registry shares it; only the registry principal may use it); unset means
            ``enlace-registry-writer-<registry_topic>``.
        trust_topic: the compacted topic of agency public keys.
        trust_anchor: the interoperability authority's pinned public key file(s) (``.pub``,
            comma-separated): only trust records they signed are believed. Receivers refuse to start
            without it.
        authority_key: the interoperability authority's private key file, for the operator's acts
            (publishing and revoking agency keys); never needed by an agency.
        encryption_keys: the agency's keyring: its X25519 private key files (``.xkey``, 0600) or
            folders of them, comma-separated; the current key and every rotated one still kept, so
            the encrypted fields of records sent for them stay readable.
        topic_prefix: put before every record topic (e.g. ``staging.``), for environments sharing a cluster.
        store_path: the agency store, the connector's SQLite file (processed ids, dead-lettered
            positions, the outbox, the agency's own tables); unset means
            ``$XDG_DATA_HOME/enlace/<agency>.sqlite3``.
        store_retention_s: how long the store keeps processed ids, dead-lettered positions and sent
            outbox rows before pruning them.
        message_log: keep the agency's tamper-evident message log (every record sent and received,
            hash-chained; ``connectors/_message_log.py``). On by default; off only to measure its cost.
        message_log_path: the log's SQLite file; unset means beside the store
            (``<store name>.log.sqlite3``).
        checkpoint_topic: the shared topic where every agency publishes its log's signed checkpoints
            and reads the others' (witnessing them).
        checkpoint_every: a checkpoint after this many new log entries...
        checkpoint_interval_s: ...or after this many seconds with new entries, whichever comes first.
        max_record_bytes: the largest record a consumer handles (key, value and headers); a larger
            one is a dead letter ``too-large``. Default: a broker's default ``max.message.bytes``.
        max_clock_skew_s: how far a record's ``ce_time`` may be ahead of the receiver's clock
            (``future-time`` beyond it), and how far a sender's clock may lag its key's start.
        max_record_age_s: how old a record's ``ce_time`` may be (``stale`` beyond it). At most
            ``store_retention_s``: a record older than the processed ids the store keeps could
            otherwise be applied again; longer than Kafka's 7-day default retention, so a consumer
            catching up on a backlog Kafka still holds applies it.
        handler_attempts: how many times a failing handler is called before its record is dead-lettered.
        retry_backoff_s: the first retry's delay; each further retry waits twice as long.
        portal_oidc_issuer: the citizen portal's OpenID provider (its issuer identifier, ``https://``;
            ``http://`` only on loopback, for the development sign-in). Unset: nobody can sign in.
        portal_oidc_client_id: the portal's client id at that provider.
        portal_oidc_client_secret: the portal's client secret (a secret: never logged).
        portal_oidc_redirect_url: the portal's callback URL registered at the provider
            (``https://portal.example/auth/callback``).
        portal_oidc_curp_claim: the ID token claim holding the signed-in citizen's CURP.
        portal_oidc_scope: the scopes the portal asks for (``openid`` and what gives the CURP claim).
        portal_allowed_hosts: host names the portal answers to besides loopback and the address it is
            bound to (comma-separated; the redirect URL's host is added).
        portal_max_body_bytes: the largest request body the portal reads.
        portal_submissions_per_client: submissions one client address may make (``N/second|minute|hour|day``).
        portal_submissions_per_curp: submissions under one CURP (``N/second|minute|hour|day``).
    """

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    bootstrap_servers: str | None = None
    registry_url: str | None = None
    kafka: KafkaMode = "auto"
    kafka_heap_mb: int = Field(default=384, ge=128, le=8192)
    kafka_start_timeout_s: float = Field(default=90.0, gt=0)
    kafka_config: str | None = None
    kafka_insecure: bool = False
    kafka_security_protocol: str | None = None
    kafka_sasl_mechanism: str | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: str | None = Field(default=None, repr=False)
    kafka_ssl_cafile: str | None = None
    kafka_client: KafkaClient = "kafka-python"
    registry_topic: str = Field(default="_schemas", min_length=1)
    registry_transactional_id: str | None = None
    registry_policy: str | None = None
    registry_credentials: str | None = None
    registry_tokens: str | None = None
    registry_token: str | None = Field(default=None, repr=False)
    schemas_dir: str | None = None
    trust_topic: str = "enlace.trust"
    trust_anchor: str | None = None
    authority_key: str | None = None
    encryption_keys: str | None = None
    topic_prefix: str = ""
    store_path: str | None = None
    # 14 days: longer than Kafka's default topic retention (7 days, log.retention.hours=168), so a
    # record is forgotten only after Kafka itself can no longer redeliver it (a consumer group reset
    # to the earliest offset replays at most 7 days; every id from then is still known).
    store_retention_s: float = Field(default=14 * 24 * 3600.0, gt=0)
    message_log: bool = True
    message_log_path: str | None = None
    checkpoint_topic: str = Field(default="enlace.checkpoints", min_length=1)
    checkpoint_every: int = Field(default=1000, ge=1, le=1_000_000)
    checkpoint_interval_s: float = Field(default=60.0, gt=0, le=24 * 3600.0)
    max_record_bytes: int = Field(default=1_048_576, ge=1024)
    max_clock_skew_s: float = Field(default=300.0, ge=0, le=24 * 3600.0)
    max_record_age_s: float = Field(default=14 * 24 * 3600.0, gt=0)
    handler_attempts: int = Field(default=4, ge=1, le=20)
    retry_backoff_s: float = Field(default=0.2, ge=0, le=60)
    portal_oidc_issuer: str | None = None
    portal_oidc_client_id: str | None = None
    portal_oidc_client_secret: str | None = Field(default=None, repr=False)
    portal_oidc_redirect_url: str | None = None
    portal_oidc_curp_claim: str = Field(default="curp", min_length=1, max_length=100)
    portal_oidc_scope: str = Field(default="openid profile curp", min_length=6)
    portal_allowed_hosts: str = ""
    portal_max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    portal_submissions_per_client: str = "60/minute"
    portal_submissions_per_curp: str = "10/hour"

    @model_validator(mode="after")
    def _age_within_retention(self) -> EnlaceSettings:
        check_record_age(self)
        return self

    def registry_writer_id(self) -> str:
        """The registry writer's ``transactional.id``: ``registry_transactional_id``, or derived from its topic."""
        return self.registry_transactional_id or f"enlace-registry-writer-{self.registry_topic}"


def check_record_age(settings: EnlaceSettings) -> None:
    """Refuse a record age longer than the store keeps processed ids (such a record could be applied twice).

    Raises:
        ConfigError: ``max_record_age_s`` is above ``store_retention_s``.
    """
    if settings.max_record_age_s > settings.store_retention_s:
        raise ConfigError(
            f"ENLACE_MAX_RECORD_AGE_S ({settings.max_record_age_s:.0f}) must not exceed ENLACE_STORE_RETENTION_S "
            f"({settings.store_retention_s:.0f}): a record older than the processed ids kept could be applied twice"
        )


def load_settings(environ: dict[str, str] | None = None) -> EnlaceSettings:
    """Read settings from the environment, rejecting unknown ``ENLACE_*`` variables by name.

    Args:
        environ: the environment to read; ``os.environ`` when omitted.

    Returns:
        The validated settings.

    Raises:
        ConfigError: an ``ENLACE_*`` variable is unknown or holds an invalid value.
    """
    env = dict(os.environ if environ is None else environ)
    known = {ENV_PREFIX + name.upper() for name in EnlaceSettings.model_fields}
    unknown = sorted(k for k in env if k.upper().startswith(ENV_PREFIX) and k.upper() not in known)
    if unknown:
        raise ConfigError(f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    values = {
        name: env[ENV_PREFIX + name.upper()] for name in EnlaceSettings.model_fields if ENV_PREFIX + name.upper() in env
    }
    try:
        return EnlaceSettings(**values)  # type: ignore[arg-type]
    except PydanticValidationError as exc:  # reworded with the variables' names, without their values
        problems = "; ".join(
            f"{ENV_PREFIX}{'_'.join(str(part) for part in error['loc']).upper() or '?'}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConfigError(f"invalid ENLACE_* setting: {problems}") from None
