"""``enlace log verify|proof|check``: an agency's message log checked end to end, and offline proofs.

Where logs are: ``--log FILE``, or ``<data dir>/<agency name>.log.sqlite3`` where the data dir is
``--data-dir``, else the running stack's (``$XDG_STATE_HOME/enlace/stack/data``) when there is one,
else ``$XDG_DATA_HOME/enlace`` (the connector's default store folder).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from bus import ConfigError, EnlaceError, load_settings
from bus.identity import TrustAnchor, TrustStatement, TrustStore, UntrustedRecord
from bus.transport import Consumer, KafkaClientConfig, Record
from connectors import (
    ProofError,
    WitnessedCheckpoint,
    build_proof,
    check_proof,
    read_checkpoint,
    verify_log,
    witnessed_in,
)
from ops.cli._bus import client_config

log_app = typer.Typer(
    help="The message log: verify an agency's log, write a record's proof, check a proof offline.",
    no_args_is_help=True,
)

_LOG_SUFFIX = ".log.sqlite3"


def _data_dir(given: Path | None) -> Path:
    if given is not None:
        return given
    from ops.stack import stack_dir

    stack_data = stack_dir() / "data"
    if stack_data.is_dir():
        return stack_data
    import os

    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "enlace"


def _log_of(agency: str, log: Path | None, data_dir: Path | None) -> Path:
    if log is not None:
        return log
    return _data_dir(data_dir) / f"{agency.rsplit(':', 1)[-1]}{_LOG_SUFFIX}"


def read_topic(kafka: KafkaClientConfig, topic: str, *, timeout_s: float = 30.0) -> list[Record]:
    """Every record a topic holds now, read from its beginning to its end (no consumer group)."""
    consumer = Consumer(kafka, group=None, isolation_level="read_uncommitted")
    try:
        partitions = consumer.partitions_for(topic)
        if not partitions:
            return []
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        ends = consumer.end_offsets(partitions)
        records: list[Record] = []
        import time

        deadline = time.monotonic() + timeout_s
        while any(consumer.position(p) < end for p, end in ends.items()):
            if time.monotonic() > deadline:
                raise EnlaceError(f"could not read {topic} to its end within {timeout_s:.0f}s")
            records += consumer.poll(500)
        return records
    finally:
        consumer.close()


def _trust_store(kafka: KafkaClientConfig, topic: str, anchor: TrustAnchor) -> tuple[TrustStore, list[bytes]]:
    store, values = TrustStore(), []
    for record in read_topic(kafka, topic):
        if record.value is None:
            continue
        try:
            store.apply(TrustStatement.read(record.value, anchor, kafka_key=record.key))
        except UntrustedRecord:
            continue  # the trust topic reader reports these; a proof carries only what the anchor signed
        values.append(record.value)
    return store, values


def _anchor(anchor: Path | None) -> TrustAnchor:
    if anchor is not None:
        return TrustAnchor.load(str(anchor))
    pinned = load_settings().trust_anchor
    if not pinned:
        raise ConfigError(
            "the interoperability authority's pinned public key is needed: --anchor FILE.pub or ENLACE_TRUST_ANCHOR"
        )
    return TrustAnchor.load(pinned)


@log_app.command("verify")
def verify(
    agency: Annotated[str, typer.Argument(help="The agency whose log to check, e.g. urn:mx:gob:crm.")],
    log: Annotated[Path | None, typer.Option("--log", help="The log file (else found in the data folder).")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="The agencies' data folder.")] = None,
    witness: Annotated[
        list[Path] | None, typer.Option("--witness", help="Another agency's log whose witnessed checkpoints to use.")
    ] = None,
    bus: Annotated[
        bool,
        typer.Option(
            "--bus/--no-bus",
            help="Also check against the checkpoints topic, and every checkpoint's signature against the trust topic.",
        ),
    ] = False,
) -> None:
    """Check AGENCY's message log end to end: every entry's bytes, its place in the hash chain, its own
    checkpoints and those the other agencies witnessed (the other logs in the data folder, --witness).
    Names the first broken entry; exit 1 when anything is broken."""
    path = _log_of(agency, log, data_dir)
    witnesses = list(witness or [])
    if log is None or data_dir is not None:
        folder = path.parent
        witnesses += [p for p in sorted(folder.glob(f"*{_LOG_SUFFIX}")) if p != path and p not in witnesses]
    seen: list[WitnessedCheckpoint] = []
    for other in witnesses:
        seen += witnessed_in(other, agency)
    trust = None
    if bus:
        settings = load_settings()
        kafka = client_config(settings)
        trust, _ = _trust_store(kafka, settings.trust_topic, _anchor(None))
        for record in read_topic(kafka, settings.checkpoint_topic):
            if record.key == agency.encode():
                checkpoint = read_checkpoint(record.value)
                seen.append(WitnessedCheckpoint(checkpoint, "the checkpoints topic", record.topic, -1, record.offset))
    report = verify_log(path, witnessed=seen, trust=trust)
    if report.agency != agency:
        raise ConfigError(f"{path} is {report.agency}'s log, not {agency}'s")
    for problem in report.problems or []:
        typer.echo(f"{path}: {problem}", err=True)
    summary = (
        f"{agency}: {report.entries} entries ({report.pruned} bodies pruned by retention), "
        f"{report.checkpoints} own checkpoints, {report.witnessed} witnessed"
    )
    if not report.holds:
        typer.echo(f"{summary}: BROKEN, first at entry {(report.problems or [])[0].seq}")
        raise typer.Exit(1)
    typer.echo(f"{summary}: the log holds")


@log_app.command("proof")
def proof(
    ce_id: Annotated[str, typer.Argument(help="The record's CloudEvents id (ce_id).")],
    agency: Annotated[str | None, typer.Option("--agency", help="Whose log (else the first that has it).")] = None,
    log: Annotated[Path | None, typer.Option("--log", help="The log file.")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="The agencies' data folder.")] = None,
    seq: Annotated[int | None, typer.Option("--seq", help="Prove this entry (its number) instead.")] = None,
) -> None:
    """Write the evidence bundle of one logged record to standard output (JSON): the record, its
    signature, the signer's trust statement, the chain path to a signed, published checkpoint."""
    if log is not None:
        candidates = [log]
    elif agency is not None:
        candidates = [_log_of(agency, None, data_dir)]
    else:
        candidates = sorted(_data_dir(data_dir).glob(f"*{_LOG_SUFFIX}"))
    settings = load_settings()
    kafka = client_config(settings)
    _, trust_values = _trust_store(kafka, settings.trust_topic, _anchor(None))
    last: ProofError | None = None
    for candidate in candidates:
        try:
            bundle = build_proof(str(candidate), ce_id=ce_id, seq=seq, trust_records=trust_values)
        except ProofError as exc:
            last = exc
            continue
        typer.echo(json.dumps(bundle, indent=1, ensure_ascii=True))
        return
    raise last or ProofError(f"no message log found for {ce_id}", reason="no-entry")


@log_app.command("check")
def check(
    file: Annotated[str, typer.Argument(help="The evidence bundle ('-' for standard input).")],
    anchor: Annotated[
        Path | None,
        typer.Option("--anchor", help="The interoperability authority's pinned .pub (else ENLACE_TRUST_ANCHOR)."),
    ] = None,
) -> None:
    """Verify an evidence bundle offline (no Kafka, no registry): exit 0 only when it holds."""
    pinned = _anchor(anchor)
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
        bundle = json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        typer.echo(f"does not hold: [malformed] {file}: {type(exc).__name__}: not a readable JSON bundle", err=True)
        raise typer.Exit(1) from exc
    try:
        summary = check_proof(bundle, pinned)
    except ProofError as exc:
        typer.echo(f"does not hold: {exc}", err=True)
        raise typer.Exit(1) from exc
    for line in summary.lines():
        typer.echo(line)
