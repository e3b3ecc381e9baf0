"""Bonus fund usage: what approved bonuses took from a department's fund for a period.

The fund itself is a rule table (``bonus_funds``); this table holds the bookings against it, one
per approved request, so ``fund_left`` is the fund minus the sum of its rows.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base
from engine.models._types import BigIntId, UtcDateTime, utcnow


class BonusFundUsage(Base):
    """One approved bonus booked against the fund of a department and period."""

    __tablename__ = "bonus_fund_usage"
    __table_args__ = (Index("ix_bonus_fund_usage_department_fund_period", "department", "fund_period"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    # One booking per request: a retried approval finds the row instead of booking twice.
    instance_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("process_instances.id"), unique=True)
    department: Mapped[str] = mapped_column(String(64), comment="the employee's department code")
    fund_period: Mapped[str] = mapped_column(
        String(7), comment="the period of the bonus_funds row booked against: YYYY, YYYY-MM or YYYY-Qn"
    )
    period: Mapped[str] = mapped_column(String(7), comment="the period the bonus is for: YYYY-MM or YYYY-Qn")
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), comment="roubles")
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
