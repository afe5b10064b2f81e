"""Batch files through the bridge: a CSV or JSON-lines file published with a report of every line.

A file is read whole, its lines mapped to records (JSON lines: one record per line, as ``enlace publish``
reads them; CSV: one record per row, the header naming the record's fields, a nested field by its JSON
pointer without the leading slash, e.g. ``citizen/curp``), and sent to the bridge in chunks of JSON
lines. Each chunk's ``Idempotency-Key`` is derived from the file's SHA-256 and the chunk's first line,
and a progress file (0600, beside the file unless told otherwise) keeps each finished chunk's report.
After a crash, running the drop again skips the finished chunks and sends the rest with the same keys:
a chunk the bridge had finished answers from its store, one it had not is published under the same
ce_ids, so nothing is published twice.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bus._files import write_private
from bus.records import RecordType

__all__ = ["LineReport", "drop_file"]

_NDJSON = "application/x-ndjson"


@dataclass(frozen=True)
class LineReport:
    """One line's outcome: ``accepted`` (with where it was stored) or ``refused`` (with why)."""

    line: int
    outcome: str
    ce_id: str | None = None
    offset: int | None = None
    reason: str = ""
    problems: tuple[dict[str, str], ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "outcome": self.outcome,
            "ce_id": self.ce_id,
            "offset": self.offset,
            "reason": self.reason,
            "problems": list(self.problems),
        }


def _field_types(record_type: RecordType) -> dict[str, Any]:
    """Each field's Avro type by pointer (``citizen/curp``), nested records flattened."""
    found: dict[str, Any] = {}

    def walk(schema: Any, prefix: str) -> None:
        for entry in schema.get("fields", []):
            pointer = prefix + entry["name"]
            kind = entry["type"]
            options = [t for t in kind if t != "null"] if isinstance(kind, list) else [kind]
            inner = options[0] if len(options) == 1 else None
            if isinstance(inner, dict) and inner.get("type") == "record":
                walk(inner, pointer + "/")
            else:
                found[pointer] = kind

    walk(record_type.parsed, "")
    return found


def _cell(text: str, kind: Any) -> Any:
    """A CSV cell as the JSON value ``from_json`` reads for this Avro type (ValueError when it cannot be)."""
    nullable = isinstance(kind, list) and "null" in kind
    options = [t for t in kind if t != "null"] if isinstance(kind, list) else [kind]
    if text == "" and nullable:
        return None
    base = options[0] if len(options) == 1 else "string"
    name = base.get("type") if isinstance(base, dict) else base
    logical = base.get("logicalType") if isinstance(base, dict) else None
    if logical is not None or name in ("string", "enum", "fixed", "bytes"):
        return text  # dates, timestamps, decimals and UUIDs are written as text, as in JSON
    if name in ("int", "long"):
        return int(text)
    if name in ("float", "double"):
        return float(text)
    if name == "boolean":
        if text.lower() not in ("true", "false"):
            raise ValueError("true or false")
        return text.lower() == "true"
    return json.loads(text)  # arrays and maps: the cell holds their JSON


def read_lines(path: Path, record_type: RecordType) -> tuple[list[tuple[int, Any]], list[LineReport]]:
    """The file's records by line number, and the lines refused before sending (unreadable, unmappable)."""
    text = path.read_bytes().decode("utf-8-sig")
    records, refused = [], []
    if path.suffix.lower() == ".csv":
        types = _field_types(record_type)
        reader = csv.DictReader(io.StringIO(text))
        unknown = [c for c in reader.fieldnames or [] if c not in types]
        if unknown:
            raise ValueError(f"{path}: column {unknown[0]!r} is no field of {record_type.full_name}")
        for row in reader:
            line = reader.line_num
            record: dict[str, Any] = {}
            try:
                for column, cell in row.items():
                    if column is None or cell is None:
                        raise ValueError("the row has more or fewer cells than the header")
                    target = record
                    *parents, leaf = column.split("/")
                    for parent in parents:
                        target = target.setdefault(parent, {})
                    target[leaf] = _cell(cell, types[column])
            except (ValueError, json.JSONDecodeError) as exc:
                refused.append(
                    LineReport(
                        line,
                        "refused",
                        reason="csv.cell",
                        problems=({"path": "/", "rule": "csv.cell", "message": str(exc)},),
                    )
                )
                continue
            records.append((line, record))
        return records, refused
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            records.append((number, json.loads(raw)))
        except (ValueError, RecursionError) as exc:
            refused.append(
                LineReport(
                    number,
                    "refused",
                    reason="json",
                    problems=({"path": "/", "rule": "json", "message": str(exc)[:200]},),
                )
            )
    return records, refused


def drop_file(
    client: httpx.Client,
    record_type: RecordType,
    path: str | Path,
    *,
    cluster_id: str = "enlace",
    progress: str | Path | None = None,
    chunk_size: int = 500,
    after_chunk: Callable[[int], None] = lambda index: None,
) -> list[LineReport]:
    """Publish a file's records through the bridge; every line's outcome, in line order.

    Args:
        client: an httpx client on the bridge, holding the agency's client certificate.
        record_type: the record every line holds.
        path: the CSV (``.csv``) or JSON-lines file.
        cluster_id: the bridge's cluster id.
        progress: the progress file (default ``<file>.progress.json``).
        chunk_size: records per request.
        after_chunk: called with each chunk's index once its report is kept (tests stop here).

    Raises:
        ValueError: the file cannot be read as the record's CSV or as text.
        httpx.HTTPError: the bridge could not be reached (run the drop again to resume).
    """
    path = Path(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    progress_path = Path(progress) if progress else path.with_name(path.name + ".progress.json")
    kept = _load_progress(progress_path, digest)
    records, reports = read_lines(path, record_type)
    url = f"/v3/clusters/{cluster_id}/catalog/{record_type.full_name}/records"
    for index in range(0, len(records), chunk_size):
        chunk = records[index : index + chunk_size]
        key = f"drop-{digest[:40]}-{chunk[0][0]}"
        if key not in kept:
            body = "\n".join(json.dumps({"value": {"type": "JSON", "data": data}}) for _, data in chunk) + "\n"
            answer = client.post(
                url, content=body.encode(), headers={"content-type": _NDJSON, "Idempotency-Key": f'"{key}"'}
            )
            if answer.status_code >= 500 or "results" not in answer.json():
                raise httpx.HTTPStatusError(
                    f"the bridge answered {answer.status_code}: {answer.text[:300]}",
                    request=answer.request,
                    response=answer,
                )
            numbers = [line for line, _ in chunk]
            kept[key] = [_report(numbers[r["line"] - 1], r) for r in answer.json()["results"]]
            write_private(
                progress_path,
                json.dumps({"digest": digest, "chunks": {k: [x.as_json() for x in v] for k, v in kept.items()}}),
            )
        after_chunk(index // chunk_size)
        reports.extend(kept[key])
    return sorted(reports, key=lambda r: r.line)


def _report(line: int, result: dict[str, Any]) -> LineReport:
    if result.get("error_code") == 200:
        return LineReport(line, "accepted", ce_id=result.get("ce_id"), offset=result.get("offset"))
    problems = tuple(result.get("problems") or ())
    reason = problems[0]["rule"] if problems else str(result.get("error_code"))
    return LineReport(line, "refused", reason=reason, problems=problems)


def _load_progress(path: Path, digest: str) -> dict[str, list[LineReport]]:
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if saved.get("digest") != digest:
        return {}  # another file under the same name: start afresh
    return {
        key: [
            LineReport(r["line"], r["outcome"], r["ce_id"], r["offset"], r["reason"], tuple(r["problems"]))
            for r in reports
        ]
        for key, reports in saved.get("chunks", {}).items()
    }
