"""The leave ledger: an append-only list of what changed a person's leave balance, and why.

The arithmetic (accrual, carry-over, balances) lives in ``rules.leave_ledger``; accrual is computed
on read, so it has no rows here unless recorded explicitly (an opening balance).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base
from engine.models._types import BigIntId, UtcDateTime, utcnow
from rules.leave_ledger import LedgerKind


class LeaveLedgerEntry(Base):
    """One change to one person's balance of one leave type."""

    __tablename__ = "leave_ledger_entries"
    __table_args__ = (
        # A request reserves, releases and uses each leave type once: retries find the row and stop.
        # NULLs are distinct, so entries without a request (adjustments) are not limited.
        UniqueConstraint("instance_id", "leave_type", "kind"),
        Index("ix_leave_ledger_entries_user_id_leave_type", "user_id", "leave_type"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    leave_type: Mapped[str] = mapped_column(String(32), comment="a leave type code, e.g. annual")
    kind: Mapped[LedgerKind] = mapped_column()
    days: Mapped[Decimal] = mapped_column(
        Numeric(7, 2), comment="calendar days; > 0 except adjustments, which may be negative"
    )
    working_year: Mapped[date] = mapped_column(
        comment="start of the working year the entry belongs to (1 January if the hire date was unknown)"
    )
    instance_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("process_instances.id"), index=True, comment="the request, for use and reservations"
    )
    reason: Mapped[str | None] = mapped_column(Text, comment="HR's reason for an adjustment")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class LeaveScheduleNotice(Base):
    """The notice of a scheduled leave's start (ст. 123 ч.3): sent, signed, or late enough to move it.

    One row per person and scheduled start. ``may_move`` turns true when the notice was not signed
    two weeks before the start: the employee may then demand the leave be moved (ст. 124 ч.2).
    """

    __tablename__ = "leave_schedule_notices"
    __table_args__ = (UniqueConstraint("user_id", "start"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    start: Mapped[date] = mapped_column(comment="first day of the scheduled leave")
    days: Mapped[int | None] = mapped_column(comment="calendar days, as the schedule says")
    leave_type: Mapped[str] = mapped_column(String(32), default="annual", comment="a leave type code")
    notice_due: Mapped[date] = mapped_column(comment="start - 14 calendar days: the last day to sign")
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime, comment="the employee signed")
    may_move: Mapped[bool] = mapped_column(default=False, comment="unsigned by notice_due: ст. 124 ч.2")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
