"""The bridge's configuration file (YAML or JSON), and serving the bridge with uvicorn over mutual TLS.

Example (``enlace up`` writes one like it)::

    cluster_id: enlace
    host: 127.0.0.1
    port: 8443
    tls_dir: /state/bridge/tls          # ca.pem, server.pem, server.key (BridgeCertificates.create)
    store: /state/bridge/bridge.sqlite3 # idempotency keys, subscriptions (0600)
    callback_key: /state/bridge/callbacks.key   # Ed25519 PKCS#8 PEM that signs webhooks (made if absent)
    agencies:
      urn:mx:gob:archivo:
        key_file: /state/keys/archivo/archivo.key        # its signing key
        kafka_config: /state/kafka/mx.gob.archivo.properties   # its own Kafka credentials
        webhook_url: https://archivo.example/enlace      # optional; the only URL callbacks go to

Everything else (the registry, the trust anchor, limits) comes from ``ENLACE_*`` as for every agency.
Unknown keys are refused by name.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bus import ConfigError, EnlaceSettings, load_settings
from bus._files import write_private
from connectors.bridge._callbacks import CallbackSigner
from connectors.bridge._service import AgencySetup, Bridge
from connectors.bridge._tls import BridgeCertificates

__all__ = ["AgencyEntry", "BridgeConfig", "load_bridge_config", "serve"]


class AgencyEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key_file: Path
    kafka_config: Path | None = None
    webhook_url: str | None = Field(default=None, pattern=r"^https?://[^\s]+$", max_length=2000)


class BridgeConfig(BaseModel):
    """The bridge's configuration (see the module's docstring)."""

    model_config = ConfigDict(extra="forbid")

    cluster_id: str = Field(default="enlace", pattern=r"^[A-Za-z0-9._-]{1,64}$")
    host: str = "127.0.0.1"
    port: int = Field(default=8443, ge=0, le=65535)
    tls_dir: Path
    store: Path
    callback_key: Path | None = None
    ack_deadline_s: float = Field(default=30.0, gt=0, le=3600)
    agencies: dict[str, AgencyEntry]

    def bridge(self, settings: EnlaceSettings | None = None) -> Bridge:
        """The bridge this configuration describes, each agency with its own Kafka credentials."""
        base = settings or load_settings()
        setups = {}
        for urn, entry in self.agencies.items():
            own = base
            if entry.kafka_config is not None:
                own = base.model_copy(update={"kafka_config": str(entry.kafka_config), "bootstrap_servers": None})
            setups[urn] = AgencySetup(key=entry.key_file, settings=own, webhook_url=entry.webhook_url)
        return Bridge(
            setups,
            store_path=self.store,
            cluster_id=self.cluster_id,
            ack_deadline_s=self.ack_deadline_s,
            signer=CallbackSigner(_callback_key(self.callback_key)) if self.callback_key else None,
        )


def _callback_key(path: Path) -> Ed25519PrivateKey:
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        write_private(path, pem, overwrite=False)
        return key
    loaded = serialization.load_pem_private_key(path.read_bytes(), None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise ConfigError(f"{path} is not an Ed25519 private key")
    return loaded


def load_bridge_config(path: str | Path) -> BridgeConfig:
    """Read and check the configuration file.

    Raises:
        ConfigError: the file is unreadable, not YAML/JSON, or breaks the model (the key is named).
    """
    try:
        data: Any = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the bridge configuration {path}: {exc}") from exc
    try:
        return BridgeConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{path}: {where}: {first['msg']}") from None


def server_ssl(certificates: BridgeCertificates) -> dict[str, Any]:
    """uvicorn's TLS settings: the server certificate, client certificates required from the bridge's CA."""
    return {
        "ssl_certfile": str(certificates.server_cert),
        "ssl_keyfile": str(certificates.server_key),
        "ssl_ca_certs": str(certificates.ca_file),
        "ssl_cert_reqs": ssl.CERT_REQUIRED,
    }


def serve(config: BridgeConfig, *, settings: EnlaceSettings | None = None) -> None:
    """Serve the bridge until SIGTERM or Ctrl-C; then stop its subscriptions and connectors."""
    import uvicorn

    from connectors.bridge._tls import ClientCertificateH11
    from connectors.bridge._web import create_app

    bridge = config.bridge(settings)
    try:
        bridge.resume()
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(bridge),
                host=config.host,
                port=config.port,
                http=ClientCertificateH11,
                log_level="warning",
                **server_ssl(BridgeCertificates.load(config.tls_dir)),
            )
        )
        server.run()
    finally:
        bridge.close()
