"""``enlace dlq list|replay <topic>``: dead letters with their reasons, and sending them back."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from bus import ConfigError, load_settings
from bus.identity import TrustAnchor, TrustStore, TrustTopicReader
from connectors import DeadLetter, ReplayProgress, list_dead_letters, replay_dead_letters, replay_progress
from ops.cli._bus import client_config

dlq_app = typer.Typer(help="Dead letters: list them with their reasons, replay them after a fix.", no_args_is_help=True)


_NOT_REPLAYED = ReplayProgress(0, frozenset())


def _line(letter: DeadLetter, state: str) -> str:
    mark = "" if state == "pending" else f" ({state})"
    kept = f" [{letter.omitted} not kept]" if letter.omitted else ""
    return (
        f"#{letter.dlq_offset} {letter.topic or '?'}[{letter.partition}]@{letter.offset} "
        f"ce_id={letter.ce_id or '-'} reason={letter.reason}{mark}{kept}: "
        f"{letter.error_class}: {letter.error_message}"
    )


@dlq_app.command("list")
def list_(
    topic: Annotated[str, typer.Argument(help="The original topic (or its .dlq).")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Show every dead letter of TOPIC: where it came from, why, and whether a replay sent it back
    (replayed), refused it (refused: see `enlace dlq replay`) or has not reached it yet."""
    kafka = client_config()
    letters = list_dead_letters(kafka, topic)
    progress = replay_progress(kafka, topic)
    for letter in letters:
        state = progress.get(letter.dlq_partition, _NOT_REPLAYED).state_of(letter.dlq_offset)
        if not as_json:
            typer.echo(_line(letter, state))
            continue
        row = {
            "dlq_partition": letter.dlq_partition,
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
            "omitted": letter.omitted,
            "replay": state,
        }
        typer.echo(json.dumps(row, ensure_ascii=False))
    typer.echo(f"{len(letters)} dead letter(s) in {topic.removesuffix('.dlq')}.dlq", err=True)


@dlq_app.command("replay")
def replay(
    topic: Annotated[str, typer.Argument(help="The original topic (or its .dlq).")],
    offset: Annotated[list[int] | None, typer.Option("--offset", help="Replay only these .dlq offsets.")] = None,
) -> None:
    """Send dead letters not yet replayed back to their original topic, unchanged (still signed).

    Each is verified again first (ENLACE_TRUST_ANCHOR, ENLACE_TRUST_TOPIC): one that is unsigned,
    altered, signed for another topic or by a key no longer trusted is refused and listed, never sent.
    """
    settings = load_settings()
    if not settings.trust_anchor:
        raise ConfigError(
            "replay verifies every dead letter before sending it back: set ENLACE_TRUST_ANCHOR to the "
            "interoperability authority's .pub file"
        )
    kafka = client_config(settings)
    trust = TrustStore()
    reader = TrustTopicReader(
        kafka, trust, anchor=TrustAnchor.load(settings.trust_anchor), topic=settings.trust_topic
    ).start()
    try:
        done = replay_dead_letters(kafka, topic, trust=trust, only_offsets=set(offset) if offset else None)
    finally:
        reader.stop()
    for letter in done.replayed:
        typer.echo(
            f"replayed #{letter.dlq_offset} to {topic.removesuffix('.dlq')} "
            f"(ce_id={letter.ce_id or '-'}, was {letter.reason})"
        )
    for refused in done.refused:
        typer.echo(
            f"refused #{refused.letter.dlq_offset} (ce_id={refused.letter.ce_id or '-'}): "
            f"{refused.reason}: {refused.message}",
            err=True,
        )
    typer.echo(f"{len(done.replayed)} dead letter(s) replayed, {len(done.refused)} refused")
