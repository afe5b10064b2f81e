"""The demo's citizens: valid CURPs and RFCs, and whether fiscal services hold them as taxpayers.

Deterministic (a seed), so a demo run and its tests see the same people. Identifiers are built the
way RENAPO and SAT build them (letters from the names, birth date, sex, state, internal consonants,
check digits), though without the real rules' substitutions of awkward words.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from bus.records import curp_check_digit, rfc_check_digit

__all__ = ["Citizen", "citizens"]

_GIVEN = {
    "H": ["JUAN", "LUIS", "CARLOS", "MIGUEL", "JOSE", "PEDRO", "RAUL", "DIEGO"],
    "M": ["MARIA", "ANA", "LAURA", "SOFIA", "ELENA", "PAULA", "ROSA", "LUCIA"],
}
_SURNAMES = [
    "GARCIA",
    "HERNANDEZ",
    "LOPEZ",
    "MARTINEZ",
    "GONZALEZ",
    "PEREZ",
    "RODRIGUEZ",
    "SANCHEZ",
    "RAMIREZ",
    "TORRES",
    "FLORES",
    "RIVERA",
    "GOMEZ",
    "DIAZ",
    "CRUZ",
    "MORALES",
]
_STATES = ["DF", "JC", "NL", "PL", "GT", "VZ", "YN", "CH", "MC", "OC"]
_VOWELS = "AEIOU"


def _first_internal(word: str, wanted: str) -> str:
    return next((c for c in word[1:] if c in wanted), "X")


def _consonant(word: str) -> str:
    return next((c for c in word[1:] if c.isalpha() and c not in _VOWELS), "X")


@dataclass(frozen=True)
class Citizen:
    """One demo citizen and their standing in the register (``A``/``S``/``C``, or None: not registered)."""

    curp: str
    rfc: str
    given_names: str
    first_surname: str
    second_surname: str
    tax_status: str | None

    @property
    def full_name(self) -> str:
        return f"{self.given_names} {self.first_surname} {self.second_surname}"


def _identifiers(given: str, first: str, second: str, born: dt.date, sex: str, state: str, n: int) -> tuple[str, str]:
    letters = first[0] + _first_internal(first, _VOWELS) + second[0] + given[0]
    consonants = _consonant(first) + _consonant(second) + _consonant(given)
    differentiator = str(n % 10) if born.year < 2000 else "ABCDEFGHIJ"[n % 10]
    first17 = f"{letters}{born:%y%m%d}{sex}{state}{consonants}{differentiator}"
    curp = first17 + curp_check_digit(first17)
    homonymy = "ABCDEFGHJKLMNPQRSTUVWXYZ123456789"
    base = f"{letters}{born:%y%m%d}{homonymy[n % 33]}{homonymy[(n // 33) % 33]}"
    return curp, base + rfc_check_digit(base)


def citizens(count: int, *, seed: int = 2026) -> list[Citizen]:
    """``count`` distinct citizens; about 70% active taxpayers, 15% suspended, 15% not registered."""
    rng = random.Random(seed)
    people: list[Citizen] = []
    seen: set[str] = set()
    n = 0
    while len(people) < count:
        n += 1
        sex = rng.choice("HM")
        given, first, second = rng.choice(_GIVEN[sex]), rng.choice(_SURNAMES), rng.choice(_SURNAMES)
        born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 55))
        curp, rfc = _identifiers(given, first, second, born, sex, rng.choice(_STATES), n)
        if curp[:16] in seen:
            continue
        seen.add(curp[:16])
        roll = rng.random()
        status = "A" if roll < 0.70 else "S" if roll < 0.85 else None
        people.append(Citizen(curp, rfc, given.title(), first.title(), second.title(), status))
    return people
