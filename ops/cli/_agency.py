"""``enlace agency keygen|publish-key|revoke-key``: an agency's signing keys and the trust topic."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bus import ConfigError, load_settings
from bus.identity import TrustedKey, TrustStore, TrustTopicReader, generate_key, load_key, publish_trusted_key
from ops.cli._bus import client_config

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


@agency_app.command("publish-key")
def publish_key(
    agency: Annotated[str, typer.Option("--agency", help="The agency's URN.")],
    key_file: Annotated[Path, typer.Option("--key-file", help="The agency's private key (its public half is sent).")],
    valid_days: Annotated[int, typer.Option("--valid-days", min=1, help="Validity from now, in days.")] = 365,
) -> None:
    """Publish the public half of an agency key to the trust topic, so receivers trust it."""
    settings = load_settings()
    key = load_key(agency, key_file)
    trusted = TrustedKey.for_key(key, valid_days=valid_days)
    offset = publish_trusted_key(client_config(settings), trusted, topic=settings.trust_topic)
    typer.echo(
        f"published {key.key_id} of {agency} to {settings.trust_topic} at offset {offset}, "
        f"valid until {trusted.not_after.isoformat()}"
    )


@agency_app.command("revoke-key")
def revoke_key(
    agency: Annotated[str, typer.Option("--agency", help="The agency's URN.")],
    key_file: Annotated[Path, typer.Option("--key-file", help="The key to revoke (its public half is enough).")],
    reason: Annotated[str, typer.Option("--reason", help="Why, for the receivers' dead letters.")],
) -> None:
    """Revoke a key: receivers refuse records signed with it from now on."""
    settings = load_settings()
    key = load_key(agency, key_file)
    store = TrustStore()
    reader = TrustTopicReader(client_config(settings), store, topic=settings.trust_topic).start()
    reader.stop()
    current = store.get(key.key_id)
    if current is None:
        raise ConfigError(f"key {key.key_id} is not in {settings.trust_topic}; nothing to revoke")
    publish_trusted_key(client_config(settings), current.revoked(reason), topic=settings.trust_topic)
    typer.echo(f"revoked {key.key_id} of {agency}: {reason}")
