"""The case workflow as data: which step may follow which state, and where it leads.

No database access (it uses only the models' choices): the services check every step against
``TRANSITIONS`` before anything is written, and the tests walk the table. A step not listed for
the case's state is refused with a German message that names the state; nothing is written then.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import CaseState as S
from .models import EventKind as K

PRE_FINAL = frozenset({S.REPORTED, S.HEARING, S.NOTICE_DRAFT, S.NOTICE_ISSUED, S.SERVED, S.OBJECTION})
PAYMENT_OPEN = frozenset({S.FINAL, S.INSTALMENTS, S.ENFORCEMENT})


@dataclass(frozen=True)
class Transition:
    allowed_from: frozenset[str]
    # ``None``: the state stays (a hearing repeated, a reminder, a part payment).
    to: str | None
    needs_reason: bool = False


TRANSITIONS: dict[str, Transition] = {
    K.HEARING_SENT: Transition(frozenset({S.REPORTED, S.HEARING}), S.HEARING),
    K.STATEMENT_RECEIVED: Transition(frozenset({S.HEARING, S.NOTICE_DRAFT}), None),
    K.PERSON_IDENTIFIED: Transition(frozenset({S.REPORTED, S.HEARING, S.NOTICE_DRAFT}), None),
    K.NOTICE_DRAFTED: Transition(frozenset({S.REPORTED, S.HEARING, S.NOTICE_DRAFT}), S.NOTICE_DRAFT),
    K.NOTICE_ISSUED: Transition(frozenset({S.NOTICE_DRAFT}), S.NOTICE_ISSUED),
    K.NOTICE_SERVED: Transition(frozenset({S.NOTICE_ISSUED}), S.SERVED),
    K.OBJECTION_RECEIVED: Transition(frozenset({S.SERVED, S.FINAL}), S.OBJECTION),
    K.REMEDY: Transition(frozenset({S.OBJECTION}), S.HEARING, needs_reason=True),
    K.OBJECTION_WITHDRAWN: Transition(frozenset({S.OBJECTION}), S.FINAL),
    K.OBJECTION_REJECTED: Transition(frozenset({S.OBJECTION}), S.FINAL, needs_reason=True),
    K.TRANSFERRED: Transition(frozenset({S.OBJECTION}), S.TRANSFERRED),
    K.BECAME_FINAL: Transition(frozenset({S.SERVED}), S.FINAL),
    K.PAYMENT: Transition(PAYMENT_OPEN, None),
    K.INSTALMENTS_GRANTED: Transition(frozenset({S.FINAL, S.ENFORCEMENT}), S.INSTALMENTS, needs_reason=True),
    K.REMINDER_SENT: Transition(frozenset({S.FINAL, S.INSTALMENTS}), None),
    K.ENFORCEMENT_STARTED: Transition(frozenset({S.FINAL, S.INSTALMENTS}), S.ENFORCEMENT),
    K.DISCONTINUED: Transition(PRE_FINAL, S.DISCONTINUED, needs_reason=True),
    K.LAPSED: Transition(PRE_FINAL | PAYMENT_OPEN, S.LAPSED),
}

# Steps a person takes in the UI; the others are written by the services themselves (opening,
# finality after the objection period, lapse, a payment that settles the case).
MANUAL_STEPS = (
    K.HEARING_SENT,
    K.STATEMENT_RECEIVED,
    K.NOTICE_SERVED,
    K.OBJECTION_RECEIVED,
    K.REMEDY,
    K.OBJECTION_WITHDRAWN,
    K.OBJECTION_REJECTED,
    K.TRANSFERRED,
    K.INSTALMENTS_GRANTED,
    K.REMINDER_SENT,
    K.ENFORCEMENT_STARTED,
    K.DISCONTINUED,
)


class DiscontinuationReason:
    """Why a case was discontinued (§ 47 OWiG: opportunity; § 170 Abs. 2 StPO analog: not provable)."""

    CHOICES = (
        ("opportunity", "Geringfügigkeit / Opportunität (§ 47 Abs. 1 OWiG)"),
        ("not_provable", "Tat nicht nachweisbar"),
        ("person_unknown", "Betroffene Person nicht ermittelbar"),
        ("under_14", "Strafunmündig zur Tatzeit (§ 12 Abs. 1 OWiG)"),
        ("caution_effective", "Wirksame Verwarnung für dieselbe Tat (§ 56 Abs. 4 OWiG)"),
        ("criminal_proceedings", "Straftat: Abgabe an die Staatsanwaltschaft (§ 41 OWiG)"),
        ("deceased", "Betroffene Person verstorben"),
        ("other", "Sonstiger Grund (im Vermerk)"),
    )
    CODES = frozenset(code for code, _ in CHOICES)
    LABELS = dict(CHOICES)


def step_refusal(kind: str, state: str) -> str | None:
    """German message why ``kind`` may not follow ``state``, or ``None`` if it may."""
    transition = TRANSITIONS.get(kind)
    if transition is None:
        return "Diesen Schritt gibt es nicht."
    if state not in transition.allowed_from:
        return f"„{K(kind).label}“ ist im Stand „{S(state).label}“ nicht möglich."
    return None
