"""The portal's settings (``ENLACE_PORTAL_*``), checked once at start-up, each error naming its variable."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bus import ConfigError, EnlaceSettings

__all__ = ["LOOPBACK_HOSTS", "OidcConfig", "PortalConfig", "Rate", "is_loopback"]

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_PERIODS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}
_RATE = re.compile(r"^\s*(\d{1,6})\s*/\s*(second|minute|hour|day)\s*$")
_HOST_NAME = re.compile(r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$")


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address, without port) is this machine's loopback."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Rate:
    """At most ``count`` events per ``period_s`` seconds (a bucket of ``count`` refilled over the period)."""

    count: int
    period_s: float

    @classmethod
    def parse(cls, text: str, *, setting: str) -> Rate:
        """Read ``N/second|minute|hour|day``.

        Raises:
            ConfigError: another form, or N = 0 (naming ``setting``).
        """
        match = _RATE.match(text)
        if not match or int(match.group(1)) == 0:
            raise ConfigError(
                f"{setting}: {text!r} is not a rate such as '60/minute' (N/second|minute|hour|day, N > 0)"
            )
        return cls(int(match.group(1)), _PERIODS[match.group(2)])


def _url(value: str, *, setting: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.username or parts.fragment:
        raise ConfigError(f"{setting}: {value!r} is not an http(s) URL without user or fragment")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigError(
            f"{setting}: {value!r} must be https:// (plain http is only for a loopback development provider)"
        )
    return value


@dataclass(frozen=True)
class OidcConfig:
    """How the portal signs citizens in with OpenID Connect (authorization code + PKCE).

    Attributes:
        issuer: the provider's issuer identifier; discovery is ``<issuer>/.well-known/openid-configuration``.
        client_id: the portal's client id.
        client_secret: the portal's client secret.
        redirect_url: the portal's callback, as registered at the provider.
        curp_claim: the ID token claim with the CURP.
        scope: the scopes asked for.
    """

    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    redirect_url: str
    curp_claim: str = "curp"
    scope: str = "openid profile curp"

    @property
    def development(self) -> bool:
        """A provider on loopback: the development sign-in, labelled as such on the page."""
        return is_loopback(urlsplit(self.issuer).hostname or "")

    @property
    def secure_cookies(self) -> bool:
        """The portal is reached over https (its redirect URL says so): cookies are ``Secure``."""
        return self.redirect_url.startswith("https://")

    @property
    def public_origin(self) -> str:
        """The portal's origin as the browser sees it (scheme, host and port of the redirect URL)."""
        parts = urlsplit(self.redirect_url)
        return f"{parts.scheme}://{parts.netloc}".lower()

    @classmethod
    def from_settings(cls, settings: EnlaceSettings) -> OidcConfig | None:
        """The sign-in, or None when ``ENLACE_PORTAL_OIDC_ISSUER`` is unset.

        Raises:
            ConfigError: a variable is missing or invalid (named).
        """
        given = {
            "ENLACE_PORTAL_OIDC_ISSUER": settings.portal_oidc_issuer,
            "ENLACE_PORTAL_OIDC_CLIENT_ID": settings.portal_oidc_client_id,
            "ENLACE_PORTAL_OIDC_CLIENT_SECRET": settings.portal_oidc_client_secret,
            "ENLACE_PORTAL_OIDC_REDIRECT_URL": settings.portal_oidc_redirect_url,
        }
        if not any(given.values()):
            return None
        missing = [name for name, value in given.items() if not value]
        if missing:
            raise ConfigError(f"the portal's sign-in needs {', '.join(missing)} as well")
        scope = settings.portal_oidc_scope.split()
        if "openid" not in scope:
            raise ConfigError("ENLACE_PORTAL_OIDC_SCOPE: must include 'openid' (the portal reads an ID token)")
        return cls(
            issuer=_url(str(settings.portal_oidc_issuer), setting="ENLACE_PORTAL_OIDC_ISSUER").rstrip("/"),
            client_id=str(settings.portal_oidc_client_id),
            client_secret=str(settings.portal_oidc_client_secret),
            redirect_url=_url(str(settings.portal_oidc_redirect_url), setting="ENLACE_PORTAL_OIDC_REDIRECT_URL"),
            curp_claim=settings.portal_oidc_curp_claim,
            scope=" ".join(scope),
        )


@dataclass(frozen=True)
class PortalConfig:
    """The portal's limits and sign-in.

    Attributes:
        oidc: the sign-in, or None (then nobody can sign in: service requests and histories are refused).
        allowed_hosts: host names answered besides loopback and the bound address.
        max_body_bytes: the largest body read (larger: 413).
        per_client: submissions per client address.
        per_curp: submissions per CURP.
    """

    oidc: OidcConfig | None = None
    allowed_hosts: frozenset[str] = frozenset()
    max_body_bytes: int = 1024 * 1024
    per_client: Rate = Rate(60, 60.0)
    per_curp: Rate = Rate(10, 3600.0)

    @classmethod
    def from_settings(cls, settings: EnlaceSettings) -> PortalConfig:
        """Read and check the ``ENLACE_PORTAL_*`` settings.

        Raises:
            ConfigError: a value is invalid (naming its variable).
        """
        oidc = OidcConfig.from_settings(settings)
        hosts = {h.strip().lower() for h in settings.portal_allowed_hosts.split(",") if h.strip()}
        bad = sorted(h for h in hosts if not _HOST_NAME.match(h))
        if bad:
            raise ConfigError(f"ENLACE_PORTAL_ALLOWED_HOSTS: not host names: {', '.join(bad)}")
        if oidc is not None:
            hosts.add((urlsplit(oidc.redirect_url).hostname or "").lower())
        return cls(
            oidc=oidc,
            allowed_hosts=frozenset(hosts),
            max_body_bytes=settings.portal_max_body_bytes,
            per_client=Rate.parse(
                settings.portal_submissions_per_client, setting="ENLACE_PORTAL_SUBMISSIONS_PER_CLIENT"
            ),
            per_curp=Rate.parse(settings.portal_submissions_per_curp, setting="ENLACE_PORTAL_SUBMISSIONS_PER_CURP"),
        )
