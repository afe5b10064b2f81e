"""Citizens sign in with OpenID Connect (Authlib): authorization code with PKCE, state and nonce checked,
the ID token's signature, ``iss``, ``aud``, ``exp`` and ``iat`` checked, the CURP read from one of its claims.

The browser keeps one signed cookie (Starlette's ``SessionMiddleware``: HttpOnly, SameSite=Lax, Secure
when the portal is reached over https) holding the sign-in in progress (state, nonce, PKCE verifier)
and then a random session id; the session itself (whose CURP) is in the portal's store, by the id's
digest, and ends on signing out or after ``SESSION_LIFETIME_S``.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.starlette_client import OAuth, OAuthError
from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from joserfc.errors import JoseError

from adapters.portal._config import OidcConfig
from adapters.portal._forms import check_curp
from adapters.portal._store import Citizen, PortalStore

__all__ = ["SESSION_COOKIE", "SESSION_LIFETIME_S", "CitizenSignIn"]

SESSION_COOKIE = "enlace_portal"
SESSION_LIFETIME_S = 3600.0
# Asymmetric algorithms only: an ID token "signed" with none or with the client secret is refused.
_ID_TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
_STATE_PREFIX = "_state_citizen_"
# The provider does not answer, or answers documents that are not what OpenID Connect says.
_PROVIDER_BROKEN = (httpx.HTTPError, ValueError, KeyError, TypeError, RuntimeError)

_log = logging.getLogger("enlace.adapters.portal")


def _refused(status: int, rule: str, message: str) -> JSONResponse:
    return JSONResponse({"errors": [{"field": "sign-in", "message": message, "rule": rule}]}, status_code=status)


class CitizenSignIn:
    """The portal's sign-in with one OpenID provider.

    Args:
        config: the provider and the portal's client registration.
        store: where sessions are kept.
    """

    def __init__(self, config: OidcConfig, store: PortalStore) -> None:
        self.config = config
        self.store = store
        self._oauth = OAuth()
        self._oauth.register(
            name="citizen",
            client_id=config.client_id,
            client_secret=config.client_secret,
            server_metadata_url=f"{config.issuer}/.well-known/openid-configuration",
            client_kwargs={"scope": config.scope, "code_challenge_method": "S256", "timeout": 10.0},
        )
        self._client: Any = self._oauth.create_client("citizen")

    async def _metadata(self) -> dict[str, Any]:
        """The provider's discovery document, checked once: its issuer must be the configured one."""
        metadata: dict[str, Any] = await self._client.load_server_metadata()
        if metadata.get("issuer") != self.config.issuer:
            metadata.pop("_loaded_at", None)  # ask again next time: it may be fixed
            raise OAuthError(error="issuer", description="the provider's discovery document names another issuer")
        offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        metadata["id_token_signing_alg_values_supported"] = [a for a in offered if a in _ID_TOKEN_ALGORITHMS]
        return metadata

    async def login(self, request: Request) -> Response:
        """``GET /auth/login``: send the browser to the provider (a fresh state, nonce and PKCE verifier)."""
        for key in [k for k in request.session if k.startswith(_STATE_PREFIX)]:
            del request.session[key]  # one sign-in in progress per browser: the cookie stays small
        try:
            await self._metadata()
            redirect: Response = await self._client.authorize_redirect(request, self.config.redirect_url)
        except (AuthlibBaseError, *_PROVIDER_BROKEN) as exc:
            _log.warning("sign-in unavailable: %s", type(exc).__name__)
            return _refused(503, "signin.unavailable", "the sign-in service does not answer; try again later")
        return redirect

    async def callback(self, request: Request) -> Response:
        """``GET /auth/callback``: check the provider's answer and the ID token, then open a session."""
        if request.query_params.get("error"):
            return _refused(400, "signin.refused", "the sign-in was cancelled or refused at the provider")
        if not request.query_params.get("code") or not request.query_params.get("state"):
            return _refused(400, "signin.incomplete", "the provider's answer has no code or no state")
        try:
            await self._metadata()
            token = await self._client.authorize_access_token(
                request,
                claims_options={
                    "iss": {"essential": True, "value": self.config.issuer},
                    self.config.curp_claim: {"essential": True},
                },
            )
        except (AuthlibBaseError, JoseError) as exc:
            _log.info("sign-in refused: %s", type(exc).__name__)
            return _refused(
                400, "signin.invalid", "the sign-in could not be verified (state, code or ID token); start again"
            )
        except _PROVIDER_BROKEN as exc:
            _log.warning("sign-in unavailable: %s", type(exc).__name__)
            return _refused(503, "signin.unavailable", "the sign-in service does not answer; try again later")
        claims = token.get("userinfo")
        if not claims:  # no ID token in the answer: nothing proves who signed in
            return _refused(400, "signin.invalid", "the provider's answer has no ID token")
        curp = claims.get(self.config.curp_claim)
        if not isinstance(curp, str) or check_curp(curp.upper()) is not None:
            return _refused(400, "signin.curp", f"the ID token's {self.config.curp_claim!r} claim is not a valid CURP")
        name = claims.get("name")
        citizen = Citizen(curp.upper(), name[:200] if isinstance(name, str) else "")
        self.sign_out(request)  # a session this browser had before ends here
        request.session["sid"] = self.store.open_session(citizen, lifetime_s=SESSION_LIFETIME_S)
        return RedirectResponse("/", status_code=303)

    def citizen(self, request: Request) -> Citizen | None:
        """The signed-in citizen of this request, or None."""
        session_id = request.session.get("sid")
        if not isinstance(session_id, str):
            return None
        return self.store.session_citizen(session_id)

    def sign_out(self, request: Request) -> None:
        """End this browser's session (here; the provider's own session is the provider's)."""
        session_id = request.session.get("sid")
        if isinstance(session_id, str):
            self.store.close_session(session_id)
        request.session.clear()
