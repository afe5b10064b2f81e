"""The secrets of a secured local Kafka: a CA, the nodes' TLS certificate and SCRAM principals.

A secured cluster (the default for ``enlace kafka up``, ``enlace up`` and the test fixtures) has:

- one listener for clients and for brokers among themselves, ``SASL_SSL`` with SCRAM-SHA-512: every
  agency, the registry and the operator sign in with their own principal (the username is the
  Kafka principal ACLs name, e.g. ``User:urn:mx:gob:crm``);
- the KRaft controller listener on TLS with client certificates required (controllers and brokers
  present the nodes' certificate; SCRAM cannot secure it, since SCRAM credentials live in the very
  metadata the controllers serve);
- KRaft's ``StandardAuthorizer`` with ``allow.everyone.if.no.acl.found=false``: a principal may do
  only what an ACL grants (the operator and the brokers are super users), and no topic is created
  on first use.

Everything is made at set-up with ``cryptography`` and kept under the cluster's state folder (0700),
every file 0600: ``ca.pem`` (the CA certificate clients trust), ``ca.key``, ``node.pem`` (the nodes'
private key and certificate chain, Kafka's PEM keystore) and ``principals.json`` (SCRAM passwords).
Each principal's Kafka client properties file, in the Java client's own key names, is written by
:meth:`ClusterSecurity.client_config` (``.write_properties(path)``) so that Kafka's console tools, Enlace and other
clients read the same file.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from bus import ConfigError
from bus._files import private_dir, write_private
from bus.transport import KafkaClientConfig, principal_for

__all__ = [
    "BROKER_PRINCIPAL",
    "NODE_CERT_PRINCIPAL",
    "OPERATOR_PRINCIPAL",
    "REGISTRY_PRINCIPAL",
    "SCRAM_MECHANISM",
    "ClusterSecurity",
    "principal_for",
]

SCRAM_MECHANISM = "SCRAM-SHA-512"


# The interoperability authority operates the bus: its principal is the cluster's super user.
OPERATOR_PRINCIPAL = principal_for("urn:mx:gob:interop")
REGISTRY_PRINCIPAL = "enlace-registry"
BROKER_PRINCIPAL = "enlace-broker"  # brokers among themselves, on the SASL_SSL listener
_NODE_CN = "enlace-kafka-node"
NODE_CERT_PRINCIPAL = f"CN={_NODE_CN}"  # what the controller listener's TLS client auth yields
_SCRAM_LOGIN = "org.apache.kafka.common.security.scram.ScramLoginModule"
# Long enough for a development cluster that lives for months; a test cluster lives minutes.
_VALIDITY = dt.timedelta(days=825)


def _jaas(username: str, password: str) -> str:
    return f'{_SCRAM_LOGIN} required username="{username}" password="{password}";'


def _check_principal(name: str) -> str:
    # The storage tool reads credentials as 'SCRAM-SHA-512=[name=...,password=...]' and JAAS quotes
    # values: these characters would end a field early.
    if not name or any(c in name for c in ',[]="\\;\n\r ') or not name.isprintable():
        raise ConfigError(f"{name!r} cannot be a Kafka principal name (no spaces, commas, brackets, quotes or '=')")
    return name


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    pkcs8 = serialization.PrivateFormat.PKCS8
    return key.private_bytes(serialization.Encoding.PEM, pkcs8, serialization.NoEncryption())


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _make_ca(now: dt.datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name("Enlace local Kafka CA")
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _make_node_cert(
    ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate, now: dt.datetime
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(_NODE_CN))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        # Server for its listeners, client towards the other nodes' controller listener.
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


@dataclass(frozen=True)
class ClusterSecurity:
    """A secured cluster's CA, node certificate and principals, kept in one private folder.

    Use :meth:`create` once when the cluster is set up, :meth:`load` afterwards.
    """

    directory: Path
    passwords: dict[str, str]

    @property
    def ca_file(self) -> Path:
        """The CA certificate (PEM) every client trusts."""
        return self.directory / "ca.pem"

    @property
    def node_keystore(self) -> Path:
        """The nodes' private key and certificate chain (Kafka's PEM keystore)."""
        return self.directory / "node.pem"

    @property
    def principals(self) -> list[str]:
        """Every SCRAM principal of the cluster, brokers' included."""
        return sorted(self.passwords)

    @classmethod
    def create(cls, directory: str | Path, principals: Iterable[str]) -> ClusterSecurity:
        """Make a CA, the nodes' certificate and a random password per principal, in ``directory``.

        Args:
            directory: the folder (created 0700); files already there are replaced.
            principals: the SCRAM usernames besides the operator, the registry and the brokers
                (one per agency: :func:`principal_for` its URN).

        Raises:
            ConfigError: a principal's name cannot be written in Kafka's credential syntax.
        """
        folder = private_dir(directory)
        now = dt.datetime.now(dt.UTC)
        ca_key, ca_cert = _make_ca(now)
        node_key, node_cert = _make_node_cert(ca_key, ca_cert, now)
        names = {OPERATOR_PRINCIPAL, REGISTRY_PRINCIPAL, BROKER_PRINCIPAL, *principals}
        passwords = {_check_principal(name): secrets.token_urlsafe(32) for name in sorted(names)}
        write_private(folder / "ca.key", _key_pem(ca_key))
        write_private(folder / "ca.pem", _cert_pem(ca_cert))
        write_private(folder / "node.pem", _key_pem(node_key) + _cert_pem(node_cert) + _cert_pem(ca_cert))
        write_private(folder / "principals.json", json.dumps({"mechanism": SCRAM_MECHANISM, "passwords": passwords}))
        return cls(folder, passwords)

    @classmethod
    def load(cls, directory: str | Path) -> ClusterSecurity:
        """The security :meth:`create` made in ``directory``.

        Raises:
            ConfigError: the folder holds no complete set of files.
        """
        folder = Path(directory)
        try:
            data = json.loads((folder / "principals.json").read_text())
            passwords = {str(k): str(v) for k, v in data["passwords"].items()}
        except (OSError, ValueError, KeyError, AttributeError) as exc:
            raise ConfigError(f"{folder} holds no cluster security (principals.json: {exc})") from exc
        security = cls(folder, passwords)
        for needed in (security.ca_file, security.node_keystore):
            if not needed.is_file():
                raise ConfigError(f"{folder} holds no cluster security: {needed.name} is missing")
        return security

    def password(self, principal: str) -> str:
        """The SCRAM password of ``principal``.

        Raises:
            ConfigError: the cluster has no such principal.
        """
        try:
            return self.passwords[principal]
        except KeyError:
            raise ConfigError(
                f"the cluster has no principal {principal!r}; it has {', '.join(self.principals)}"
            ) from None

    # -- the brokers' side -------------------------------------------------------------------------
    def scram_arguments(self) -> list[str]:
        """``kafka-storage format`` arguments that store every principal's SCRAM credential (KIP-900)."""
        arguments: list[str] = []
        for name, password in sorted(self.passwords.items()):
            arguments += ["--add-scram", f"{SCRAM_MECHANISM}=[name={name},password={password}]"]
        return arguments

    def broker_properties(
        self, *, client_listener: str, controller_listener: str, secrets_dir: str | None = None
    ) -> dict[str, str]:
        """``server.properties`` entries that secure a node (the listeners' addresses are the caller's).

        ``secrets_dir`` is where the node sees this folder when not at its own path (a container's mount).
        """
        seen = Path(secrets_dir) if secrets_dir else self.directory
        client = client_listener.lower()
        controller = controller_listener.lower()
        return {
            "listener.security.protocol.map": f"{client_listener}:SASL_SSL,{controller_listener}:SSL",
            "inter.broker.listener.name": client_listener,
            "sasl.enabled.mechanisms": SCRAM_MECHANISM,
            "sasl.mechanism.inter.broker.protocol": SCRAM_MECHANISM,
            f"listener.name.{client}.{SCRAM_MECHANISM.lower()}.sasl.jaas.config": _jaas(
                BROKER_PRINCIPAL, self.password(BROKER_PRINCIPAL)
            ),
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": str(seen / self.node_keystore.name),
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(seen / self.ca_file.name),
            f"listener.name.{controller}.ssl.client.auth": "required",
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "allow.everyone.if.no.acl.found": "false",
            "super.users": ";".join(
                f"User:{name}" for name in (OPERATOR_PRINCIPAL, BROKER_PRINCIPAL, NODE_CERT_PRINCIPAL)
            ),
            "auto.create.topics.enable": "false",
        }

    # -- the clients' side -------------------------------------------------------------------------
    def client_config(self, principal: str, bootstrap_servers: str, *, source: str = "") -> KafkaClientConfig:
        """How ``principal`` signs in: SASL_SSL with SCRAM-SHA-512, trusting this cluster's CA.

        ``config.write_properties(path)`` makes the principal's Kafka client properties file.
        """
        return KafkaClientConfig(
            bootstrap_servers=bootstrap_servers,
            security_protocol="SASL_SSL",
            sasl_mechanism=SCRAM_MECHANISM,
            sasl_username=principal,
            sasl_password=self.password(principal),
            ssl_cafile=str(self.ca_file),
            source=source or f"cluster security {self.directory}, principal {principal}",
        )
