"""The HTTP bridge: agencies that cannot speak Kafka publish and receive over HTTPS.

X-Road's security server for Enlace: an agency's system speaks plain HTTPS (mutual TLS, a client
certificate naming its URN) to the bridge, which acts with that agency's own connector (its Kafka
credentials and signing key), so the policy and the ACLs apply exactly as for a Kafka client::

    from connectors.bridge import BridgeCertificates, load_bridge_config, serve
    serve(load_bridge_config("bridge.yaml"))                       # or: enlace bridge serve bridge.yaml

``_web`` is the HTTP API (REST Proxy v3's shapes, by record name), ``_service`` what it does (publish
with idempotency keys, pull and webhook subscriptions), ``_store`` the idempotency keys and
subscriptions, ``_tls`` the certificates, ``_callbacks`` the signed webhooks (RFC 9421) and
:func:`verify_callback` for agencies, ``_batch`` the file drop (CSV or JSON lines through the bridge).
"""

from connectors.bridge._callbacks import CallbackSigner, verify_callback
from connectors.bridge._config import AgencyEntry, BridgeConfig, load_bridge_config, serve, server_ssl
from connectors.bridge._service import AgencySetup, Bridge, BridgeRefusal, Problem
from connectors.bridge._tls import BridgeCertificates, ClientCertificateH11, agency_of_certificate
from connectors.bridge._web import create_app

__all__ = [
    "AgencyEntry",
    "AgencySetup",
    "Bridge",
    "BridgeCertificates",
    "BridgeConfig",
    "BridgeRefusal",
    "CallbackSigner",
    "ClientCertificateH11",
    "Problem",
    "agency_of_certificate",
    "create_app",
    "load_bridge_config",
    "serve",
    "server_ssl",
    "verify_callback",
]
