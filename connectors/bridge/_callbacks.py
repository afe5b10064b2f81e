"""Signed webhook callbacks: HTTP Message Signatures (RFC 9421) with Ed25519, and their verification.

Every callback the bridge POSTs carries ``Content-Digest`` (RFC 9530, ``sha-256``) and a signature over
``@method``, ``@target-uri``, ``content-digest``, ``content-type`` and ``ce-id`` (RFC 9421 §2.5 signature
base), with ``created``, ``keyid`` and ``alg="ed25519"`` parameters, labelled ``enlace``. The bridge's
public key is served at ``GET /v3/webhook-keys`` (a JWK set, RFC 8037 ``OKP``/``Ed25519``), so an agency
verifies a callback with :func:`verify_callback` or any RFC 9421 library.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from bus import SignatureError
from bus.identity import key_id_for

__all__ = ["COVERED", "CallbackSigner", "jwk_of", "verify_callback"]

COVERED = ("@method", "@target-uri", "content-digest", "content-type", "ce-id")
_LABEL = "enlace"


def _digest(body: bytes) -> str:
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"


def _params(created: int, key_id: str) -> str:
    components = " ".join(f'"{c}"' for c in COVERED)
    return f'({components});created={created};keyid="{key_id}";alg="ed25519"'


def _base(method: str, url: str, headers: Mapping[str, str], params: str) -> bytes:
    values = {"@method": method.upper(), "@target-uri": url}
    lines = [f'"{c}": {values[c] if c.startswith("@") else headers[c].strip()}' for c in COVERED]
    lines.append(f'"@signature-params": {params}')
    return "\n".join(lines).encode()


class CallbackSigner:
    """Signs callbacks with the bridge's Ed25519 key."""

    def __init__(self, key: Ed25519PrivateKey | None = None) -> None:
        self._key = key or Ed25519PrivateKey.generate()
        self.key_id = key_id_for(self._key.public_key())

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._key.public_key()

    def headers(self, url: str, body: bytes, *, ce_id: str, content_type: str = "application/json") -> dict[str, str]:
        """The headers of a POST of ``body`` to ``url``: content type and digest, ce-id, the signature."""
        headers = {"content-type": content_type, "content-digest": _digest(body), "ce-id": ce_id}
        params = _params(int(time.time()), self.key_id)
        signature = self._key.sign(_base("POST", url, headers, params))
        headers["signature-input"] = f"{_LABEL}={params}"
        headers["signature"] = f"{_LABEL}=:{base64.b64encode(signature).decode()}:"
        return headers


def jwk_of(key_id: str, public_key: Ed25519PublicKey) -> dict[str, str]:
    """The key as a JSON Web Key (RFC 8037)."""
    from cryptography.hazmat.primitives import serialization

    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "kid": key_id,
        "alg": "EdDSA",
        "use": "sig",
        "x": base64.urlsafe_b64encode(raw).rstrip(b"=").decode(),
    }


def verify_callback(
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    public_key: Ed25519PublicKey,
    *,
    max_age_s: float = 300,
) -> None:
    """Check that a callback came from the bridge holding ``public_key`` and was not altered.

    Args:
        url: the URL the callback was POSTed to, as the bridge was configured to call it.
        headers: the request's headers (any case).
        body: the request's body.
        public_key: the bridge's key (from ``GET /v3/webhook-keys``).
        max_age_s: how old a signature may be.

    Raises:
        SignatureError: a header is missing or malformed, the digest or signature does not match, or the
            signature is too old; the message names which.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    for name in ("signature-input", "signature", "content-digest", "content-type", "ce-id"):
        if name not in lower:
            raise SignatureError(f"the callback has no {name} header")
    if lower["content-digest"].strip() != _digest(body):
        raise SignatureError("the callback's body does not match its content-digest")
    prefix = f"{_LABEL}="
    signature_input, signature = lower["signature-input"].strip(), lower["signature"].strip()
    if not signature_input.startswith(prefix) or not signature.startswith(prefix + ":") or not signature.endswith(":"):
        raise SignatureError(f"the callback's signature is not labelled {_LABEL!r} as the bridge signs")
    params = signature_input[len(prefix) :]
    expected_components = "(" + " ".join(f'"{c}"' for c in COVERED) + ")"
    if not params.startswith(expected_components + ";"):
        raise SignatureError("the callback's signature does not cover the components the bridge signs")
    try:
        fields = dict(part.split("=", 1) for part in params[len(expected_components) + 1 :].split(";"))
        created = int(fields["created"])
        raw = base64.b64decode(signature[len(prefix) + 1 : -1], validate=True)
    except (ValueError, KeyError) as exc:
        raise SignatureError("the callback's signature parameters are malformed") from exc
    if abs(time.time() - created) > max_age_s:
        raise SignatureError(f"the callback's signature is older than {max_age_s:.0f}s")
    try:
        public_key.verify(raw, _base("POST", url, lower, params))
    except InvalidSignature as exc:
        raise SignatureError("the callback's signature does not verify with the bridge's key") from exc
