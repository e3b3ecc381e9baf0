"""Passwords, invitations and password sign-in.

A password is stored only as an argon2id hash (argon2-cffi's ``PasswordHasher``, RFC 9106 low-memory
profile). An invitation is a one-time activation code, stored only as its sha256, that lets a person
set their password. Password sign-ins are rows in ``sign_in_attempts``: recent failures rate-limit
further tries, and because they are rows the limit holds across processes and machines.

Messages here never name the person: they reach API answers, and exception messages reach logs.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engine.errors import Conflict, EngineError, Forbidden, InvalidData, NotFound
from engine.models import ROLES, Invitation, SignInAttempt, User
from engine.models._types import utcnow
from engine.services import audit, notifications
from engine.services.users import normalise_email

HASHER = PasswordHasher()
INVITATION_VALIDITY = timedelta(days=7)
MIN_PASSWORD_LENGTH = 10
ATTEMPT_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_ADDRESS = 20
WRONG_CREDENTIALS = "wrong e-mail or password"

# A short deny-list of the passwords that top every leaked-password list and still pass the
# length rule. Not a substitute for a breach corpus, but it stops the classic first guesses.
COMMON_PASSWORDS = frozenset(
    {
        "1234567890",
        "12345678910",
        "0123456789",
        "1111111111",
        "0000000000",
        "1q2w3e4r5t",
        "qwertyuiop",
        "1qaz2wsx3edc",
        "qwerty1234",
        "qwerty12345",
        "password12",
        "password123",
        "password1234",
        "passw0rd123",
        "iloveyou12",
        "letmein123",
        "welcome123",
        "admin12345",
        "administrator",
        "changeme123",
        "abcdefghij",
        "abc1234567",
        "zaq12wsxcde",
        "football123",
        "baseball123",
        "sunshine123",
        "princess123",
        "monkey12345",
        "dragon12345",
        "йцукенгшщз",
        "пароль1234",
        "пароль12345",
        "approute123",
    }
)


class SignInFailed(EngineError):
    """Wrong e-mail or password, or an account that may not sign in; never says which."""


class TooManyAttempts(EngineError):
    """Too many failed sign-ins for this e-mail or from this address; ``retry_after`` is in seconds."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class IssuedInvitation:
    """A fresh invitation. ``code`` exists only here: the database keeps its hash."""

    user: User
    code: str
    expires_at: datetime


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# --- passwords -------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """The argon2id hash to store for ``password``."""
    return HASHER.hash(password)


def password_problems(password: str, email: str) -> list[dict[str, str]]:
    """Why ``password`` may not be used by the person with ``email``; empty when it may."""
    problems = []
    lowered = password.strip().lower()
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"must have at least {MIN_PASSWORD_LENGTH} characters")
    if lowered in {normalise_email(email), normalise_email(email).partition("@")[0]}:
        problems.append("must not be your e-mail address")
    if lowered in COMMON_PASSWORDS:
        problems.append("is one of the most common passwords; choose another")
    return [{"field": "password", "message": f"the password {p}"} for p in problems]


def _verify(user: User, password: str) -> bool:
    try:
        HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    # Hashes made with older argon2 parameters are upgraded while the password is at hand.
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return True


_DUMMY_HASH: list[str] = []


def _burn_verify_time(password: str) -> None:
    # An unknown e-mail costs as much time as a wrong password, so timing does not tell them apart.
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(hash_password(secrets.token_urlsafe(16)))
    with contextlib.suppress(VerificationError):
        HASHER.verify(_DUMMY_HASH[0], password)


# --- invitations -----------------------------------------------------------------------------


def invite(
    session: Session, *, email: str, actor: User | None, now: datetime | None = None
) -> IssuedInvitation:
    """Issue a one-time activation code for an active person, valid for INVITATION_VALIDITY.

    Earlier unused codes of the same person stop working. Raises NotFound for an unknown e-mail,
    InvalidData for a dismissed person.
    """
    now = now or utcnow()
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise NotFound("no user has this e-mail address")
    if not user.is_active:
        raise InvalidData(
            "the person is dismissed and cannot be invited",
            [{"field": "email", "message": "belongs to a dismissed person"}],
        )
    # Voiding = expiring now: the rows stay as a record of what was issued, and can no longer be used.
    session.execute(
        update(Invitation)
        .where(Invitation.user_id == user.id, Invitation.used_at.is_(None), Invitation.expires_at > now)
        .values(expires_at=now)
    )
    code = secrets.token_urlsafe(24)
    invitation = Invitation(
        user_id=user.id,
        code_hash=_sha256(code),
        created_by_id=actor.id if actor is not None else None,
        created_at=now,
        expires_at=now + INVITATION_VALIDITY,
    )
    session.add(invitation)
    session.flush()
    audit.record(session, "user.invited", actor=actor, subject_id=user.id, invitation_id=invitation.id)
    # The person is e-mailed the link. The code waits in the notification's params only until the
    # e-mail job has run (sent, skipped or failed), which then removes it (worker.operators.email).
    notifications.notify(
        session,
        user.id,
        "invitation",
        {"activation_code": code, "expires_at": invitation.expires_at.isoformat()},
        dedupe_key=f"invitation:{invitation.id}",
    )
    return IssuedInvitation(user=user, code=code, expires_at=invitation.expires_at)


def activate(session: Session, *, code: str, password: str, now: datetime | None = None) -> User:
    """Set a person's password with an activation code, using the code up.

    Raises InvalidData (field ``code``) for an unknown or expired code and (field ``password``) for a
    password the policy refuses; Conflict when the code was already used, also by a concurrent request.
    """
    now = now or utcnow()
    invitation = session.scalar(select(Invitation).where(Invitation.code_hash == _sha256(code.strip())))
    if invitation is None:
        raise InvalidData(
            "the activation code is not valid",
            [{"field": "code", "message": "unknown code; check it, or ask HR for a new invitation"}],
        )
    if invitation.used_at is not None:
        raise Conflict("this activation code has already been used; sign in with your password")
    if invitation.expires_at <= now:
        raise InvalidData(
            "the activation code has expired",
            [{"field": "code", "message": "expired or replaced by a newer invitation; ask HR for a new one"}],
        )
    user = session.get(User, invitation.user_id)
    if user is None or not user.is_active:
        raise InvalidData(
            "the activation code is not valid",
            [{"field": "code", "message": "the account it belongs to is closed"}],
        )
    problems = password_problems(password, user.email)
    if problems:
        raise InvalidData("the password cannot be used", problems)
    # The conditional UPDATE is what makes a code single-use: of two concurrent requests, the second
    # waits for the first one's row lock (SQLite: its write lock), then matches no row.
    used = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:
        raise Conflict("this activation code has already been used; sign in with your password")
    user.password_hash = hash_password(password)
    audit.record(session, "user.activated", actor=user, subject_id=user.id, invitation_id=invitation.id)
    session.flush()
    return user


# --- password sign-in ------------------------------------------------------------------------


def _retry_after(session: Session, condition, limit: int, since: datetime, now: datetime) -> int | None:
    """Seconds until fewer than ``limit`` failures matching ``condition`` remain in the window."""
    times = session.scalars(
        select(SignInAttempt.at)
        .where(condition, SignInAttempt.succeeded.is_(False), SignInAttempt.at > since)
        .order_by(SignInAttempt.at.desc())
        .limit(limit)
    ).all()
    if len(times) < limit:
        return None
    # The block lifts when the limit-th most recent failure leaves the window.
    return max(1, math.ceil((times[-1] + ATTEMPT_WINDOW - now).total_seconds()))


def check_rate_limit(session: Session, *, email: str, remote_addr: str | None, now: datetime) -> None:
    """Raises TooManyAttempts while the e-mail or the address has too many recent failures.

    A success clears the e-mail's count; the address's count is cleared only by time, since one
    address may try many e-mails.
    """
    since = now - ATTEMPT_WINDOW
    last_success = session.scalar(
        select(func.max(SignInAttempt.at)).where(
            SignInAttempt.email == email, SignInAttempt.succeeded.is_(True), SignInAttempt.at > since
        )
    )
    by_email = SignInAttempt.email == email
    waits = [_retry_after(session, by_email, MAX_FAILURES_PER_EMAIL, last_success or since, now)]
    if remote_addr:
        by_address = SignInAttempt.remote_addr == remote_addr
        waits.append(_retry_after(session, by_address, MAX_FAILURES_PER_ADDRESS, since, now))
    blocked = [w for w in waits if w is not None]
    if blocked:
        wait = max(blocked)
        raise TooManyAttempts(
            f"too many failed sign-ins; try again in {math.ceil(wait / 60)} minute(s)", retry_after=wait
        )


def sign_in(
    session: Session, *, email: str, password: str, remote_addr: str | None, now: datetime | None = None
) -> User:
    """Check an e-mail and password and record the attempt; returns the active user.

    Raises TooManyAttempts (before the password is even checked) while rate-limited, and SignInFailed
    for a wrong password, an unknown e-mail, an account without a password or a dismissed person.
    On SignInFailed the session holds the failed attempt's row: the caller must commit it.
    """
    now = now or utcnow()
    email = normalise_email(email)[:254]
    check_rate_limit(session, email=email, remote_addr=remote_addr, now=now)
    user = session.scalar(select(User).where(User.email == email))
    if user is None or not user.password_hash:
        _burn_verify_time(password)
        ok = False
    else:
        ok = _verify(user, password) and user.is_active
    address = (remote_addr or "")[:64] or None
    session.add(SignInAttempt(email=email, remote_addr=address, at=now, succeeded=ok))
    session.flush()
    if not ok:
        raise SignInFailed(WRONG_CREDENTIALS)
    return user


# --- external sign-in (OpenID Connect) ------------------------------------------------------


def sign_in_external(session: Session, *, email: str, roles: list[str] | str | None) -> User:
    """The active approute user for an e-mail a trusted identity provider vouched for.

    When ``roles`` is given (the provider's roles claim), the user's roles become the known roles in
    it; ``manager`` stays while anyone reports to them, and ``employee`` is the floor. Accounts are
    never created here: HR owns the staff list. Raises Forbidden when no active user has the e-mail.
    """
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None or not user.is_active:
        raise Forbidden("no approute account for this sign-in")
    if roles is not None:
        claimed = [roles] if isinstance(roles, str) else [r for r in roles if isinstance(r, str)]
        wanted = {r.strip().lower() for r in claimed} & set(ROLES)
        has_reports = session.scalar(select(User.id).where(User.manager_id == user.id).limit(1))
        if has_reports is not None:
            wanted.add("manager")
        new_roles = sorted(wanted or {"employee"})
        if new_roles != sorted(user.roles):
            audit.record(
                session,
                "user.roles_synced",
                actor=user,
                subject_id=user.id,
                before=sorted(user.roles),
                after=new_roles,
                source="oidc",
            )
            user.role_names = new_roles
    session.flush()
    return user
