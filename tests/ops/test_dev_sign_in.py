"""The development sign-in: node's oidc-provider on loopback, its accounts, its login page's refusals."""

from __future__ import annotations

import stat

import httpx
import pytest

from bus import TransportError
from ops.signin import DevAccount, DevSignIn, dev_accounts, install_provider, read_accounts, write_accounts

ACCOUNT = DevAccount("MASP031203HOCRNDB4", "correct-horse", "MASP031203HOCRNDB4", "Pedro Martinez Sanchez")


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    running = DevSignIn(
        workdir=tmp_path_factory.mktemp("dev-sign-in"),
        accounts=[ACCOUNT],
        redirect_urls=["http://127.0.0.1:9/auth/callback"],
    )
    running.start()
    try:
        yield running
    finally:
        running.stop()
        assert running.process is not None and not running.process.alive()


def test_accounts_get_random_passwords_and_are_written_0600(tmp_path):
    accounts = dev_accounts([("MASP031203HOCRNDB4", "Pedro"), ("SAGL570330MJCNRC25", "Lucia")])
    assert len({a.password for a in accounts}) == 2 and all(len(a.password) >= 22 for a in accounts)
    assert "password" not in repr(accounts[0]) and accounts[0].password not in repr(accounts[0])
    path = write_accounts(tmp_path / "sign-in" / "accounts.json", accounts)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_accounts(path) == accounts
    path.write_text("{not json")
    with pytest.raises(TransportError, match="not the development sign-in's accounts file"):
        read_accounts(path)


def test_the_provider_is_installed_once_and_keyed_by_its_files():
    first, second = install_provider(), install_provider()
    assert first == second and (first / "node_modules" / "oidc-provider" / "package.json").exists()


def test_it_publishes_an_openid_discovery_document_for_its_issuer(provider):
    document = httpx.get(f"{provider.issuer}/.well-known/openid-configuration", timeout=5).json()
    assert document["issuer"] == provider.issuer
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert "curp" in document["claims_supported"] and "curp" in document["scopes_supported"]
    keys = httpx.get(document["jwks_uri"], timeout=5).json()["keys"]
    assert [k["alg"] for k in keys] == ["RS256"] and all("d" not in k for k in keys)  # public halves only
    assert (provider.workdir / "provider.json").stat().st_mode & 0o077 == 0


def _login_page(provider: DevSignIn, browser: httpx.Client) -> httpx.Response:
    authorize = browser.get(
        f"{provider.issuer}/auth",
        params={
            "client_id": provider.client_id,
            "response_type": "code",
            "scope": "openid curp",
            "redirect_uri": provider.redirect_urls[0],
            "state": "s" * 16,
            "nonce": "n" * 16,
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
        },
        follow_redirects=True,
    )
    assert authorize.status_code == 200 and 'id="development-banner"' in authorize.text
    return authorize


def test_its_login_page_is_labelled_development_and_refuses_wrong_passwords(provider):
    with httpx.Client(timeout=10) as browser:
        page = _login_page(provider, browser)
        action = page.text.split('action="', 1)[1].split('"', 1)[0]
        assert "Development sign-in" in page.text
        for login, password in ((ACCOUNT.login, "wrong"), ("NOBODY", ACCOUNT.password), ("", "")):
            refused = browser.post(f"{provider.issuer}{action}", data={"login": login, "password": password})
            assert refused.status_code == 401 and "Wrong login or password" in refused.text
        too_big = browser.post(f"{provider.issuer}{action}", content=b"login=" + b"x" * 10_000)
        assert too_big.status_code == 401  # an oversize form is no login (and no crash)
        accepted = browser.post(
            f"{provider.issuer}{action}", data={"login": ACCOUNT.login, "password": ACCOUNT.password}
        )
        assert accepted.status_code in (302, 303)


def test_an_unknown_interaction_is_a_plain_refusal(provider):
    answer = httpx.get(f"{provider.issuer}/interaction/unknown-uid", timeout=5)
    assert answer.status_code == 400 and "start again" in answer.text
