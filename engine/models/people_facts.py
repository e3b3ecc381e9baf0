"""Facts about people that rules need, beyond the staff list: qualifications and their credentials.

Hire date and monthly salary are columns of ``users``; the shift-worker mark stays in
``User.flags["shift_worker"]``, where the staff import has always written it.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base
from engine.models._types import BigIntId, UtcDateTime, utcnow


class PersonQualification(Base):
    """A qualification a person holds (a specialty, a safety group, an accreditation) and its validity."""

    __tablename__ = "person_qualifications"
    __table_args__ = (UniqueConstraint("user_id", "code"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64), comment="upper-case qualification code, e.g. NURSE")
    credential_number: Mapped[str | None] = mapped_column(
        String(64), comment="the certificate's or accreditation's number"
    )
    valid_from: Mapped[date | None] = mapped_column()
    valid_until: Mapped[date | None] = mapped_column(comment="inclusive; NULL: does not expire")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
