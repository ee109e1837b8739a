"""Check-up schedules: expected contacts with age windows, and the state of each one.

A contact is due from ``start`` to ``end`` (age in days for a child; days since the last menstrual
period for a pregnancy). After its window it is *overdue* until ``late_until`` (by default the end of
the next contact's window: a late check-up can still be caught up while the next one is due), then
*missed*. Before its window it is *upcoming*. A contact fulfilled by an encounter is *done*.

Everything here is pure date arithmetic, so the Django side can turn a state into a birth-date range
and select children in SQL (:func:`birth_dates_in_state`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

LAST_CONTACT_GRACE_DAYS = 90


class State(StrEnum):
    UPCOMING = "upcoming"
    DUE = "due"
    OVERDUE = "overdue"
    MISSED = "missed"
    DONE = "done"


@dataclass(frozen=True)
class Contact:
    """One expected contact. Ages are in days from birth (child) or from the LMP (pregnancy)."""

    code: str
    name_es: str
    name_en: str
    start: int
    end: int
    late_until: int
    kind: str = "check_up"
    screenings: tuple[str, ...] = ()
    deliveries: tuple[str, ...] = ()

    def name(self, language: str) -> str:
        return self.name_en if language.startswith("en") else self.name_es

    def state(self, age_days: int, done: bool = False) -> State:
        """The state of this contact at ``age_days`` (the subject's age today)."""
        if done:
            return State.DONE
        if age_days < self.start:
            return State.UPCOMING
        if age_days <= self.end:
            return State.DUE
        if age_days <= self.late_until:
            return State.OVERDUE
        return State.MISSED


def build_contacts(raw: Sequence[dict[str, object]]) -> tuple[Contact, ...]:
    """Contacts in age order with ``late_until`` filled in (see the module docstring).

    ``raw`` items have code, name_es, name_en, start, end (days) and optionally late_until, kind,
    screenings, deliveries.
    """
    ordered = sorted(raw, key=lambda c: (int(c["start"]), int(c["end"])))  # type: ignore[call-overload]
    contacts = []
    for i, c in enumerate(ordered):
        start, end = int(c["start"]), int(c["end"])  # type: ignore[call-overload]
        if "late_until" in c:
            late = int(c["late_until"])  # type: ignore[call-overload]
        elif i + 1 < len(ordered):
            late = max(end, int(ordered[i + 1]["end"]))  # type: ignore[call-overload]
        else:
            late = end + LAST_CONTACT_GRACE_DAYS
        contacts.append(
            Contact(
                code=str(c["code"]),
                name_es=str(c["name_es"]),
                name_en=str(c["name_en"]),
                start=start,
                end=end,
                late_until=late,
                kind=str(c.get("kind", "check_up")),
                screenings=tuple(c.get("screenings", ()) or ()),  # type: ignore[arg-type]
                deliveries=tuple(c.get("deliveries", ()) or ()),  # type: ignore[arg-type]
            )
        )
    return tuple(contacts)


@dataclass(frozen=True)
class ContactState:
    contact: Contact
    state: State
    opens: dt.date
    closes: dt.date
    late_until: dt.date


def states(
    contacts: Iterable[Contact], origin: dt.date, today: dt.date, done: Iterable[str] = ()
) -> list[ContactState]:
    """Every contact's state for a subject whose age counts from ``origin`` (birth date or LMP)."""
    done_codes = set(done)
    age = (today - origin).days
    return [
        ContactState(
            contact=c,
            state=c.state(age, c.code in done_codes),
            opens=origin + dt.timedelta(days=c.start),
            closes=origin + dt.timedelta(days=c.end),
            late_until=origin + dt.timedelta(days=c.late_until),
        )
        for c in contacts
    ]


def assign(contacts: Sequence[Contact], age_days: int, done: Iterable[str] = ()) -> Contact | None:
    """The contact an encounter at ``age_days`` fulfils: the one due then, else the earliest overdue; None
    for an extra visit outside every window (or when all candidates are already done)."""
    done_codes = set(done)
    open_ = [c for c in contacts if c.code not in done_codes]
    for c in open_:
        if c.start <= age_days <= c.end:
            return c
    for c in open_:
        if c.end < age_days <= c.late_until:
            return c
    return None


def birth_dates_in_state(
    contact: Contact, state: State, today: dt.date, horizon_days: int = 0
) -> tuple[dt.date, dt.date]:
    """The inclusive range of origins (birth dates or LMPs) for which ``contact`` is in ``state`` on
    some day from ``today`` to ``today + horizon_days`` (done-ness is checked separately).

    Used to select subjects in SQL with a plain date range: e.g. "due this week" is the DUE range
    with a horizon of 6 days.
    """

    def days(n: int) -> dt.timedelta:
        return dt.timedelta(days=n)

    last = today + days(horizon_days)
    if state == State.DUE:  # start <= age <= end on some day
        return today - days(contact.end), last - days(contact.start)
    if state == State.OVERDUE:  # end < age <= late_until
        return today - days(contact.late_until), last - days(contact.end + 1)
    if state == State.MISSED:  # age > late_until
        return dt.date.min, last - days(contact.late_until + 1)
    if state == State.UPCOMING:  # age < start
        return today - days(contact.start - 1), dt.date.max
    raise ValueError(f"no date range for state {state}")
