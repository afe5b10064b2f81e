"""The bridge's mutual TLS: its own CA, its server certificate, one client certificate per agency.

X-Road's security servers authenticate member systems with TLS client certificates; the bridge does the
same. The bridge's CA is its own (not the Kafka cluster's, whose certificates open the KRaft controller
listener): a certificate it issues names exactly one agency, by its URN in a ``uniformResourceIdentifier``
subject alternative name (and the common name, for people reading it). The server asks every client for
a certificate (``CERT_REQUIRED``) and checks it against the CA; :func:`agency_of_certificate` reads
the agency from the verified certificate.

uvicorn does not put the peer's certificate in the ASGI scope, so :class:`ClientCertificateH11` (the
HTTP/1.1 protocol uvicorn runs with ``http=``) adds it as the ASGI TLS extension does
(``scope["extensions"]["tls"]["client_cert_chain"]``, PEM strings).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from uvicorn.protocols.http.h11_impl import H11Protocol

from bus import ConfigError
from bus._files import private_dir, write_private
from bus.identity import check_agency_urn

__all__ = ["BridgeCertificates", "ClientCertificateH11", "agency_of_certificate"]

_VALIDITY = dt.timedelta(days=397)  # the CA/Browser Forum's ceiling for a leaf certificate


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@dataclass(frozen=True)
class BridgeCertificates:
    """The bridge's TLS folder (0700): ``ca.pem``, ``ca.key``, ``server.pem``, ``server.key`` (keys 0600).

    Agencies' certificates are written wherever :meth:`issue` is told (``<name>.pem`` and
    ``<name>.key``, 0600), to be handed to the agency.
    """

    directory: Path

    @property
    def ca_file(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def server_cert(self) -> Path:
        return self.directory / "server.pem"

    @property
    def server_key(self) -> Path:
        return self.directory / "server.key"

    @classmethod
    def create(cls, directory: str | Path) -> BridgeCertificates:
        """Make a new CA and a server certificate for ``localhost`` and ``127.0.0.1`` in ``directory``."""
        folder = private_dir(directory)
        now = dt.datetime.now(dt.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = _name("Enlace bridge CA")
        ca = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + _VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_usage(cert_sign=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        write_private(folder / "ca.key", _pem_key(ca_key))
        write_private(folder / "ca.pem", ca.public_bytes(serialization.Encoding.PEM))
        made = cls(folder)
        names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        made._issue(folder / "server", "localhost", names, ExtendedKeyUsageOID.SERVER_AUTH)
        return made

    @classmethod
    def load(cls, directory: str | Path) -> BridgeCertificates:
        """The folder :meth:`create` made.

        Raises:
            ConfigError: a file is missing.
        """
        made = cls(Path(directory))
        for path in (made.ca_file, made.directory / "ca.key", made.server_cert, made.server_key):
            if not path.is_file():
                raise ConfigError(
                    f"the bridge's TLS folder {directory} has no {path.name} (make it with BridgeCertificates.create)"
                )
        return made

    def issue(self, agency: str, out: str | Path) -> tuple[Path, Path]:
        """Issue ``agency`` a client certificate naming its URN; returns (certificate, key) paths.

        Raises:
            ConfigError: the URN is malformed.
        """
        urn = check_agency_urn(agency)
        folder = private_dir(out)
        base = folder / urn.rsplit(":", 1)[-1]
        return self._issue(base, urn, [x509.UniformResourceIdentifier(urn)], ExtendedKeyUsageOID.CLIENT_AUTH)

    def _issue(self, base: Path, common_name: str, names: list[Any], usage: Any) -> tuple[Path, Path]:
        ca_key = serialization.load_pem_private_key((self.directory / "ca.key").read_bytes(), None)
        ca = x509.load_pem_x509_certificate(self.ca_file.read_bytes())
        assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
        now = dt.datetime.now(dt.UTC)
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + _VALIDITY)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(cert_sign=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        cert_path, key_path = base.with_suffix(".pem"), base.with_suffix(".key")
        write_private(key_path, _pem_key(key))
        write_private(cert_path, cert.public_bytes(serialization.Encoding.PEM))
        return cert_path, key_path

    def client_context(self, cert: str | Path, key: str | Path) -> ssl.SSLContext:
        """A TLS context trusting this CA and presenting ``cert`` (what an agency's httpx client uses)."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        context.load_cert_chain(str(cert), str(key))
        return context


def _usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        encipher_only=False,
        decipher_only=False,
    )


def agency_of_certificate(pem: str) -> str | None:
    """The agency URN a (verified) client certificate names in its URI subject alternative name.

    None when it names none, or more than one, or a malformed URN: such a certificate is nobody.
    """
    try:
        cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return None
    uris = names.get_values_for_type(x509.UniformResourceIdentifier)
    if len(uris) != 1:
        return None
    try:
        return check_agency_urn(uris[0])
    except ConfigError:
        return None


class ClientCertificateH11(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, adding the verified client certificate to each request's scope."""

    def connection_made(self, transport: Any) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        chain = [ssl.DER_cert_to_PEM_cert(der)] if der else []
        inner = self.app

        async def app(scope: Any, receive: Any, send: Any) -> None:
            scope.setdefault("extensions", {})["tls"] = {"client_cert_chain": chain}
            await inner(scope, receive, send)

        self.app = app
