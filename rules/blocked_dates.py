"""Blocked dates with an allow-list (hr-domain §2.1 D-05, §1.3 Odoo mandatory days, §1.4 Frappe block lists).

A block is a period when leave is blocked, for the whole company or for a department (and the
departments under it), optionally for some leave types only, with a reason such as "year close".
Its ``mode`` says when it bites:

- ``warn_on_apply`` (Frappe): applying gives a warning; approving needs an approver on the allow-list.
- ``block_on_apply`` (Odoo mandatory days): applying is refused unless the applicant is on the allow-list.

The allow-list names people (ids or e-mails, as the table stores them) and positions. Leave the
employer must grant (ст. 128 ч.2, ст. 122 "обязан", scheduled leave) bypasses every block; the outcome
is then ``BLOCK_BYPASS_LEGAL`` so the service can write the audit entry (A15).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from rules import outcomes
from rules.dates import to_date
from rules.outcomes import Effect, Outcome

MODES = ("warn_on_apply", "block_on_apply")


@dataclass(frozen=True)
class BlockPeriod:
    """One row of the blocked-dates table."""

    start: date
    end: date
    reason: str
    department: str | None = None  # None: the whole company
    leave_types: frozenset[str] = frozenset()  # empty: every type
    mode: str = "warn_on_apply"
    allowed_people: frozenset[str] = frozenset()
    allowed_positions: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode: {self.mode!r} is not one of {', '.join(MODES)}")
        if self.end < self.start:
            raise ValueError(f"end: {self.end.isoformat()} is before start {self.start.isoformat()}")

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> BlockPeriod:
        """A block from table data: ISO dates, lists for the sets.

        Takes the ``blocked_dates`` rule table's names too: ``from``/``to``, department ``*`` for the
        whole company, and one ``allow`` list whose entries may be people or positions.
        """
        allow = frozenset(row.get("allow") or ())
        department = row.get("department") or None
        return cls(
            start=to_date(row.get("start", row.get("from")), "from"),
            end=to_date(row.get("end", row.get("to")), "to"),
            reason=row.get("reason") or "",
            department=None if department == "*" else department,
            leave_types=frozenset(row.get("leave_types") or ()),
            mode=row.get("mode") or "warn_on_apply",
            allowed_people=frozenset(row.get("allowed_people") or ()) | allow,
            allowed_positions=frozenset(row.get("allowed_positions") or ()) | allow,
        )

    def applies_to(self, department_codes: Collection[str], leave_type: str) -> bool:
        """True if the block covers a person of these departments (theirs and its parents) and type."""
        in_scope = self.department is None or self.department in department_codes
        return in_scope and (not self.leave_types or leave_type in self.leave_types)

    def allows(self, person: str | None, position: str | None) -> bool:
        """True if the person, or their position, is on the allow-list."""
        return (person is not None and person in self.allowed_people) or (
            position is not None and position in self.allowed_positions
        )


def blocks_hit(
    blocks: Iterable[BlockPeriod], start: date, end: date, department_codes: Collection[str], leave_type: str
) -> list[tuple[BlockPeriod, date]]:
    """The blocks that cover part of ``start..end`` for this person, each with its first blocked day."""
    hits = [
        (block, max(block.start, start))
        for block in blocks
        if block.start <= end and start <= block.end and block.applies_to(department_codes, leave_type)
    ]
    return sorted(hits, key=lambda hit: hit[1])


def check_blocked_on_apply(
    blocks: Iterable[BlockPeriod],
    start: date,
    end: date,
    *,
    department_codes: Collection[str],
    leave_type: str,
    person: str | None = None,
    position: str | None = None,
    legal_bypass: bool = False,
) -> Outcome:
    """D-05 at submission: ``BLOCKED_DATE`` (a warning or a refusal by the block's mode), or OK.

    ``department_codes`` are the applicant's department and its parents, so a block on a parent
    covers the departments below it. An allow-listed applicant is not blocked.
    """
    hits = blocks_hit(blocks, start, end, department_codes, leave_type)
    if not hits:
        return outcomes.passed()
    block, day = hits[0]
    if legal_bypass:
        return outcomes.notice(outcomes.BLOCK_BYPASS_LEGAL, date=day, reason=block.reason)
    refusing = [(b, d) for b, d in hits if b.mode == "block_on_apply" and not b.allows(person, position)]
    if refusing:
        block, day = refusing[0]
        return outcomes.failed(outcomes.BLOCKED_DATE, date=day, reason=block.reason)
    warning = [(b, d) for b, d in hits if not b.allows(person, position)]
    if warning:
        block, day = warning[0]
        return outcomes.failed(outcomes.BLOCKED_DATE, Effect.WARN, date=day, reason=block.reason)
    return outcomes.passed()


def check_blocked_on_approve(
    blocks: Iterable[BlockPeriod],
    start: date,
    end: date,
    *,
    department_codes: Collection[str],
    leave_type: str,
    approver: str | None,
    approver_position: str | None = None,
    legal_bypass: bool = False,
) -> Outcome:
    """D-05 at approval: only an allow-listed approver may approve leave on blocked dates (A14).

    Every block the leave touches must allow the approver. ``legal_bypass`` lets mandatory leave
    through with ``BLOCK_BYPASS_LEGAL`` (A15).
    """
    hits = blocks_hit(blocks, start, end, department_codes, leave_type)
    if not hits:
        return outcomes.passed()
    if legal_bypass:
        block, day = hits[0]
        return outcomes.notice(outcomes.BLOCK_BYPASS_LEGAL, date=day, reason=block.reason)
    for block, day in hits:
        if not block.allows(approver, approver_position):
            return outcomes.failed(outcomes.BLOCKED_DATE_NOT_AUTHORIZED, date=day, reason=block.reason)
    return outcomes.passed()
