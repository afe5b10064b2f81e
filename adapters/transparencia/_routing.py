"""Where an information request goes, and what the agency asked answers.

Each agency's transparency liaison answers through the transparency system. Here each liaison is an
answer book: the information the agency already publishes under its transparency obligations, found
by keyword. A question no entry matches is answered NONEXISTENT, as the law allows when the agency
holds no such document; a question to an agency outside the book is NOT_COMPETENT.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ANSWER_BOOKS", "Answer", "answer_for"]


@dataclass(frozen=True)
class Answer:
    """One answer an agency's liaison gives."""

    answer_type: str  # mx.gob.transparencia.AnswerType symbol
    summary: str
    uris: tuple[str, ...] = ()


_BOOK_SAT = (
    (
        ("budget", "presupuesto", "spending"),
        Answer(
            "PUBLICLY_AVAILABLE",
            "SAT's budget and spending are published under art. 70 fraction XXI.",
            ("https://www.sat.gob.mx/transparencia/presupuesto",),
        ),
    ),
    (
        ("salary", "salaries", "sueldo"),
        Answer(
            "PUBLICLY_AVAILABLE",
            "Officials' salaries are published under art. 70 fraction VIII.",
            ("https://www.sat.gob.mx/transparencia/remuneraciones",),
        ),
    ),
    (
        ("taxpayer", "contribuyente", "rfc"),
        Answer("CONFIDENTIAL", "Taxpayers' data is fiscal secrecy (Código Fiscal de la Federación, art. 69)."),
    ),
)
_BOOK_CRM = (
    (
        ("cases", "complaints", "quejas", "statistics"),
        Answer(
            "DELIVERED",
            "Attached: cases opened and resolved per month, by channel.",
            ("https://crm.gob.mx/transparencia/estadisticas.csv",),
        ),
    ),
)
_BOOK_PORTAL = (
    (
        ("privacy", "privacidad"),
        Answer(
            "PUBLICLY_AVAILABLE",
            "The portal's privacy notice is published on the portal.",
            ("https://portal.gob.mx/privacidad",),
        ),
    ),
)
ANSWER_BOOKS = {
    "urn:mx:gob:sat": _BOOK_SAT,
    "urn:mx:gob:crm": _BOOK_CRM,
    "urn:mx:gob:portal": _BOOK_PORTAL,
}


def answer_for(agency: str, question: str) -> Answer:
    """The answer of ``agency``'s liaison to ``question``."""
    book = ANSWER_BOOKS.get(agency)
    if book is None:
        return Answer("NOT_COMPETENT", f"{agency} is not an agency this transparency system serves.")
    words = question.lower()
    for keywords, answer in book:
        if any(k in words for k in keywords):
            return answer
    return Answer("NONEXISTENT", "The agency holds no document with that information.")
