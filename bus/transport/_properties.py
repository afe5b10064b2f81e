"""Kafka client properties files in the Java client's own key names, read as Kafka's tools read them.

The file format is ``java.util.Properties`` (``key=value``, ``key: value`` or ``key value``; ``#``
and ``!`` comments; a trailing backslash continues a line; ``\\t``, ``\\n``, ``\\uXXXX`` escapes;
ISO-8859-1, as ``Properties.load(InputStream)`` reads it, so the same bytes mean the same to Kafka's
console tools). See https://docs.oracle.com/javase/8/docs/api/java/util/Properties.html#load-java.io.Reader-

Only the connection and security keys are accepted: an unknown or unsupported key is refused by
name rather than ignored, because an ignored ``security.protocol`` would send credentials in clear.
A key given twice is refused too (Java silently keeps the last one).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bus._errors import ConfigError

__all__ = ["SUPPORTED_PROPERTIES", "client_properties", "read_client_properties", "render_properties"]

_SCRAM_MODULE = "org.apache.kafka.common.security.scram.ScramLoginModule"
_PLAIN_MODULE = "org.apache.kafka.common.security.plain.PlainLoginModule"
_LOGIN_MODULES = {_SCRAM_MODULE: ("SCRAM-SHA-256", "SCRAM-SHA-512"), _PLAIN_MODULE: ("PLAIN",)}
_JAAS_FLAGS = {"required", "requisite", "sufficient", "optional"}

# Java key → what it becomes; the values are checked by KafkaClientConfig.
SUPPORTED_PROPERTIES: dict[str, str] = {
    "bootstrap.servers": "bootstrap_servers",
    "security.protocol": "security_protocol",
    "sasl.mechanism": "sasl_mechanism",
    "sasl.jaas.config": "sasl_username, sasl_password",
    "ssl.truststore.type": "(must be PEM)",
    "ssl.truststore.location": "ssl_cafile",
    "ssl.keystore.type": "(must be PEM)",
    "ssl.keystore.location": "ssl_certfile, ssl_keyfile (one PEM file holding the key and its certificate)",
    "ssl.key.password": "ssl_password",
    "ssl.endpoint.identification.algorithm": "ssl_check_hostname (https, or empty for no check)",
}
_SECRET_KEYS = {"sasl.jaas.config", "ssl.key.password"}


def read_client_properties(path: str | Path) -> dict[str, Any]:
    """Read a Kafka client properties file into :class:`KafkaClientConfig` field values.

    Args:
        path: the properties file.

    Returns:
        The fields it sets (``bootstrap_servers``, ``security_protocol``, ``sasl_username``, ...).

    Raises:
        ConfigError: the file is missing or unreadable, or has a malformed line, a duplicated key, an
            unknown or unsupported key or value, or a ``sasl.jaas.config`` it cannot read. The message
            names the file and the key, never a secret's value.
    """
    source = Path(path)
    try:
        text = source.read_bytes().decode("iso-8859-1")
    except OSError as exc:
        raise ConfigError(f"cannot read Kafka client properties {source}: {exc.strerror or exc}") from exc
    properties = parse_properties(text, source=str(source))
    return _translate(properties, source=str(source))


def parse_properties(text: str, *, source: str) -> dict[str, str]:
    """Parse ``java.util.Properties`` text, refusing a key given twice.

    Raises:
        ConfigError: a duplicated key or a malformed ``\\u`` escape.
    """
    seen: dict[str, int] = {}
    properties: dict[str, str] = {}
    for number, line in _logical_lines(text):
        key, value = _split(line, source=source, number=number)
        if key in seen:
            raise ConfigError(f"{source}:{number}: {key} is given twice (first on line {seen[key]})")
        seen[key] = number
        properties[key] = value
    return properties


def _logical_lines(text: str):
    """Yield (first line number, logical line) with continuations joined and comments dropped."""
    lines = re.split(r"\r\n|\r|\n", text)
    index = 0
    while index < len(lines):
        number, line = index + 1, lines[index].lstrip(" \t\f")
        index += 1
        if not line or line[0] in "#!":
            continue
        while _continues(line) and index < len(lines):
            line = line[:-1] + lines[index].lstrip(" \t\f")
            index += 1
        if _continues(line):  # a backslash at the very end of the file continues nothing
            line = line[:-1]
        yield number, line


def _continues(line: str) -> bool:
    trailing = len(line) - len(line.rstrip("\\"))
    return trailing % 2 == 1


def _split(line: str, *, source: str, number: int) -> tuple[str, str]:
    """Split at the first unescaped ``=``, ``:`` or whitespace, as Java does."""
    i, n = 0, len(line)
    while i < n:
        char = line[i]
        if char == "\\":
            i += 2
            continue
        if char in "=: \t\f":
            break
        i += 1
    key, rest = line[:i], line[i:]
    rest = rest.lstrip(" \t\f")
    if rest[:1] in ("=", ":"):
        rest = rest[1:].lstrip(" \t\f")
    return _unescape(key, source=source, number=number), _unescape(rest, source=source, number=number)


_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def _unescape(text: str, *, source: str, number: int) -> str:
    if "\\" not in text:
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char != "\\" or i + 1 == len(text):
            out.append(char)
            i += 1
            continue
        escaped = text[i + 1]
        if escaped == "u":
            digits = text[i + 2 : i + 6]
            if not re.fullmatch(r"[0-9a-fA-F]{4}", digits):
                raise ConfigError(f"{source}:{number}: malformed \\uXXXX escape")
            out.append(chr(int(digits, 16)))
            i += 6
            continue
        out.append(_ESCAPES.get(escaped, escaped))
        i += 2
    return "".join(out)


def client_properties(fields: dict[str, Any]) -> dict[str, str]:
    """The Java client's keys for :class:`KafkaClientConfig` field values (the inverse of reading a file).

    A SASL login becomes one ``sasl.jaas.config`` entry of the mechanism's login module; certificate
    files become PEM store locations.
    """
    protocol = fields.get("security_protocol", "PLAINTEXT")
    out = {"bootstrap.servers": fields["bootstrap_servers"], "security.protocol": protocol}
    if protocol.startswith("SASL_"):
        mechanism = fields["sasl_mechanism"]
        module = _PLAIN_MODULE if mechanism == "PLAIN" else _SCRAM_MODULE
        username, password = (_quote(fields[name]) for name in ("sasl_username", "sasl_password"))
        out["sasl.mechanism"] = mechanism
        out["sasl.jaas.config"] = f'{module} required username="{username}" password="{password}";'
    if protocol.endswith("SSL"):
        if fields.get("ssl_cafile"):
            out |= {"ssl.truststore.type": "PEM", "ssl.truststore.location": fields["ssl_cafile"]}
        if fields.get("ssl_certfile"):
            if fields.get("ssl_keyfile") != fields["ssl_certfile"]:
                raise ConfigError(
                    "a Kafka properties file holds a client certificate as one PEM keystore "
                    "(key and certificate in one file): ssl_certfile and ssl_keyfile must be the same file"
                )
            out |= {"ssl.keystore.type": "PEM", "ssl.keystore.location": fields["ssl_certfile"]}
        if fields.get("ssl_password"):
            out["ssl.key.password"] = fields["ssl_password"]
        if not fields.get("ssl_check_hostname", True):
            out["ssl.endpoint.identification.algorithm"] = ""
    return out


def render_properties(properties: dict[str, str], *, comment: str = "") -> bytes:
    """``properties`` as a ``java.util.Properties`` file (ISO-8859-1, special characters escaped)."""
    lines = [f"# {line}" for line in comment.splitlines()]
    lines += [f"{_escape(key, key=True)}={_escape(value)}" for key, value in properties.items()]
    return ("\n".join(lines) + "\n").encode("iso-8859-1", errors="backslashreplace")


def _escape(text: str, *, key: bool = False) -> str:
    out = []
    for position, char in enumerate(text):
        if char == "\\":
            out.append("\\\\")
        elif char in "\t\n\r\f":
            out.append({"\t": "\\t", "\n": "\\n", "\r": "\\r", "\f": "\\f"}[char])
        elif (key and char in "=:#! ") or (char == " " and position == 0):
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) > 0x7E:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "".join(out)


def _quote(value: str) -> str:
    """A JAAS option value inside double quotes (``"`` and ``\\`` escaped, as :func:`_unquote` reads them)."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _translate(properties: dict[str, str], *, source: str) -> dict[str, Any]:
    unknown = sorted(set(properties) - set(SUPPORTED_PROPERTIES))
    if unknown:
        raise ConfigError(
            f"{source}: unsupported Kafka client propert{'y' if len(unknown) == 1 else 'ies'} "
            f"{', '.join(unknown)}; supported: {', '.join(SUPPORTED_PROPERTIES)}"
        )
    for key, value in properties.items():
        if not value and key not in _SECRET_KEYS and key != "ssl.endpoint.identification.algorithm":
            raise ConfigError(f"{source}: {key} is empty")
    fields: dict[str, Any] = {}
    simple = {
        "bootstrap.servers": "bootstrap_servers",
        "security.protocol": "security_protocol",
        "sasl.mechanism": "sasl_mechanism",
        "ssl.key.password": "ssl_password",
    }
    for key, field in simple.items():
        if key in properties:
            fields[field] = properties[key].strip() if field != "ssl_password" else properties[key]
    if "security_protocol" in fields:
        fields["security_protocol"] = fields["security_protocol"].upper()
    if "sasl.jaas.config" in properties:
        fields.update(_jaas(properties["sasl.jaas.config"], properties.get("sasl.mechanism"), source=source))
    for store in ("truststore", "keystore"):
        kind = properties.get(f"ssl.{store}.type")
        location = properties.get(f"ssl.{store}.location")
        if kind is not None and kind.strip().upper() != "PEM":
            raise ConfigError(f"{source}: ssl.{store}.type {kind.strip()} is not supported; use PEM")
        if location is not None and kind is None:
            raise ConfigError(f"{source}: ssl.{store}.location needs ssl.{store}.type=PEM (JKS is not supported)")
        if location is not None:
            if store == "truststore":
                fields["ssl_cafile"] = location.strip()
            else:
                fields["ssl_certfile"] = fields["ssl_keyfile"] = location.strip()
    if "ssl.endpoint.identification.algorithm" in properties:
        algorithm = properties["ssl.endpoint.identification.algorithm"].strip().lower()
        if algorithm not in ("https", ""):
            raise ConfigError(
                f"{source}: ssl.endpoint.identification.algorithm must be https or empty, not {algorithm!r}"
            )
        fields["ssl_check_hostname"] = algorithm == "https"
    return fields


# A JAAS entry: LoginModuleClass flag key="value" ... ;  (one entry, as Kafka's clients require).
_JAAS_TOKEN = re.compile(r'\s*(?:(?P<quoted>"(?:[^"\\]|\\.)*")|(?P<word>[^\s=;"]+)|(?P<punct>[=;]))')


def _jaas(text: str, mechanism: str | None, *, source: str) -> dict[str, str]:
    """Username and password from a ``sasl.jaas.config``; errors never repeat the text (it holds a password)."""

    def bad(why: str) -> ConfigError:
        return ConfigError(f"{source}: sasl.jaas.config {why}")

    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text.rstrip()):
        match = _JAAS_TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise bad("is malformed (an unterminated quote or a stray character)")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    if len(tokens) < 3 or tokens[0][0] != "word" or tokens[1][0] != "word":
        raise bad("must be 'LoginModule flag key=\"value\" ... ;'")
    module, flag = tokens[0][1], tokens[1][1]
    if module not in _LOGIN_MODULES:
        raise bad(f"uses login module {module}; supported: {', '.join(sorted(_LOGIN_MODULES))}")
    if flag.lower() not in _JAAS_FLAGS:
        raise bad(f"has flag {flag!r}; expected one of {', '.join(sorted(_JAAS_FLAGS))}")
    if tokens[-1] != ("punct", ";"):
        raise bad("must end with ';'")
    options: dict[str, str] = {}
    body = tokens[2:-1]
    if len(body) % 3:
        raise bad('has an option that is not key="value"')
    for i in range(0, len(body), 3):
        (k_kind, name), (e_kind, equals), (v_kind, value) = body[i : i + 3]
        if k_kind != "word" or (e_kind, equals) != ("punct", "=") or v_kind not in ("quoted", "word"):
            raise bad('has an option that is not key="value" (or more than one login module)')
        if name in options:
            raise bad(f"gives option {name} twice")
        options[name] = _unquote(value) if v_kind == "quoted" else value
    unsupported = sorted(set(options) - {"username", "password"})
    if unsupported:
        raise bad(f"has unsupported option(s) {', '.join(unsupported)}; supported: username, password")
    for needed in ("username", "password"):
        if not options.get(needed):
            raise bad(f"has no {needed}")
    if mechanism is not None and mechanism.strip().upper() not in _LOGIN_MODULES[module]:
        raise bad(f"uses {module.rsplit('.', 1)[-1]}, which does not serve sasl.mechanism {mechanism.strip()}")
    return {"sasl_username": options["username"], "sasl_password": options["password"]}


def _unquote(quoted: str) -> str:
    return re.sub(r"\\(.)", r"\1", quoted[1:-1])
