"""The development sign-in: a real OpenID provider (node's OpenID-certified ``oidc-provider``) on loopback.

``enlace up`` and the tests run it for the portal instead of the national digital identity, with one
account per demo citizen (login: the CURP; a random password per run, kept in 0600 files). It is
clearly labelled as development on its login page and is never meant for real people. ``sign_in``
drives its pages as a browser would, for ``enlace demo`` and the tests.
"""

from ops.signin._client import SignInFailed, sign_in
from ops.signin._provider import DevAccount, DevSignIn, dev_accounts, install_provider, read_accounts, write_accounts

__all__ = [
    "DevAccount",
    "DevSignIn",
    "SignInFailed",
    "dev_accounts",
    "install_provider",
    "read_accounts",
    "sign_in",
    "write_accounts",
]
