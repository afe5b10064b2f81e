"""The development OpenID provider: node's ``oidc-provider`` from npm, installed once, run on loopback."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from bus import TransportError
from bus._files import private_dir, write_private
from ops.process import ManagedProcess, free_port

__all__ = ["DevAccount", "DevSignIn", "dev_accounts", "install_provider", "read_accounts", "write_accounts"]

_FILES = ("package.json", "package-lock.json", "provider.mjs")
_MISSING_NODE = (
    "`{tool}` was not found on PATH: the development sign-in runs node's oidc-provider; install Node.js 20+"
    " and npm (for example `apt-get install nodejs npm`)."
)


@dataclass(frozen=True)
class DevAccount:
    """One development account: what a demo citizen types on the development sign-in page.

    Attributes:
        login: the login (the citizen's CURP, as the national digital identity uses it).
        password: a random password made for this run (a secret: kept in 0600 files only).
        curp: the CURP the provider puts in the ID token.
        name: the citizen's name (the ``name`` claim).
    """

    login: str
    password: str = field(repr=False)
    curp: str
    name: str


def dev_accounts(people: Iterable[tuple[str, str]]) -> list[DevAccount]:
    """One account per ``(curp, name)``, each with a fresh 128-bit random password."""
    return [DevAccount(curp, secrets.token_urlsafe(16), curp, name) for curp, name in people]


def write_accounts(path: Path, accounts: Sequence[DevAccount]) -> Path:
    """Write the accounts (with their passwords) to a 0600 JSON file for ``enlace demo`` to read."""
    rows = [{"login": a.login, "password": a.password, "curp": a.curp, "name": a.name} for a in accounts]
    return write_private(path, json.dumps({"accounts": rows}, indent=2))


def read_accounts(path: Path) -> list[DevAccount]:
    """The accounts :func:`write_accounts` wrote.

    Raises:
        TransportError: the file is missing or not such a file.
    """
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))["accounts"]
        return [DevAccount(r["login"], r["password"], r["curp"], r["name"]) for r in rows]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TransportError(f"{path}: not the development sign-in's accounts file ({type(exc).__name__})") from exc


def _require(tool: str) -> str:
    found = shutil.which(tool)
    if not found:
        raise TransportError(_MISSING_NODE.format(tool=tool))
    return found


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "enlace" / "signin"


def install_provider() -> Path:
    """The folder holding ``provider.mjs`` and its ``node_modules``, installed with ``npm ci`` the first time.

    Keyed by the content of ``package-lock.json`` and ``provider.mjs``, under a file lock; the folder
    appears only when complete, so a half-finished install is never used.

    Raises:
        TransportError: node or npm is missing, or npm failed (with the tail of its log).
    """
    _require("node")
    texts = {name: resources.files("ops.signin").joinpath(name).read_bytes() for name in _FILES}
    digest = hashlib.sha256(b"".join(texts[name] for name in _FILES)).hexdigest()[:12]
    root = _cache_root()
    target = root / digest
    if (target / ".complete").exists():
        return target
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f".{digest}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / ".complete").exists():
            _npm_ci(texts, root, target)
    return target


def _npm_ci(texts: dict[str, bytes], root: Path, target: Path) -> None:
    npm = _require("npm")
    staging = Path(tempfile.mkdtemp(prefix="install-", dir=root))
    for name, data in texts.items():
        (staging / name).write_bytes(data)
    log = staging / "npm.log"
    with open(log, "w") as out:
        code = subprocess.run(
            [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--omit=dev"],
            cwd=staging,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            timeout=600,
        ).returncode
    if code != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        shutil.rmtree(staging, ignore_errors=True)
        raise TransportError(f"npm could not install the development sign-in's oidc-provider:\n{tail}")
    (staging / ".complete").write_text("installed\n")
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)


@dataclass
class DevSignIn:
    """A development OpenID provider on ``127.0.0.1``: one client (the portal), one account per citizen.

    Args:
        workdir: where its configuration (0600: the client secret and passwords) and log go.
        accounts: the accounts it knows.
        redirect_urls: the portal's callback URL(s) the client may be sent back to.
        client_id: the portal's client id.
        client_secret: the portal's client secret; a random one when omitted.
        curp_claim: the ID token claim that holds the CURP.
        port: its HTTP port; a free one when omitted.
        tied_to_parent: the kernel kills it with the starting process (tests); false for ``enlace up``.
    """

    workdir: Path
    accounts: Sequence[DevAccount]
    redirect_urls: Sequence[str]
    client_id: str = "enlace-portal"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    curp_claim: str = "curp"
    port: int = 0
    tied_to_parent: bool = True
    process: ManagedProcess | None = None

    @property
    def issuer(self) -> str:
        """The issuer identifier (also the base URL; discovery at ``/.well-known/openid-configuration``)."""
        return f"http://127.0.0.1:{self.port}"

    def portal_settings(self) -> dict[str, str]:
        """The ``ENLACE_PORTAL_OIDC_*`` variables that point the portal at this provider."""
        return {
            "ENLACE_PORTAL_OIDC_ISSUER": self.issuer,
            "ENLACE_PORTAL_OIDC_CLIENT_ID": self.client_id,
            "ENLACE_PORTAL_OIDC_CLIENT_SECRET": self.client_secret,
            "ENLACE_PORTAL_OIDC_REDIRECT_URL": self.redirect_urls[0],
            "ENLACE_PORTAL_OIDC_CURP_CLAIM": self.curp_claim,
        }

    def start(self, *, timeout: float = 60.0, progress: bool = False) -> DevSignIn:
        """Install the provider if needed, start it and wait until its discovery document answers.

        Raises:
            TransportError: node or npm missing, npm failed, or it did not start (``StartError``).
        """
        installed = install_provider()
        self.port = self.port or free_port()
        private_dir(self.workdir)
        config = write_private(
            self.workdir / "provider.json",
            json.dumps(
                {
                    "port": self.port,
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                    "redirect_uris": list(self.redirect_urls),
                    "curp_claim": self.curp_claim,
                    "accounts": [
                        {"login": a.login, "password": a.password, "curp": a.curp, "name": a.name}
                        for a in self.accounts
                    ],
                }
            ),
        )
        self.process = ManagedProcess(
            name="sign-in",
            argv=[_require("node"), str(installed / "provider.mjs"), str(config)],
            log=self.workdir / "sign-in.log",
            health_url=f"{self.issuer}/.well-known/openid-configuration",
            cwd=installed,
            tied_to_parent=self.tied_to_parent,
        )
        self.process.start(timeout=timeout, progress=progress)
        return self

    def stop(self) -> None:
        """Stop the provider (SIGTERM, SIGKILL after a deadline)."""
        if self.process is not None:
            self.process.stop()
