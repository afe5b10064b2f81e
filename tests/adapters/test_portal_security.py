"""The portal discloses nothing without proof, and refuses what no citizen's browser sends (issue 11).

Each probe of the issue gets the refusal named there: another person's history or access log (no
such path; 401 without signing in), a request's status without its tracking code (404), a flood of
submissions (429 with Retry-After), a text/plain or cross-site POST (415, 403), a foreign Host (421),
a 40 MB body (413, not echoed), and the security headers on every answer.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import time

import httpx
import pytest

from adapters.portal import SESSION_COOKIE, OidcConfig, PortalConfig, Rate
from adapters.portal._limits import RateLimiter
from bus import ConfigError, load_settings
from bus.records.models import DataAccessLogged, ServiceRequestSubmitted
from ops.signin import DevAccount, SignInFailed, sign_in
from ops.stack import citizens

PEOPLE = citizens(6)
SERVICE = {
    "given_names": "Pedro",
    "first_surname": "Martinez",
    "service": "RENAPO-CAMBIO-DOMICILIO",
    "consent": True,
}


def _information(curp: str) -> dict:
    return {"curp": curp, "agency": "urn:mx:gob:sat", "question": "What is the budget?", "consent": True}


def _assert_security_headers(response: httpx.Response) -> None:
    headers = response.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"


def _access(curp: str, access_id: str):
    from bus.records import catalog

    example = catalog().get(DataAccessLogged.avro_name).example()
    return DataAccessLogged.from_avro(example | {"accessId": access_id, "dataSubjectCurp": curp})


# -- disclosure --------------------------------------------------------------------------------------


def test_no_path_serves_a_citizens_history_or_access_log_by_curp(make_portal):
    portal = make_portal()
    client = portal.client
    for path in (f"/api/citizens/{PEOPLE[0].curp}/requests", f"/api/citizens/{PEOPLE[0].curp}/access-log"):
        response = client.get(path)
        assert response.status_code == 404 and PEOPLE[0].curp not in response.text
    for path in ("/api/me/requests", "/api/me/access-log"):
        response = client.get(path)
        assert response.status_code == 401
        assert response.json()["errors"][0]["rule"] == "signin.required"


def test_a_signed_in_citizen_sees_only_their_own_requests_and_access_log(make_portal, sign_in_as):
    portal = make_portal()
    pedro, lucia = portal.client, portal.new_client()
    assert sign_in_as(pedro, 0)["curp"] == PEOPLE[0].curp
    assert sign_in_as(lucia, 1)["curp"] == PEOPLE[1].curp
    mine = pedro.post("/api/service-requests", json=SERVICE).json()["request"]["request_id"]
    hers = lucia.post("/api/service-requests", json=SERVICE | {"given_names": "Lucia"}).json()["request"]["request_id"]
    portal.deliver("on_data_access_logged", _access(PEOPLE[0].curp, "0b6f5b7e-3d3a-4f7e-8d71-4f0c2a7d9e10"), "a", "t")
    portal.deliver("on_data_access_logged", _access(PEOPLE[1].curp, "0b6f5b7e-3d3a-4f7e-8d71-4f0c2a7d9e11"), "b", "t")
    assert [r["request_id"] for r in pedro.get("/api/me/requests").json()["requests"]] == [mine]
    assert [r["request_id"] for r in lucia.get("/api/me/requests").json()["requests"]] == [hers]
    assert len(pedro.get("/api/me/access-log").json()["accesses"]) == 1
    assert PEOPLE[1].curp not in pedro.get("/api/me/access-log").text + pedro.get("/api/me/requests").text
    # and nobody asks in another's name: a CURP that is not the session's is refused
    response = pedro.post("/api/service-requests", json=SERVICE | {"curp": PEOPLE[1].curp})
    assert response.status_code == 403 and response.json()["errors"][0]["field"] == "curp"
    response = pedro.post("/api/information-requests", json=_information(PEOPLE[1].curp))
    assert response.status_code == 403
    applicants = [r.applicant.curp for r in portal.agency.take(ServiceRequestSubmitted)]
    assert applicants == [PEOPLE[0].curp, PEOPLE[1].curp]


def test_a_service_request_needs_a_signed_in_citizen(make_portal):
    portal = make_portal()
    response = portal.client.post("/api/service-requests", json=SERVICE | {"curp": PEOPLE[0].curp})
    assert response.status_code == 401 and response.json()["errors"][0]["rule"] == "signin.required"
    assert portal.agency.take() == []


def test_without_a_configured_provider_nobody_signs_in_and_nothing_personal_is_served(dev_sign_in):
    from tests.adapters.conftest import Portal

    portal = Portal(PortalConfig(), dev_sign_in.portal_url)
    assert portal.client.get("/auth/login").status_code == 404
    assert portal.client.get("/api/me").json() == {
        "signed_in": False,
        "sign_in": {"available": False, "development": False},
    }
    assert portal.client.get("/api/me/requests").status_code == 401
    assert portal.client.post("/api/service-requests", json=SERVICE).status_code == 401


# -- tracking codes ----------------------------------------------------------------------------------


def test_a_requests_status_needs_its_id_and_its_tracking_code(make_portal):
    portal = make_portal()
    client = portal.client
    first = client.post("/api/information-requests", json=_information(PEOPLE[2].curp)).json()
    second = client.post("/api/information-requests", json=_information(PEOPLE[3].curp)).json()
    request_id, code = first["request"]["request_id"], first["tracking_code"]

    def status(request_id: str, code: str) -> httpx.Response:
        return client.post("/api/requests/status", json={"request_id": request_id, "tracking_code": code})

    assert status(request_id, code).status_code == 200
    assert status(request_id, code).json()["request_id"] == request_id
    for wrong in (code[:-1] + ("A" if code[-1] != "A" else "B"), second["tracking_code"], ""):
        refused = status(request_id, wrong)
        assert refused.status_code in (404, 422) and "history" not in refused.text
    assert status("00000000-0000-0000-0000-000000000000", code).status_code == 404
    # the code is kept only as its SHA-256; it appears nowhere in the store
    db = portal.agency.reader()
    (stored,) = db.execute("SELECT tracking_hash FROM requests WHERE request_id = ?", (request_id,)).fetchone()
    assert stored == hashlib.sha256(code.encode()).hexdigest()
    dump = "\n".join(db.iterdump())
    assert code not in dump


def test_tracking_codes_are_unguessable_and_shown_once():
    from adapters.portal._desk import new_tracking_code

    codes = {new_tracking_code() for _ in range(200)}
    assert len(codes) == 200 and all(len(code) == 22 for code in codes)  # 16 random bytes, URL-safe base64


# -- CSRF, content types, hosts, bodies --------------------------------------------------------------


def test_a_text_plain_post_is_refused_with_415_and_a_cross_site_one_with_403(make_portal):
    portal = make_portal()
    client = portal.client
    body = b'{"curp": "x"}'
    for path in ("/api/information-requests", "/api/service-requests", "/api/requests/status"):
        response = client.post(path, content=body, headers={"content-type": "text/plain"})
        assert response.status_code == 415, path
        assert response.json()["errors"][0]["rule"] == "content-type.json"
    # the probe: text/plain from a foreign Origin (a form on another site)
    foreign = {"content-type": "text/plain", "origin": "https://evil.example"}
    response = client.post("/api/information-requests", content=body, headers=foreign)
    assert response.status_code == 403 and response.json()["errors"][0]["rule"] == "origin.cross-site"
    json_body = _information(PEOPLE[2].curp)
    for headers in ({"origin": "https://evil.example"}, {"origin": "null"}, {"sec-fetch-site": "cross-site"}):
        assert client.post("/api/information-requests", json=json_body, headers=headers).status_code == 403
    assert client.post("/auth/logout", headers={"sec-fetch-site": "same-site"}).status_code == 403
    assert portal.agency.take() == []
    own = {"origin": portal.base_url.rstrip("/"), "sec-fetch-site": "same-origin"}
    assert client.post("/api/information-requests", json=json_body, headers=own).status_code == 202


def test_a_foreign_host_is_refused_so_dns_rebinding_reaches_nothing(make_portal):
    portal = make_portal()
    client = portal.client
    for host in ("evil.example", "evil.example:8080", "127.0.0.1.evil.example"):
        response = client.get("/api/catalog", headers={"host": host})
        assert response.status_code == 421, host
        assert response.json()["errors"][0]["rule"] == "host.not-allowed"
        _assert_security_headers(response)
    assert client.get("/api/catalog", headers={"host": "bad host!"}).status_code == 400
    for host in ("127.0.0.1", "localhost:8000", "[::1]:80"):
        assert client.get("/api/catalog", headers={"host": host}).status_code == 200, host
    configured = make_portal(allowed_hosts=frozenset({"portal.example.gob.mx"}))
    assert configured.client.get("/api/catalog", headers={"host": "portal.example.gob.mx"}).status_code == 200


def test_a_40_mb_body_is_refused_with_413_before_it_is_read_and_never_echoed(served_portal):
    url = served_portal.url
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", httpx.URL(url).port), timeout=10) as sock:
        head = (
            "POST /api/information-requests HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {40 * 1024 * 1024}\r\n\r\n"
        )
        sock.sendall(head.encode() + b'{"question": "' + b"x" * 65536)
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer) < answer.index(b"\r\n\r\n") + 60:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413"), answer[:100]
    assert len(answer) < 2048 and b"xxxx" not in answer
    assert time.monotonic() - started < 5  # refused on its Content-Length, not after reading 40 MB


def test_a_streamed_body_without_a_length_is_cut_at_the_limit(served_portal):
    def chunks():
        yield b'{"question": "'
        for _ in range(40):  # 40 x 64 KiB = 2.5 MiB, more than the 1 MiB limit
            yield b"y" * 65536

    with httpx.Client(timeout=20) as client:
        url, headers = f"{served_portal.url}api/information-requests", {"content-type": "application/json"}
        response = client.post(url, content=chunks(), headers=headers)
    assert response.status_code == 413 and response.json()["errors"][0]["rule"] == "body.too-large"
    assert len(response.content) < 1024
    _assert_security_headers(response)


# -- rate limits -------------------------------------------------------------------------------------


def test_300_submissions_under_someone_elses_curp_are_cut_by_the_per_curp_limit(make_portal):
    portal = make_portal()
    statuses = [
        portal.client.post("/api/information-requests", json=_information(PEOPLE[5].curp)).status_code
        for _ in range(30)
    ]
    limit = 10  # PortalConfig default: 10/hour per CURP
    assert statuses[:limit] == [202] * limit and set(statuses[limit:]) == {429}
    refused = portal.client.post("/api/information-requests", json=_information(PEOPLE[5].curp))
    assert int(refused.headers["retry-after"]) > 0
    assert refused.json()["errors"][0]["message"] == "too many submissions for this CURP; try again later"


def test_one_client_is_cut_by_the_per_client_limit_whatever_the_curp(make_portal):
    portal = make_portal(per_client=Rate(20, 60.0))
    people = citizens(300)
    answers = [portal.client.post("/api/information-requests", json=_information(person.curp)) for person in people]
    statuses = [a.status_code for a in answers]
    assert statuses.count(202) == 20 and statuses[:20] == [202] * 20
    assert set(statuses[20:]) == {429}
    assert all(int(a.headers["retry-after"]) >= 1 for a in answers[20:])
    assert len(portal.agency.take()) == 20


def test_the_rate_limiter_refills_gives_back_and_forgets_the_oldest_keys():
    now = [0.0]
    limiter = RateLimiter(Rate(2, 60.0), max_keys=3, clock=lambda: now[0])
    assert [limiter.take("a"), limiter.take("a")] == [0, 0]
    assert limiter.take("a") == 30  # one event every 30 s
    now[0] = 31.0
    assert limiter.take("a") == 0
    limiter.take("a")
    limiter.give_back("a")  # a refused form is no submission
    assert limiter.take("a") == 0
    for key in ("b", "c", "d"):
        limiter.take(key)
    assert "a" not in limiter._buckets and len(limiter._buckets) == 3


# -- headers -----------------------------------------------------------------------------------------


def test_every_answer_carries_the_security_headers(make_portal):
    portal = make_portal()
    client = portal.client
    answers = [
        client.get("/"),
        client.get("/static/portal.js"),
        client.get("/api/catalog"),
        client.get("/api/me/requests"),
        client.get("/nowhere"),
        client.put("/api/catalog"),
        client.post("/api/information-requests", content=b"x", headers={"content-type": "text/plain"}),
        client.post("/api/information-requests", json={}),
        client.get("/auth/login"),
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 401, 404, 405, 415, 422, 302]
    for answer in answers:
        _assert_security_headers(answer)
    assert answers[2].headers["cache-control"] == "no-store"


# -- sign-in -----------------------------------------------------------------------------------------


def test_the_session_cookie_is_httponly_samesite_lax_signed_and_ends_on_signing_out(make_portal, sign_in_as):
    portal = make_portal()
    login = portal.client.get("/auth/login")
    cookie = login.headers["set-cookie"].lower()
    assert f"{SESSION_COOKIE}=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie  # the development portal is plain http on loopback
    sign_in_as(portal.client, 0)
    session = portal.client.cookies[SESSION_COOKIE]
    # a tampered cookie signs nobody in
    thief = portal.new_client()
    thief.cookies.set(SESSION_COOKIE, session[:-2] + ("AA" if not session.endswith("AA") else "BB"))
    assert thief.get("/api/me/requests").status_code == 401
    # signing out ends the session on the server: the same cookie, kept, no longer works
    thief.cookies.set(SESSION_COOKIE, session)
    assert thief.get("/api/me/requests").status_code == 200
    assert portal.client.post("/auth/logout").status_code == 204
    assert thief.get("/api/me/requests").status_code == 401


def test_over_https_the_session_cookie_is_secure(dev_sign_in):
    from tests.adapters.conftest import Portal

    https = OidcConfig(**{**dev_sign_in.oidc().__dict__, "redirect_url": "https://portal.example.gob.mx/auth/callback"})
    config = PortalConfig(oidc=https, allowed_hosts=frozenset({"portal.example.gob.mx"}))
    portal = Portal(config, dev_sign_in.portal_url)
    cookie = portal.client.get("/auth/login").headers["set-cookie"].lower()
    assert "secure" in cookie and "httponly" in cookie


def test_a_callback_with_a_forged_state_a_replayed_code_or_a_provider_error_is_refused(
    make_portal, dev_sign_in, sign_in_as
):
    portal = make_portal()
    client = portal.client
    assert client.get("/auth/callback?code=abc&state=forged").status_code == 400
    assert client.get("/auth/callback?error=access_denied&state=x").json()["errors"][0]["rule"] == "signin.refused"
    assert client.get("/auth/callback").status_code == 400
    # sign in, keeping the callback URL the provider sent back, then replay it
    browser = httpx.Client(timeout=10)
    try:
        login = client.get("/auth/login")
        page = browser.get(login.headers["location"], follow_redirects=True)
        action = page.text.split('action="', 1)[1].split('"', 1)[0]
        account = dev_sign_in.accounts[0]
        answer = browser.post(
            f"{dev_sign_in.provider.issuer}{action}", data={"login": account.login, "password": account.password}
        )
        while not answer.headers["location"].startswith(dev_sign_in.portal_url):
            answer = browser.get(answer.headers["location"])
        callback = answer.headers["location"][len(dev_sign_in.portal_url) - 1 :]
    finally:
        browser.close()
    assert client.get(callback).status_code == 303
    assert client.get("/api/me").json()["curp"] == account.curp
    assert client.get(callback).status_code == 400  # its state is spent
    assert portal.new_client().get(callback).status_code == 400  # another browser has no such state


def test_a_wrong_password_at_the_provider_opens_no_session(make_portal, dev_sign_in):
    portal = make_portal()
    impostor = DevAccount(dev_sign_in.accounts[0].login, "not-the-password", dev_sign_in.accounts[0].curp, "")
    with httpx.Client(timeout=10) as browser, pytest.raises(SignInFailed, match="refused the account's login"):
        sign_in(portal.client, dev_sign_in.portal_url, impostor, provider=browser)
    assert portal.client.get("/api/me/requests").status_code == 401


def test_a_provider_naming_another_issuer_is_not_trusted(dev_sign_in):
    from tests.adapters.conftest import Portal

    # the same provider reached as "localhost": its discovery document says 127.0.0.1, so it is not this issuer
    other = dev_sign_in.oidc().issuer.replace("127.0.0.1", "localhost")
    config = OidcConfig(**{**dev_sign_in.oidc().__dict__, "issuer": other})
    portal = Portal(PortalConfig(oidc=config), dev_sign_in.portal_url)
    response = portal.client.get("/auth/login")
    assert response.status_code == 503 and response.json()["errors"][0]["rule"] == "signin.unavailable"


def test_signing_in_and_submitting_log_no_personal_data(make_portal, sign_in_as, caplog):
    portal = make_portal()
    with caplog.at_level(logging.DEBUG):
        sign_in_as(portal.client, 0)
        portal.client.post("/api/service-requests", json=SERVICE)
        portal.client.get("/auth/callback?code=abc&state=forged")
    assert PEOPLE[0].curp not in caplog.text and "Pedro" not in caplog.text


# -- configuration -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "named"),
    [
        ({"ENLACE_PORTAL_OIDC_ISSUER": "https://id.example.gob.mx"}, "ENLACE_PORTAL_OIDC_CLIENT_ID"),
        (
            {
                "ENLACE_PORTAL_OIDC_ISSUER": "http://id.example.gob.mx",
                "ENLACE_PORTAL_OIDC_CLIENT_ID": "portal",
                "ENLACE_PORTAL_OIDC_CLIENT_SECRET": "s",
                "ENLACE_PORTAL_OIDC_REDIRECT_URL": "https://portal.example.gob.mx/auth/callback",
            },
            "ENLACE_PORTAL_OIDC_ISSUER",
        ),
        ({"ENLACE_PORTAL_SUBMISSIONS_PER_CLIENT": "lots"}, "ENLACE_PORTAL_SUBMISSIONS_PER_CLIENT"),
        ({"ENLACE_PORTAL_SUBMISSIONS_PER_CURP": "0/hour"}, "ENLACE_PORTAL_SUBMISSIONS_PER_CURP"),
        ({"ENLACE_PORTAL_ALLOWED_HOSTS": "portal.example, bad host"}, "ENLACE_PORTAL_ALLOWED_HOSTS"),
    ],
)
def test_a_bad_portal_setting_is_an_error_naming_it(environment, named):
    with pytest.raises(ConfigError, match=named):
        PortalConfig.from_settings(load_settings(environment))


def test_the_portal_settings_are_read_from_enlace_variables():
    config = PortalConfig.from_settings(
        load_settings(
            {
                "ENLACE_PORTAL_OIDC_ISSUER": "https://id.example.gob.mx/",
                "ENLACE_PORTAL_OIDC_CLIENT_ID": "portal",
                "ENLACE_PORTAL_OIDC_CLIENT_SECRET": "s3cret",
                "ENLACE_PORTAL_OIDC_REDIRECT_URL": "https://portal.example.gob.mx/auth/callback",
                "ENLACE_PORTAL_OIDC_CURP_CLAIM": "mx_curp",
                "ENLACE_PORTAL_SUBMISSIONS_PER_CLIENT": "5/second",
            }
        )
    )
    assert config.oidc is not None and config.oidc.issuer == "https://id.example.gob.mx"
    assert config.oidc.curp_claim == "mx_curp" and config.oidc.secure_cookies and not config.oidc.development
    assert "s3cret" not in repr(config)
    assert "portal.example.gob.mx" in config.allowed_hosts
    assert config.per_client == Rate(5, 1.0) and config.per_curp == Rate(10, 3600.0)
    assert config.max_body_bytes == 1024 * 1024
