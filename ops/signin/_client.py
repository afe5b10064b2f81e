"""Signing in to the portal through the development provider, as a browser would (for the demo and tests)."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import httpx

from bus import TransportError
from ops.signin._provider import DevAccount

__all__ = ["SignInFailed", "sign_in"]

_LOGIN_FORM = re.compile(r'<form method="post" action="(/interaction/[A-Za-z0-9_-]+/login)">')
_MAX_REDIRECTS = 10


class SignInFailed(TransportError):
    """The sign-in did not end with the portal's session (the message says at which step)."""


def _follow(response: httpx.Response, portal_url: str, portal: httpx.Client, provider: httpx.Client) -> httpx.Response:
    """Follow redirects by hand, each hop with the client of the server it goes to (their own cookies)."""
    for _ in range(_MAX_REDIRECTS):
        if not response.is_redirect:
            return response
        url = urljoin(str(response.url), response.headers["location"])
        client = portal if url.startswith(portal_url) else provider
        response = client.get(url, follow_redirects=False)
    raise SignInFailed(f"more than {_MAX_REDIRECTS} redirects while signing in (last: {response.url})")


def sign_in(
    portal: httpx.Client, portal_url: str, account: DevAccount, *, provider: httpx.Client | None = None
) -> dict[str, object]:
    """Sign ``account`` in to the portal: its login page, the provider's form, back to the portal.

    Args:
        portal: the client that speaks to the portal; it keeps the portal's session cookie.
        portal_url: the portal's base URL (``http://127.0.0.1:PORT/``).
        account: the development account.
        provider: a client for the provider's pages; ``portal`` itself when omitted (one browser).

    Returns:
        The portal's ``GET /api/me`` once signed in.

    Raises:
        SignInFailed: a step answered something else than expected (named, with its status).
    """
    base = portal_url if portal_url.endswith("/") else portal_url + "/"
    provider = provider or portal
    page = _follow(portal.get(base + "auth/login", follow_redirects=False), base, portal, provider)
    form = _LOGIN_FORM.search(page.text) if page.status_code == 200 else None
    if form is None:
        raise SignInFailed(
            f"the portal's sign-in did not lead to the provider's login page ({page.status_code} {page.url})"
        )
    action = urljoin(str(page.url), form.group(1))
    answer = provider.post(action, data={"login": account.login, "password": account.password}, follow_redirects=False)
    if answer.status_code == 401:
        raise SignInFailed("the development provider refused the account's login or password")
    landed = _follow(answer, base, portal, provider)
    if landed.status_code >= 400:
        raise SignInFailed(f"the portal did not take the sign-in: {landed.status_code} {landed.text[:200]}")
    me = portal.get(base + "api/me")
    body = me.json() if me.status_code == 200 else {}
    if not body.get("signed_in"):
        raise SignInFailed(f"signed in at the provider, but the portal has no session ({me.status_code})")
    return dict(body)
