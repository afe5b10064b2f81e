"""``enlace dlq list|replay <topic>``: dead letters with their reasons, and sending them back."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from connectors import list_dead_letters, replay_dead_letters, replay_position
from ops.cli._bus import client_config

dlq_app = typer.Typer(help="Dead letters: list them with their reasons, replay them after a fix.", no_args_is_help=True)


@dlq_app.command("list")
def list_(
    topic: Annotated[str, typer.Argument(help="The original topic (or its .dlq).")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Show every dead letter of TOPIC: where it came from, why, and whether it was replayed."""
    kafka = client_config()
    letters = list_dead_letters(kafka, topic)
    replayed_up_to = replay_position(kafka, topic)
    for letter in letters:
        replayed = letter.dlq_offset < replayed_up_to.get(letter.dlq_partition, 0)
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "dlq_offset": letter.dlq_offset,
                        "topic": letter.topic,
                        "partition": letter.partition,
                        "offset": letter.offset,
                        "ce_id": letter.ce_id,
                        "reason": letter.reason,
                        "error_class": letter.error_class,
                        "error_message": letter.error_message,
                        "group": letter.group,
                        "agency": letter.agency,
                        "time": letter.at,
                        "attempts": letter.attempts,
                        "replayed": replayed,
                    },
                    ensure_ascii=False,
                )
            )
        else:
            mark = " (replayed)" if replayed else ""
            typer.echo(
                f"#{letter.dlq_offset} {letter.topic}[{letter.partition}]@{letter.offset} "
                f"ce_id={letter.ce_id or '-'} reason={letter.reason}{mark}: "
                f"{letter.error_class}: {letter.error_message}"
            )
    typer.echo(f"{len(letters)} dead letter(s) in {topic.removesuffix('.dlq')}.dlq", err=True)


@dlq_app.command("replay")
def replay(
    topic: Annotated[str, typer.Argument(help="The original topic (or its .dlq).")],
    offset: Annotated[list[int] | None, typer.Option("--offset", help="Replay only these .dlq offsets.")] = None,
) -> None:
    """Send dead letters not yet replayed back to their original topic, unchanged (still signed)."""
    letters = replay_dead_letters(client_config(), topic, only_offsets=set(offset) if offset else None)
    for letter in letters:
        typer.echo(
            f"replayed #{letter.dlq_offset} to {letter.topic} (ce_id={letter.ce_id or '-'}, was {letter.reason})"
        )
    typer.echo(f"{len(letters)} dead letter(s) replayed")
