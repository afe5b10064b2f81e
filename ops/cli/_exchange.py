"""``enlace publish`` and ``enlace consume``: the agency connector from a terminal."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer

from bus import ValidationError, load_settings
from bus.records import catalog, from_json
from bus.transport import agency_group, principal_for
from connectors import AgencyConnector, Received
from ops.cli._bus import local_cluster
from ops.cli._json_input import UnusableFile, exit_unusable, read_records

exchange_app = typer.Typer()


def _settings(agency: str):
    """The settings with the Kafka identity ``agency`` uses: the settings' own, or its principal's on the
    local cluster (so a terminal can do no more than the agency may)."""
    settings = load_settings()
    if settings.bootstrap_servers or settings.kafka_config:
        return settings
    return settings.model_copy(update=local_cluster().client_config(principal_for(agency)).settings())


def _problems(error: ValidationError) -> list[str]:
    return [f"{p.path or '/'}: [{p.rule}] {p.message} (value: {_shown(p.value)})" for p in (error.problems or [error])]


def _shown(value: Any) -> str:
    """A value as the problem list shows it, printable whatever it holds (a lone surrogate...)."""
    text = repr(value)
    return (text if len(text) <= 80 else text[:77] + "...").encode("utf-8", "backslashreplace").decode("utf-8")


@exchange_app.command("publish")
def publish(
    record_name: Annotated[str, typer.Argument(help="The record, e.g. CaseOpened or mx.gob.crm.CaseOpened.")],
    file: Annotated[Path, typer.Argument(help="One JSON record, or JSON lines (one record per line).")],
    agency: Annotated[str, typer.Option("--agency", help="The publishing agency's URN.")],
    key_file: Annotated[Path, typer.Option("--key-file", help="The agency's private key.")],
) -> None:
    """Publish one record or JSON lines; print topic, partition, offset and ce_id of each.

    Every record is checked first: if any is invalid, each problem is printed and nothing is sent.
    """
    record_type = catalog().get(record_name)
    model = record_type.model
    if model is None or record_type.topic is None:
        raise typer.BadParameter(f"{record_type.full_name} is a shared type, not a record with a topic")
    try:
        records = read_records(file)
    except UnusableFile as exc:
        raise exit_unusable(exc) from None
    models, failed = [], False
    for line, data in records:
        try:
            models.append(model.from_avro(from_json(record_type, data)))
        except ValidationError as exc:
            failed = True
            for problem in _problems(exc):
                typer.echo(f"{file}:{line}: {problem}", err=True)
    if failed:
        typer.echo("nothing was published", err=True)
        raise typer.Exit(1)
    with AgencyConnector(agency, key=key_file, settings=_settings(agency)) as connector:
        futures = [connector.publish_async(model) for model in models]
        for future in futures:
            d = future.result(timeout=60)
            typer.echo(f"{d.topic}\t{d.partition}\t{d.offset}\t{d.ce_id}")


def _printable(record: Any) -> Any:
    if hasattr(record, "model_dump"):
        return record.model_dump(mode="json", by_alias=True)  # the .avsc field names, as publish reads them
    return record


@exchange_app.command("consume")
def consume(
    topic: Annotated[str, typer.Argument(help="The topic (or a record name) to read.")],
    agency: Annotated[str, typer.Option("--agency", help="The receiving agency's URN.")],
    group: Annotated[str | None, typer.Option("--group", help="Consumer group (default: a new one).")] = None,
    from_beginning: Annotated[bool, typer.Option("--from-beginning", help="Read from the start.")] = False,
    max_records: Annotated[int | None, typer.Option("--max", min=1, help="Stop after N records.")] = None,
) -> None:
    """Print each verified record as one JSON line with its sender, ce_id and subject.

    Records that fail verification go to <topic>.dlq instead of being printed. Ctrl-C stops after the
    record in hand.
    """
    group = group or agency_group(agency, f"consume-{uuid.uuid4().hex[:8]}")
    reset = "earliest" if from_beginning else "latest"

    def show(record: Any, received: Received) -> None:
        line = {
            "sender": received.sender,
            "ce_id": received.ce_id,
            "subject": received.subject,
            "type": received.ce_type,
            "topic": received.topic,
            "partition": received.partition,
            "offset": received.offset,
            "record": _printable(record),
        }
        typer.echo(json.dumps(line, ensure_ascii=False, default=str))

    with AgencyConnector(agency, settings=_settings(agency), consumer_config={"auto_offset_reset": reset}) as connector:
        connector.subscribe(topic, group=group, handler=show)
        connector.run(max_records=max_records)
