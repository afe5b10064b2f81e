"""The command-line corpus: bad files, bad JSON lines, bad keys and options given to ``enlace``, each
with the exit code and the words of the one clear error it must print (never a traceback).

A case's ``args`` may name ``{file}`` (the case's input, written from ``content``; ``None`` writes
nothing), ``{dir}`` (a folder), ``{key}`` (a usable CRM key) and ``{open_key}`` / ``{not_key}`` (a
key file readable by others, a file that is no key).
``tests/ops/test_cli_corpus.py`` runs them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from bus.records import catalog

CRM = "urn:mx:gob:crm"


def _case_json(**changes: object) -> str:
    example = catalog().get("CaseOpened").example() | {"openedAt": "2025-06-02T15:10:00Z", "slaDueDate": "2025-06-06"}
    example = {k: (str(v) if k in ("openedAt", "slaDueDate") else v) for k, v in example.items()}
    return json.dumps({**example, "openedAt": "2025-06-02T15:10:00Z", "slaDueDate": "2025-06-06", **changes})


GOOD = _case_json()
PUBLISH = ("publish", "CaseOpened", "{file}", "--agency", CRM, "--key-file", "{key}")
VALIDATE = ("records", "validate", "CaseOpened", "{file}")


@dataclass(frozen=True)
class CliCase:
    """One bad invocation: what is given, the exit code and what the error must say.

    Attributes:
        name: what is wrong.
        args: the command line after ``enlace``.
        content: the input file's bytes (None: no file is written).
        code: the exit code expected.
        says: words the error output must contain (stderr, or stdout for ``records validate``).
        env: environment variables for this case.
    """

    name: str
    args: tuple[str, ...]
    content: bytes | None
    code: int
    says: str
    env: dict[str, str] = field(default_factory=dict)


def _lines(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def cli_cases() -> list[CliCase]:
    deep = b"[" * 100_000 + b"]" * 100_000
    huge_number = b'{"caseId": ' + b"9" * 5000 + b"}"
    return [
        # enlace publish: the file
        CliCase("publish: the file does not exist", PUBLISH, None, 2, "cannot read"),
        CliCase("publish: the file is a folder", (*PUBLISH[:2], "{dir}", *PUBLISH[3:]), None, 2, "cannot read"),
        CliCase("publish: the file is not UTF-8", PUBLISH, "caseId: año".encode("latin-1"), 2, "not UTF-8"),
        CliCase("publish: the file is empty", PUBLISH, b"", 2, "holds no record"),
        CliCase("publish: the file is blank lines", PUBLISH, b"\n \n\t\n", 2, "holds no record"),
        CliCase("publish: a JSON line is cut short", PUBLISH, _lines(GOOD, GOOD[:40]), 2, ":2: not JSON"),
        CliCase("publish: a line of garbage", PUBLISH, _lines(GOOD, "caseId=CRM-1"), 2, ":2: not JSON"),
        CliCase("publish: a NUL byte", PUBLISH, b'{"caseId": "\x00"}', 2, "not JSON"),
        CliCase("publish: JSON nested 100,000 deep", PUBLISH, deep, 2, "nested too deeply"),
        CliCase("publish: a number of 5,000 digits", PUBLISH, huge_number, 2, "not JSON"),
        CliCase("publish: a JSON array", PUBLISH, f"[{GOOD}]".encode(), 1, "nothing was published"),
        CliCase("publish: a JSON number", PUBLISH, b"42", 1, "nothing was published"),
        CliCase("publish: JSON null", PUBLISH, b"null", 1, "nothing was published"),
        CliCase("publish: a JSON string per line", PUBLISH, _lines('"a"', '"b"'), 1, ":2: "),
        CliCase("publish: NaN in a field", PUBLISH, _case_json(caseId=float("nan")).encode(), 1, "/caseId"),
        CliCase(
            "publish: a wrong CURP on line 2", PUBLISH, _lines(GOOD, _case_json(citizenCurp="X")), 1, ":2: /citizenCurp"
        ),
        CliCase("publish: an unknown field", PUBLISH, _case_json(colour="red").encode(), 1, "colour"),
        CliCase("publish: a lone surrogate", PUBLISH, b'{"caseId": "\\ud800"}', 1, "/caseId"),
        CliCase(
            "publish: a BOM then an invalid record",
            PUBLISH,
            b"\xef\xbb\xbf" + _case_json(caseId="x").encode(),
            1,
            "/caseId",
        ),
        CliCase("publish: a thousand invalid lines", PUBLISH, _lines(*(["{}"] * 1000)), 1, ":1000: "),
        # enlace publish: the record name, the agency and the key
        CliCase(
            "publish: an unknown record",
            ("publish", "Nope", "{file}", "--agency", CRM, "--key-file", "{key}"),
            GOOD.encode(),
            1,
            "Nope",
        ),
        CliCase(
            "publish: a shared type",
            ("publish", "Person", "{file}", "--agency", CRM, "--key-file", "{key}"),
            GOOD.encode(),
            2,
            "shared type",
        ),
        CliCase(
            "publish: the key file does not exist",
            (*PUBLISH[:-1], "{dir}/none.key"),
            GOOD.encode(),
            1,
            "cannot read key file",
        ),
        CliCase("publish: a key file readable by others", (*PUBLISH[:-1], "{open_key}"), GOOD.encode(), 1, "chmod 600"),
        CliCase(
            "publish: a key file that is no key",
            (*PUBLISH[:-1], "{not_key}"),
            GOOD.encode(),
            1,
            "not an unencrypted PEM",
        ),
        CliCase(
            "publish: a malformed agency URN",
            ("publish", "CaseOpened", "{file}", "--agency", "CRM", "--key-file", "{key}"),
            GOOD.encode(),
            1,
            "malformed",
        ),
        CliCase(
            "publish: an unknown ENLACE_ setting",
            PUBLISH,
            GOOD.encode(),
            1,
            "unknown setting",
            env={"ENLACE_BOOTSTRAP": "x"},
        ),
        CliCase(
            "publish: a bad ENLACE_ value",
            PUBLISH,
            GOOD.encode(),
            1,
            "ENLACE_MAX_RECORD_BYTES",
            env={"ENLACE_MAX_RECORD_BYTES": "lots"},
        ),
        # enlace records validate
        CliCase("validate: the file does not exist", VALIDATE, None, 2, "cannot read"),
        CliCase(
            "validate: the file is a folder", ("records", "validate", "CaseOpened", "{dir}"), None, 2, "cannot read"
        ),
        CliCase("validate: the file is not UTF-8", VALIDATE, b"\xff\xfe{}", 2, "cannot read"),
        CliCase("validate: JSON nested 100,000 deep", VALIDATE, deep, 2, "nested too deeply"),
        CliCase("validate: a number of 5,000 digits", VALIDATE, huge_number, 2, "cannot read"),
        CliCase("validate: JSON lines (one record is expected)", VALIDATE, _lines(GOOD, GOOD), 2, "cannot read"),
        CliCase("validate: an unknown record", ("records", "validate", "Nope", "{file}"), GOOD.encode(), 2, "Nope"),
        CliCase("validate: version 99", (*VALIDATE, "-v", "99"), GOOD.encode(), 2, "99"),
        CliCase("validate: version -1", (*VALIDATE, "-v", "-1"), GOOD.encode(), 2, "-1"),
        CliCase("validate: a list holding a number", VALIDATE, f"[{GOOD}, 7]".encode(), 1, "/1"),
        CliCase("validate: a lone surrogate", VALIDATE, b'{"caseId": "\\ud800"}', 1, "/caseId"),
        CliCase(
            "validate: a wrong CURP", VALIDATE, _case_json(citizenCurp="GODE561231HDFRRN01").encode(), 1, "/citizenCurp"
        ),
        # other commands
        CliCase("consume: --max 0", ("consume", "t", "--agency", CRM, "--max", "0"), None, 2, "--max"),
        CliCase("dlq replay: no trust anchor", ("dlq", "replay", "t"), None, 1, "ENLACE_TRUST_ANCHOR"),
        CliCase("agency keygen: a malformed URN", ("agency", "keygen", "sat", "--out", "{dir}"), None, 1, "malformed"),
        CliCase(
            "agency encryption-keygen: a malformed URN",
            ("agency", "encryption-keygen", "crm", "--out", "{dir}"),
            None,
            1,
            "malformed",
        ),
        CliCase("publish: one line of spaces and a brace", PUBLISH, b"   {", 2, ":1: not JSON"),
        CliCase("validate: an empty file", VALIDATE, b"", 2, "cannot read"),
    ]
