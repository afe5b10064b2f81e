# Types of bus/identity/_native.c (the C build of two loops of bus/identity/_signing.py).
from collections.abc import Sequence

def canonical_form(
    prefix: bytes,
    fields: tuple[tuple[int, bytes], ...],
    headers: Sequence[tuple[str, bytes | None]],
    key_part: bytes,
    value_part: bytes,
) -> bytes | None: ...
def header_names(headers: object) -> tuple[str, ...] | None: ...
