"""``enlace agency keygen|publish-key|revoke-key|client-config``: an agency's signing keys, the trust
topic, and the agency's Kafka credentials on the local cluster."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from bus import ConfigError, load_settings
from bus.encryption import encryption_key_id, generate_encryption_key, load_encryption_key
from bus.identity import (
    AUTHORITY,
    MAX_VALIDITY,
    AgencyKey,
    TrustAnchor,
    TrustedKey,
    TrustStore,
    TrustTopicReader,
    generate_key,
    key_id_for,
    load_key,
    publish_trusted_key,
)
from bus.transport import principal_for
from ops.cli._bus import client_config, local_cluster
from ops.kafka import BackgroundCluster

agency_app = typer.Typer(help="An agency's signing keys and the trust topic.", no_args_is_help=True)


@agency_app.command("keygen")
def keygen(
    urn: Annotated[str, typer.Argument(help="The agency's URN, e.g. urn:mx:gob:sat.")],
    out: Annotated[Path, typer.Option("--out", help="Directory for <name>.key (mode 0600) and <name>.pub.")],
) -> None:
    """Create an Ed25519 key pair; the last line printed is the private key's path."""
    key = generate_key(urn)
    path = key.save(out)
    typer.echo(f"key id: {key.key_id}")
    typer.echo(f"public key: {path.with_suffix('.pub')}")
    typer.echo(str(path))


@agency_app.command("encryption-keygen")
def encryption_keygen(
    urn: Annotated[str, typer.Argument(help="The agency's URN, e.g. urn:mx:gob:crm.")],
    out: Annotated[
        Path, typer.Option("--out", help="The agency's keyring folder (ENLACE_ENCRYPTION_KEYS): <name>.<id>.xkey")
    ],
) -> None:
    """Create an X25519 encryption key pair beside the ones kept; the last line printed is its path.

    Publish its ``.xpub`` with ``publish-key --encryption-key``; keep the older keys in the folder as
    long as records encrypted for them must stay readable.
    """
    key = generate_encryption_key(urn)
    path = key.save(out)
    typer.echo(f"key id: {key.key_id}")
    typer.echo(f"public key: {path.with_suffix('.xpub')}")
    typer.echo(str(path))


def _encryption_public_key(agency: str, key_file: Path) -> X25519PublicKey:
    """The public half of an encryption key from its ``.xpub`` (PEM) or its ``.xkey``."""
    data = key_file.read_bytes() if key_file.is_file() else b""
    if b"PUBLIC KEY" in data:
        try:
            public = serialization.load_pem_public_key(data)
        except ValueError as exc:
            raise ConfigError(f"{key_file}: not a readable PEM public key ({exc})") from exc
        if not isinstance(public, X25519PublicKey):
            raise ConfigError(f"{key_file}: not an X25519 public key")
        return public
    return load_encryption_key(agency, key_file).public_key


@agency_app.command("client-config")
def client_config_file(
    urn: Annotated[
        str, typer.Argument(help="The agency's URN, e.g. urn:mx:gob:crm (urn:mx:gob:interop: the operator).")
    ],
) -> None:
    """Write the agency's Kafka client properties file for the local cluster (0600); the last line
    printed is its path.

    The file is in the Java client's own key names (security.protocol, sasl.jaas.config,
    ssl.truststore.location, ...): Kafka's console tools (--producer.config/--consumer.config),
    other clients and Enlace (ENLACE_KAFKA_CONFIG) read it, and may do what the agency may.
    """
    principal = principal_for(urn)
    from ops.stack import Stack  # the bus `enlace up` runs wrote every agency's file already

    stack = Stack.load()
    if stack is not None and principal in stack.kafka_clients:
        typer.echo(f"principal: {principal}")
        typer.echo(f"bootstrap servers: {stack.bootstrap_servers}")
        typer.echo(stack.kafka_clients[principal])
        return
    cluster = local_cluster()
    if cluster.security is None:
        raise ConfigError("the local cluster runs INSECURE (no credentials): restart it without --insecure")
    if principal not in cluster.security.principals:
        raise ConfigError(
            f"the local cluster has no principal {principal} for {urn}: the policy names no such agency "
            "(owners or readers in schemas/policy.yaml); add it and restart the cluster"
        )
    path = BackgroundCluster().client_properties(cluster, principal)
    typer.echo(f"principal: {principal}")
    typer.echo(f"bootstrap servers: {cluster.bootstrap_servers}")
    typer.echo(str(path))


def _authority(path: Path | None) -> AgencyKey:
    settings = load_settings()
    chosen = path or (Path(settings.authority_key) if settings.authority_key else None)
    if chosen is None:
        raise ConfigError(
            f"publishing and revoking keys are acts of the interoperability authority: pass --authority-key "
            f"(or set ENLACE_AUTHORITY_KEY) with {AUTHORITY}'s private key"
        )
    return load_key(AUTHORITY, chosen)


def _public_key(agency: str, key_file: Path) -> Ed25519PublicKey:
    """The public half of an agency key from its ``.pub`` (PEM) or its private key file."""
    data = key_file.read_bytes() if key_file.is_file() else b""
    if b"PUBLIC KEY" in data:
        try:
            public = serialization.load_pem_public_key(data)
        except ValueError as exc:
            raise ConfigError(f"{key_file}: not a readable PEM public key ({exc})") from exc
        if not isinstance(public, Ed25519PublicKey):
            raise ConfigError(f"{key_file}: not an Ed25519 public key")
        return public
    return load_key(agency, key_file).public_key


AuthorityOption = Annotated[
    Path | None,
    typer.Option("--authority-key", help=f"{AUTHORITY}'s private key (default: ENLACE_AUTHORITY_KEY)."),
]


@agency_app.command("publish-key")
def publish_key(
    agency: Annotated[str, typer.Option("--agency", help="The agency's URN.")],
    key_file: Annotated[
        Path, typer.Option("--key-file", help="Its .pub, or private key (only the public half is sent).")
    ],
    valid_days: Annotated[
        int, typer.Option("--valid-days", min=1, max=MAX_VALIDITY.days, help="Validity from now, in days.")
    ] = 365,
    authority_key: AuthorityOption = None,
    encryption_key: Annotated[
        Path | None,
        typer.Option(
            "--encryption-key",
            help="The agency's encryption key (.xpub, or .xkey: only the public half is sent), published "
            "beside the signing key; publishing again with a new one rotates it.",
        ),
    ] = None,
) -> None:
    """Register an agency key in the trust topic, signed by the interoperability authority."""
    settings = load_settings()
    authority = _authority(authority_key)
    public = _public_key(agency, key_file)
    encryption = _encryption_public_key(agency, encryption_key) if encryption_key is not None else None
    start = datetime.now(UTC).replace(microsecond=0)
    trusted = TrustedKey(
        agency, key_id_for(public), public, start, start + timedelta(days=valid_days), encryption_key=encryption
    )
    offset = publish_trusted_key(client_config(settings), trusted, authority=authority, topic=settings.trust_topic)
    beside = f" with encryption key {encryption_key_id(encryption)}" if encryption is not None else ""
    typer.echo(
        f"published {trusted.key_id}{beside} of {agency} to {settings.trust_topic} at offset {offset}, "
        f"valid until {trusted.not_after.isoformat()}, signed by {authority.key_id}"
    )


@agency_app.command("revoke-key")
def revoke_key(
    agency: Annotated[str, typer.Option("--agency", help="The agency's URN.")],
    reason: Annotated[str, typer.Option("--reason", help="Why, for the receivers' dead letters.")],
    key_id: Annotated[
        str | None, typer.Option("--key-id", help="The key's id (ed25519:...); no key file needed.")
    ] = None,
    key_file: Annotated[
        Path | None, typer.Option("--key-file", help="The key's .pub or private file, instead of --key-id.")
    ] = None,
    authority_key: AuthorityOption = None,
) -> None:
    """Revoke a key for good: receivers refuse records signed with it from now on.

    A lost key is revoked by its id alone: its public half is already in the trust topic.
    """
    if (key_id is None) == (key_file is None):
        raise typer.BadParameter("give exactly one of --key-id and --key-file", param_hint="--key-id")
    settings = load_settings()
    authority = _authority(authority_key)
    wanted = key_id or key_id_for(_public_key(agency, key_file))  # type: ignore[arg-type]
    store = TrustStore()
    reader = TrustTopicReader(
        client_config(settings), store, anchor=TrustAnchor.of(authority), topic=settings.trust_topic
    ).start()
    reader.stop()
    current = store.get(wanted)
    if current is None or current.agency != agency:
        raise ConfigError(f"key {wanted} of {agency} is not in {settings.trust_topic}; nothing to revoke")
    publish_trusted_key(
        client_config(settings), current.revoked(reason), authority=authority, topic=settings.trust_topic
    )
    typer.echo(f"revoked {wanted} of {agency}: {reason}")
