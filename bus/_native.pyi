# Types of bus/_native.c (the C build of per-record loops of bus/identity and connectors/_message_log.py;
# each returns None where it leaves the work to Python).
from collections.abc import Sequence

_Fields = tuple[tuple[int, bytes], ...]
_Headers = Sequence[tuple[str, bytes | None]]
_Shape = tuple[tuple[bool, int, int], ...]
_Batch = tuple[str, int, bytes]
_Remembered = dict[tuple[_Batch, int, int], bytes]
_Climbed = tuple[bool, bytes, list[tuple[int, int, bytes]]]

def canonical_form(
    prefix: bytes, fields: _Fields, headers: _Headers, key: bytes | None, value: bytes | None
) -> bytes | None: ...
def record_digest(
    prefix: bytes, fields: _Fields, headers: _Headers, key: bytes | None, value: bytes | None
) -> bytes | None: ...
def climb(digest: bytes, path: bytes, shape: _Shape, remembered: _Remembered, batch: _Batch) -> _Climbed | None: ...
def batch_known(
    prefix: bytes,
    fields: _Fields,
    headers: _Headers,
    key: bytes | None,
    value: bytes | None,
    proof: object,
    shape: _Shape,
    remembered: _Remembered,
    batch: _Batch,
) -> _Climbed | None: ...
def pick(headers: object, positions: tuple[int, ...]) -> list[bytes | None] | None: ...
def base64url(text: object) -> bytes | None: ...
def header_names(headers: object) -> tuple[str, ...] | None: ...
def log_body(magic: bytes, key: object, value: object, headers: object) -> bytes | None: ...
def record_size(key: object, value: object, headers: object) -> int | None: ...
def batch_proofs(digests: list[bytes]) -> tuple[bytes, list[bytes]] | None: ...
