"""Portal fixtures: the real development OpenID provider (node's oidc-provider), and the portal's app
on an in-memory agency store, reached at a loopback URL the provider sends citizens back to."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi.testclient import TestClient

from adapters.portal import SCHEMA, OidcConfig, PortalConfig, PortalDesk, create_app
from connectors.testing import MemoryAgency
from ops.process import free_port
from ops.signin import DevAccount, DevSignIn, dev_accounts, sign_in
from ops.stack import citizens

# The provider's accounts: the first citizens of the demo's population.
SIGN_IN_PEOPLE = 6


@dataclass(frozen=True)
class SignInService:
    """The session's development provider, with the portal URL it sends citizens back to."""

    provider: DevSignIn
    portal_url: str  # http://127.0.0.1:PORT/ (the in-process portal answers there; nothing binds it)
    accounts: tuple[DevAccount, ...]

    def oidc(self) -> OidcConfig:
        settings = self.provider.portal_settings()
        return OidcConfig(
            issuer=settings["ENLACE_PORTAL_OIDC_ISSUER"],
            client_id=settings["ENLACE_PORTAL_OIDC_CLIENT_ID"],
            client_secret=settings["ENLACE_PORTAL_OIDC_CLIENT_SECRET"],
            redirect_url=settings["ENLACE_PORTAL_OIDC_REDIRECT_URL"],
        )


@pytest.fixture(scope="session")
def dev_sign_in(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SignInService]:
    """node's oidc-provider on loopback, one account per citizen of ``citizens(SIGN_IN_PEOPLE)``."""
    portal_url = f"http://127.0.0.1:{free_port()}/"
    accounts = tuple(dev_accounts((c.curp, c.full_name) for c in citizens(SIGN_IN_PEOPLE)))
    provider = DevSignIn(
        workdir=tmp_path_factory.mktemp("sign-in"), accounts=accounts, redirect_urls=[f"{portal_url}auth/callback"]
    )
    provider.start()
    try:
        yield SignInService(provider, portal_url, accounts)
    finally:
        provider.stop()
        assert provider.process is not None and not provider.process.alive()


class Portal:
    """The portal desk on an in-memory agency store, its app, and a browser-like client for it."""

    def __init__(self, config: PortalConfig, base_url: str) -> None:
        self.agency = MemoryAgency("urn:mx:gob:portal", schema=SCHEMA)
        self.desk = PortalDesk(self.agency.store)
        self.store = self.desk.store
        self.app = create_app(self.desk, config=config)
        self.base_url = base_url
        self.client = self.new_client()

    def new_client(self) -> TestClient:
        """Another browser (its own cookies)."""
        return TestClient(self.app, base_url=self.base_url.rstrip("/"), follow_redirects=False)

    def deliver(self, handler_name: str, record, ce_id: str, sender: str) -> bool:
        return self.agency.deliver(getattr(self.desk, handler_name), record, sender=sender, ce_id=ce_id)


@pytest.fixture
def make_portal(dev_sign_in: SignInService) -> Callable[..., Portal]:
    """A portal signing citizens in with the session's provider; keyword arguments change its config."""

    def make(**changes) -> Portal:
        config = PortalConfig(oidc=dev_sign_in.oidc(), **changes)
        return Portal(config, dev_sign_in.portal_url)

    return make


@pytest.fixture
def sign_in_as(dev_sign_in: SignInService) -> Iterator[Callable[[TestClient, int], dict]]:
    """``sign_in_as(client, i)``: sign the i-th account in on that client, through the real provider."""
    browsers: list[httpx.Client] = []

    def signed_in(client: TestClient, index: int) -> dict:
        provider_browser = httpx.Client(timeout=10)
        browsers.append(provider_browser)
        return sign_in(client, dev_sign_in.portal_url, dev_sign_in.accounts[index], provider=provider_browser)

    yield signed_in
    for browser in browsers:
        browser.close()


@dataclass
class ServedPortal:
    """A portal app served by uvicorn on the loopback port the provider sends citizens back to."""

    portal: Portal
    url: str


@pytest.fixture
def served_portal(make_portal: Callable[..., Portal], dev_sign_in: SignInService) -> Iterator[ServedPortal]:
    """The portal over real HTTP (uvicorn in a thread), stopped after the test."""
    import threading
    import time
    from urllib.parse import urlsplit

    import uvicorn

    portal = make_portal()
    port = urlsplit(dev_sign_in.portal_url).port
    server = uvicorn.Server(
        uvicorn.Config(
            portal.app, host="127.0.0.1", port=port, log_level="warning", access_log=False, proxy_headers=False
        )
    )
    thread = threading.Thread(target=server.run, name="portal-http", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the portal did not start serving"
        time.sleep(0.02)
    try:
        yield ServedPortal(portal, dev_sign_in.portal_url)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        assert not thread.is_alive()
