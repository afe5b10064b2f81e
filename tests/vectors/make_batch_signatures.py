"""Writes ``batch_signatures.json``: test vectors of signed form 3 (``bus/identity/_batch.py``).

Run ``python -m tests.vectors.make_batch_signatures`` after a deliberate change of the scheme; the
vectors are deterministic (a fixed Ed25519 seed; Ed25519 signatures are deterministic, RFC 8032).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bus.identity import AgencyKey, key_id_for, sign_batch
from bus.identity._batch import leaf_hash, merkle_root, root_statement
from bus.identity._signing import canonical_form, record_digest

VECTORS = Path(__file__).with_name("batch_signatures.json")
AGENCY = "urn:mx:gob:crm"
SEED = hashlib.sha256(b"enlace batch signature test vectors").digest()
TOPIC = "mx.gob.crm.case-opened"


def vector_key() -> AgencyKey:
    """The fixed key the vectors are signed with."""
    private = Ed25519PrivateKey.from_private_bytes(SEED)
    return AgencyKey(AGENCY, private, key_id_for(private.public_key()))


def _record(i: int) -> tuple[list[tuple[str, bytes | None]], bytes | None, bytes | None]:
    headers: list[tuple[str, bytes | None]] = [
        ("ce_specversion", b"1.0"),
        ("ce_id", f"0193a5b0-0000-7000-8000-{i:012d}".encode()),
        ("ce_source", AGENCY.encode()),
        ("ce_type", b"mx.gob.crm.CaseOpened"),
        ("ce_time", b"2026-12-03T15:00:00Z"),
        ("ce_subject", f"CRM-2026-{i:06d}".encode()),
        ("content-type", b"application/avro"),
        ("traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
        ("x-proxy", b"unsigned, ignored"),
    ]
    if i == 1:
        headers.append(("tracestate", None))  # a NULL header value is signed as absent, not empty
    key = f"CRM-2026-{i:06d}".encode()
    value = b"\x00\x00\x00\x00\x01" + bytes(range(i, i + 24))
    return headers, key, value


def _hex(data: bytes | None) -> str | None:
    return None if data is None else data.hex()


def _with(record: dict, name: str, value: bytes | None) -> dict:
    headers = [[n, _hex(value) if n == name else v] for n, v in record["headers"]]
    return {"headers": headers, "key": record["key"], "value": record["value"]}


def _header(record: dict, name: str) -> bytes:
    return bytes.fromhex(next(v for n, v in record["headers"] if n == name))


def _refusals(batches: list[dict]) -> list[dict]:
    """Records of the batches above, altered: each must be refused with its reason."""
    three, five, eight = batches[1]["records"], batches[2]["records"], batches[3]["records"]
    altered_value = dict(three[2], value=three[2]["value"][:-2] + "ff")
    cases = [
        ("payload altered (batch of 3, leaf 2)", altered_value, "bad-signature"),
        (
            "signed header altered (batch of 3, leaf 0)",
            _with(three[0], "ce_subject", b"CRM-2026-999999"),
            "bad-signature",
        ),
        ("leaf index changed (batch of 5, leaf 1 claims 2)", _with(five[1], "enlace_batch", b"2/5"), "bad-signature"),
        (
            "two records' places swapped (batch of 8, leaf 3 claims 4's index and path)",
            _with(_with(eight[3], "enlace_batch", b"4/8"), "enlace_proof", _header(eight[4], "enlace_proof")),
            "bad-signature",
        ),
        (
            "joined to another batch's signature (leaf 0 of 5 with the batch of 8's)",
            _with(_with(five[0], "enlace_signature", _header(eight[0], "enlace_signature")), "enlace_batch", b"0/8"),
            "bad-signature",
        ),
        (
            "audit path one hash short (batch of 8, leaf 3)",
            _with(eight[3], "enlace_proof", _header(eight[3], "enlace_proof")[:-43]),
            "bad-batch-proof",
        ),
        ("index not below size", _with(batches[0]["records"][0], "enlace_batch", b"2/2"), "bad-batch-proof"),
        ("size of one in form 3", _with(batches[0]["records"][0], "enlace_batch", b"0/1"), "bad-batch-proof"),
        ("leading zero in the index", _with(five[1], "enlace_batch", b"01/5"), "bad-batch-proof"),
        ("no audit path", _with(five[1], "enlace_proof", None), "bad-batch-proof"),
    ]
    return [{"case": case, **record, "reason": reason} for case, record, reason in cases]


def build() -> dict:
    key = vector_key()
    batches = []
    for size in (2, 3, 5, 8):
        items = [(*_record(i), TOPIC) for i in range(size)]
        signed = sign_batch(key, items)
        digests = [record_digest(h, k, v) for h, (_, k, v, _) in zip(signed, items, strict=True)]
        root = merkle_root([leaf_hash(d) for d in digests])
        statement = root_statement(key.key_id, size, root)
        records = []
        for headers, (_, record_key, value, _), digest in zip(signed, items, digests, strict=True):
            records.append(
                {
                    "headers": [[n, _hex(v)] for n, v in headers],
                    "key": _hex(record_key),
                    "value": _hex(value),
                    "canonical_form": canonical_form(headers, record_key, value).hex(),
                    "record_digest": digest.hex(),
                    "leaf_hash": leaf_hash(digest).hex(),
                }
            )
        batches.append({"size": size, "root": root.hex(), "statement": statement.hex(), "records": records})
    return {
        "description": (
            "Enlace signed form 3 (batch signatures): see bus/identity/_batch.py. Header values are hex "
            "(null: a NULL value). Every record verifies alone with the public key; the negative cases "
            "must be refused with the reason given."
        ),
        "agency": AGENCY,
        "topic": TOPIC,
        "public_key": key.public_bytes().hex(),
        "key_id": key.key_id,
        "batches": batches,
        "refusals": _refusals(batches),
    }


if __name__ == "__main__":
    VECTORS.write_text(json.dumps(build(), indent=1) + "\n")
