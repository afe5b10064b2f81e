"""``enlace up`` / ``enlace down``: the whole bus on one machine, started in order, stopped cleanly.

Order: Kafka (the configured one, or the local background cluster, secured: TLS, SASL/SCRAM-SHA-512,
deny-by-default ACLs), the topics and ACLs the policy grants (``enlace acl sync``), Zipkin, the schema
registry, the schemas, the agencies' keys, then every agency ``adapters.agencies()`` finds, in start
order and with its own options (fiscal services' register export of the demo's citizens); just
before the portal, the development sign-in it signs citizens in with (one account per demo
citizen). Each process signs in to Kafka as itself: the registry as ``enlace-registry``, each agency
as its own principal, the set-up steps as the operator, each with a Kafka client properties file
(0600) under ``kafka/`` in the state folder. A component that
does not come up stops everything started before it and names itself with the tail of its log. The
state file (``$XDG_STATE_HOME/enlace/stack/stack.json``) lets ``enlace down`` and ``enlace status``
find every process again; ``down`` stops only what ``up`` started.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters import Agency, agencies
from bus import ConfigError, EnlaceSettings, TransportError, load_settings
from bus._files import open_private_log, private_dir, write_private
from bus.encryption import generate_encryption_key
from bus.identity import AUTHORITY
from bus.records import catalog, default_schemas_dir
from bus.transport import AclAdmin, AuthorizerMissing, KafkaClientConfig, Topics, principal_for
from ops.acl import Access
from ops.kafka import OPERATOR_PRINCIPAL, REGISTRY_PRINCIPAL, BackgroundCluster, wait_for_brokers
from ops.process import ManagedProcess, StartError, free_port
from ops.signin import DevAccount, DevSignIn, dev_accounts, read_accounts, write_accounts
from ops.stack._population import citizens
from ops.zipkin import ZipkinServer

__all__ = ["DEMO_CITIZENS", "Stack", "stack_dir"]

DEMO_CITIZENS = 40
# Agencies that join only through the HTTP bridge (no process of their own; see schemas/policy.yaml).
BRIDGE_AGENCIES = ("urn:mx:gob:archivo",)


def _owners() -> list[str]:
    """Every namespace owner with records in the catalog, for registry tokens (mx.gob.common's
    shared types belong to the coordination body, which is no agency process)."""
    return sorted({t.owner for t in catalog().records() if t.owner})


def stack_dir() -> Path:
    """The XDG state folder of the running stack: its state file, logs, keys and agency data."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "enlace" / "stack"


def _cli(*args: str) -> list[str]:
    """Run the ``enlace`` CLI of this very installation (no reliance on PATH)."""
    return [sys.executable, "-c", "from ops.cli import main; main()", *args]


@dataclass
class Stack:
    """What ``enlace up`` started, as written to the state file."""

    root: Path = field(default_factory=stack_dir)
    bootstrap_servers: str = ""
    kafka_started: bool = False
    kafka_clients: dict[str, str] = field(default_factory=dict)  # principal -> its properties file
    urls: dict[str, str] = field(default_factory=dict)
    processes: list[ManagedProcess] = field(default_factory=list)

    @property
    def state_file(self) -> Path:
        return self.root / "stack.json"

    @property
    def accounts_file(self) -> Path:
        """The development sign-in's accounts and their passwords (0600), for ``enlace demo``."""
        return self.root / "sign-in" / "accounts.json"

    def dev_accounts(self) -> list[DevAccount]:
        """The development sign-in's accounts (one per demo citizen)."""
        return read_accounts(self.accounts_file)

    # -- state ------------------------------------------------------------------------------------

    def save(self) -> None:
        state = {
            "bootstrap_servers": self.bootstrap_servers,
            "kafka_started": self.kafka_started,
            "kafka_clients": self.kafka_clients,
            "urls": self.urls,
            "processes": [p.to_state() for p in self.processes],
        }
        # 0600: the portal's environment in it holds its sign-in client secret.
        write_private(self.state_file, json.dumps(state, indent=2))

    @classmethod
    def load(cls, root: Path | None = None) -> Stack | None:
        """The stack ``enlace up`` left running, or None."""
        root = root or stack_dir()
        path = root / "stack.json"
        if not path.exists():
            return None
        state = json.loads(path.read_text())
        return cls(
            root=root,
            bootstrap_servers=state["bootstrap_servers"],
            kafka_started=state["kafka_started"],
            kafka_clients=state.get("kafka_clients", {}),
            urls=state["urls"],
            processes=[ManagedProcess.from_state(p) for p in state["processes"]],
        )

    def client_config(self, principal: str = OPERATOR_PRINCIPAL) -> KafkaClientConfig:
        """How ``principal`` (the operator, by default) reaches this stack's cluster: its properties file.

        Raises:
            ConfigError: the stack has no configuration for that principal.
        """
        path = self.kafka_clients.get(principal)
        if path is None:
            raise ConfigError(f"the running bus has no Kafka client configuration for {principal}")
        return KafkaClientConfig.from_settings(load_settings({}).model_copy(update={"kafka_config": path}))

    def process(self, name: str) -> ManagedProcess | None:
        return next((p for p in self.processes if p.name == name), None)

    # -- up ---------------------------------------------------------------------------------------

    def up(
        self,
        settings: EnlaceSettings,
        *,
        say: Callable[[str], None],
        demo_citizens: int = DEMO_CITIZENS,
        zipkin_url: str | None = None,
    ) -> None:
        """Start everything; on any failure stop what was started and raise.

        Args:
            settings: Enlace settings (``bootstrap_servers`` set means use that Kafka).
            say: where progress lines go.
            demo_citizens: how many demo citizens fiscal services' register holds.
            zipkin_url: a Zipkin already running (tests share one); None starts one.

        Raises:
            StartError: a component did not start (named, with the tail of its log).
            TransportError: Kafka, Java or Maven unavailable.
        """
        shutil.rmtree(self.root, ignore_errors=True)
        private_dir(self.root)
        try:
            self._kafka(settings, say)
            self._access(settings, say)
            self._zipkin(say, zipkin_url)
            self._registry(say)
            self._schemas(say)
            keys = self._keys(say)
            self._agencies(keys, say, demo_citizens)
            self._bridge(say)
        except BaseException:
            say("start-up failed: stopping what was started")
            self.down(say=lambda _: None)
            raise
        self.save()

    def _kafka(self, settings: EnlaceSettings, say: Callable[[str], None]) -> None:
        principals = [OPERATOR_PRINCIPAL, REGISTRY_PRINCIPAL, *(principal_for(a.urn) for a in agencies())]
        principals += [principal_for(urn) for urn in BRIDGE_AGENCIES]
        if settings.bootstrap_servers or settings.kafka_config:
            config = KafkaClientConfig.from_settings(settings)
            say(f"kafka: using {config.bootstrap_servers} ({config.source})")
            say(
                "kafka: a cluster Enlace does not run gives it one identity: every agency signs in with the "
                "settings' credentials (run each agency with its own ENLACE_KAFKA_CONFIG on a shared cluster)"
            )
            wait_for_brokers(config, 1, timeout=settings.kafka_start_timeout_s)
            self._write_clients(config.bootstrap_servers, principals, lambda _principal: config)
            return
        background = BackgroundCluster()
        cluster = background.running()
        if cluster is not None:
            say(f"kafka: using the local cluster already running at {cluster.bootstrap_servers}")
        else:
            how = "INSECURE" if settings.kafka_insecure else "secured: TLS, SASL/SCRAM-SHA-512, ACLs"
            say(f"kafka: starting a local Apache Kafka node ({how})")
            cluster = background.up(settings, nodes=1)
            self.kafka_started = True
        self._write_clients(cluster.bootstrap_servers, principals, cluster.client_config)

    def _write_clients(
        self, bootstrap: str, principals: list[str], config_of: Callable[[str], KafkaClientConfig]
    ) -> None:
        """Each principal's Kafka client properties file (0600, under ``kafka/``), and the state."""
        folder = private_dir(self.root / "kafka")
        self.bootstrap_servers = bootstrap
        for principal in principals:
            path = config_of(principal).write_properties(folder / f"{principal}.properties")
            self.kafka_clients[principal] = str(path)
        self.save()

    def _access(self, settings: EnlaceSettings, say: Callable[[str], None]) -> None:
        """Create the catalog's topics and make the cluster's ACLs what the policy grants."""
        access = Access.of(catalog(), settings)
        operator = self.client_config()
        with Topics(operator) as topics:
            acls = AclAdmin(operator)
            try:
                plan, created = access.sync(acls, topics)
            except AuthorizerMissing:
                created = access.create_topics(topics)
                say(f"topics: {len(created)} created; ACLs: none, the cluster has no authorizer (insecure)")
                return
            finally:
                acls.close()
        say(
            f"topics: {len(created)} created; ACLs: {len(plan.add)} added, {len(plan.remove)} removed (enlace acl sync)"
        )

    def _zipkin(self, say: Callable[[str], None], existing: str | None) -> None:
        if existing:
            self.urls["dashboard"], self.urls["zipkin"] = f"{existing}/zipkin/", existing
            return
        say("dashboard: starting Zipkin")
        server = ZipkinServer(workdir=self.root / "zipkin", tied_to_parent=False)
        server.start(progress=True)
        assert server.process is not None
        self.processes.append(server.process)
        self.urls["dashboard"] = f"{server.url}/zipkin/"
        self.urls["zipkin"] = server.url
        self.save()

    def _env(self, principal: str = OPERATOR_PRINCIPAL) -> dict[str, str]:
        env = {"ENLACE_KAFKA_CONFIG": self.kafka_clients[principal]}
        authority = self.root / "keys" / "interop" / "interop.key"
        if authority.exists():  # every agency pins the authority; only the stack's own steps sign with it
            env["ENLACE_TRUST_ANCHOR"] = str(authority.with_suffix(".pub"))
            env["ENLACE_AUTHORITY_KEY"] = str(authority)
        if "registry" in self.urls:
            env["ENLACE_REGISTRY_URL"] = self.urls["registry"]
        return env

    def _registry(self, say: Callable[[str], None]) -> None:
        say("registry: starting the schema registry")
        credentials, tokens = self.root / "registry-credentials", self.root / "registry-tokens.yaml"
        lines = []
        for owner in _owners():
            token = self._run(
                "registry token", _cli("registry", "token", "--agency", owner, "--file", str(credentials))
            )
            lines.append(f"{owner}: {token.strip().splitlines()[-1]}")
        write_private(tokens, "\n".join(lines) + "\n")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        policy = default_schemas_dir() / "policy.yaml"
        process = ManagedProcess(
            name="registry",
            argv=_cli("registry", "serve", "--port", str(port), "--policy", str(policy)),
            log=self.root / "logs" / "registry.log",
            health_url=f"{url}/subjects",
            env=self._env(REGISTRY_PRINCIPAL) | {"ENLACE_REGISTRY_CREDENTIALS": str(credentials)},
            tied_to_parent=False,
        )
        process.start(timeout=60, progress=True)
        self.processes.append(process)
        self.urls["registry"] = url
        self.save()

    def _schemas(self, say: Callable[[str], None]) -> None:
        out = self._run(
            "schemas register",
            _cli("schemas", "register", str(default_schemas_dir()), "--registry", self.urls["registry"]),
            env={"ENLACE_REGISTRY_TOKENS": str(self.root / "registry-tokens.yaml")},
        )
        say(f"registry: {len(out.strip().splitlines())} schema versions registered")

    def _keys(self, say: Callable[[str], None]) -> dict[str, Path]:
        self._run("authority key", _cli("agency", "keygen", AUTHORITY, "--out", str(self.root / "keys" / "interop")))
        keys: dict[str, Path] = {}
        for each in agencies():
            name, urn = each.name, each.urn
            out = self._run(f"{name} key", _cli("agency", "keygen", urn, "--out", str(self.root / "keys" / name)))
            keys[name] = Path(out.strip().splitlines()[-1])
            # Its keyring (ENLACE_ENCRYPTION_KEYS): the encryption key published beside the signing key.
            encryption = generate_encryption_key(urn).save(self._keyring(name))
            self._run(
                f"{name} key",
                _cli(
                    "agency",
                    "publish-key",
                    "--agency",
                    urn,
                    "--key-file",
                    str(keys[name]),
                    "--encryption-key",
                    str(encryption.with_suffix(".xpub")),
                ),
            )
        say(f"keys: {len(keys)} agency signing and encryption keys made and published")
        return keys

    def _keyring(self, name: str) -> Path:
        return self.root / "keys" / name / "encryption"

    def _agencies(self, keys: dict[str, Path], say: Callable[[str], None], demo_citizens: int) -> None:
        private_dir(self.root / "data")
        tracing = {
            "OTEL_TRACES_EXPORTER": "zipkin_json",
            "OTEL_EXPORTER_ZIPKIN_ENDPOINT": f"{self.urls['zipkin']}/api/v2/spans",
            "OTEL_METRICS_EXPORTER": "none",
            # Spans reach the dashboard within a second instead of the SDK's default five.
            "OTEL_BSP_SCHEDULE_DELAY": "500",
        }
        for each in agencies():
            name = each.name
            port = free_port()
            argv = [
                sys.executable,
                "-m",
                each.module,
                "--key-file",
                str(keys[name]),
                "--data-dir",
                str(self.root / "data"),
                "--port",
                str(port),
                *self._demo_options(each, demo_citizens),
            ]
            env = self._env(principal_for(each.urn)) | tracing | {"ENLACE_ENCRYPTION_KEYS": str(self._keyring(name))}
            if name == "portal":
                env |= self._sign_in(port, say, demo_citizens)
            say(f"{name}: starting {each.urn}")
            process = ManagedProcess(
                name=name,
                argv=argv,
                log=self.root / "logs" / f"{name}.log",
                health_url=f"http://127.0.0.1:{port}/health",
                env=env,
                tied_to_parent=False,
            )
            process.start(timeout=60, progress=True)
            self.processes.append(process)
            self.urls[name] = f"http://127.0.0.1:{port}"
            self.save()
        self.urls["portal"] = self.urls["portal"] + "/"

    @property
    def bridge_dir(self) -> Path:
        """The bridge's folder: its configuration, TLS folder (``tls/``) and agencies' certificates (``clients/``)."""
        return self.root / "bridge"

    def _bridge(self, say: Callable[[str], None]) -> None:
        """Start the HTTP bridge for the agencies that join only through it: each gets a signing key
        (published), its own Kafka principal's properties and a client certificate naming its URN."""
        import httpx

        folder = private_dir(self.bridge_dir)
        tls = folder / "tls"
        self._run("bridge certificates", _cli("bridge", "certificates", str(tls)))
        served: dict[str, dict[str, str]] = {}
        for urn in BRIDGE_AGENCIES:
            name = urn.rsplit(":", 1)[-1]
            out = self._run(f"{name} key", _cli("agency", "keygen", urn, "--out", str(self.root / "keys" / name)))
            key = out.strip().splitlines()[-1]
            self._run(f"{name} key", _cli("agency", "publish-key", "--agency", urn, "--key-file", key))
            self._run(
                f"{name} certificate",
                _cli("bridge", "issue", urn, "--tls-dir", str(tls), "--out", str(folder / "clients")),
            )
            served[urn] = {"key_file": key, "kafka_config": self.kafka_clients[principal_for(urn)]}
        port = free_port()
        config = {
            "host": "127.0.0.1",
            "port": port,
            "tls_dir": str(tls),
            "store": str(folder / "bridge.sqlite3"),
            "callback_key": str(folder / "callbacks.key"),
            "agencies": served,
        }
        write_private(folder / "bridge.json", json.dumps(config, indent=2))
        say(f"bridge: starting the HTTP bridge for {', '.join(BRIDGE_AGENCIES)}")
        process = ManagedProcess(
            name="bridge",
            argv=_cli("bridge", "serve", str(folder / "bridge.json")),
            log=self.root / "logs" / "bridge.log",
            env=self._env(principal_for(BRIDGE_AGENCIES[0])),
            tied_to_parent=False,
        )
        process.start(timeout=60, progress=True)
        self.processes.append(process)
        url = f"https://127.0.0.1:{port}"
        name = BRIDGE_AGENCIES[0].rsplit(":", 1)[-1]
        context = bridge_client_context(self.bridge_dir, BRIDGE_AGENCIES[0])
        ready = threading.Event()
        deadline = time.monotonic() + 60
        while not ready.is_set():  # no plain-HTTP health URL: the bridge answers only mutual TLS
            try:
                with httpx.Client(verify=context, timeout=5) as client:
                    if client.get(f"{url}/openapi.json").status_code == 200:
                        break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or not process.alive():
                raise StartError(name, "the bridge did not answer", log=process.log, tail=process.log_tail())
            ready.wait(0.3)
        self.urls["bridge"] = url
        self.save()

    def _sign_in(self, portal_port: int, say: Callable[[str], None], demo_citizens: int) -> dict[str, str]:
        """Start the development sign-in for the portal on ``portal_port``; returns the portal's settings."""
        say("sign-in: starting the development OpenID provider (oidc-provider; demo citizens only)")
        accounts = dev_accounts((c.curp, c.full_name) for c in citizens(demo_citizens))
        write_accounts(self.accounts_file, accounts)
        provider = DevSignIn(
            workdir=self.root / "sign-in",
            accounts=accounts,
            redirect_urls=[f"http://127.0.0.1:{portal_port}/auth/callback"],
            tied_to_parent=False,
        )
        provider.start(timeout=60, progress=True)
        assert provider.process is not None
        self.processes.append(provider.process)
        self.urls["sign-in"] = provider.issuer
        self.save()
        return provider.portal_settings()

    def _demo_options(self, agency: Agency, demo_citizens: int) -> list[str]:
        """The agency's own options with the demo inputs they name, each written to a data file."""
        argv: list[str] = []
        for option in agency.options:
            if option.demo_input is None:
                continue
            path = self.root / "data" / f"{agency.name}-{option.dest}.txt"
            write_private(path, option.demo_input(citizens(demo_citizens)))  # citizens' CURPs and RFCs
            argv += [option.flag, str(path)]
        return argv

    def _run(self, what: str, argv: list[str], *, env: dict[str, str] | None = None) -> str:
        log = self.root / "logs" / "setup.log"
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
            env={**os.environ, **self._env(), **(env or {})},
        )
        with open_private_log(log, text=True) as out:
            # Token lines are secrets: the log keeps only that the command ran and its errors.
            out.write(f"$ enlace {' '.join(argv[3:])}\n(exit {done.returncode})\n{done.stderr}\n")
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
            raise StartError(what, f"`enlace {' '.join(argv[3:5])}` failed", log=log, tail=tail)
        return done.stdout

    # -- down -------------------------------------------------------------------------------------

    def down(self, *, say: Callable[[str], None]) -> None:
        """Stop every process this stack started (newest first) and the Kafka it started, if any."""
        for process in reversed(self.processes):
            if process.alive():
                say(f"{process.name}: stopping")
            process.stop(timeout=20)
        self.processes.clear()
        if self.kafka_started:
            say("kafka: stopping the local node")
            BackgroundCluster().down()
            self.kafka_started = False
        self.state_file.unlink(missing_ok=True)
        shutil.rmtree(self.root / "kafka", ignore_errors=True)  # credentials outlive nothing they served

    # -- health -----------------------------------------------------------------------------------

    def health(self) -> dict[str, dict[str, Any]]:
        """Each process's health: alive, and its health endpoint's answer."""
        from ops.process import http_ok

        report: dict[str, dict[str, Any]] = {}
        for process in self.processes:
            body: Any = None
            if process.alive() and process.health_url and process.name in {a.name for a in agencies()}:
                body = _json(process.health_url)
            healthy = process.alive() and (process.health_url is None or http_ok(process.health_url, timeout=5))
            report[process.name] = {"pid": process.pid, "alive": process.alive(), "healthy": healthy, "detail": body}
        return report


def bridge_client_context(bridge_dir: Path, agency: str) -> Any:
    """The TLS context of an agency's bridge client: the bridge's CA, the agency's certificate."""
    import ssl

    name = agency.rsplit(":", 1)[-1]
    context = ssl.create_default_context(cafile=str(bridge_dir / "tls" / "ca.pem"))
    context.load_cert_chain(str(bridge_dir / "clients" / f"{name}.pem"), str(bridge_dir / "clients" / f"{name}.key"))
    return context


def _json(url: str) -> Any:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return json.loads(response.read())
    except Exception as exc:  # shown in the status table as it is
        return {"error": str(exc)}


def require_stack() -> Stack:
    """The running stack, or a clear error saying how to start it."""
    stack = Stack.load()
    if stack is None:
        raise TransportError("the bus is not running here: start it with `enlace up`")
    return stack
