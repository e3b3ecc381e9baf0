"""People, roles and API tokens."""

from __future__ import annotations

import copy
import hashlib
import secrets
import threading
import time
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, make_transient_to_detached

from engine.errors import Conflict, InvalidData, NotFound
from engine.models import ROLES, ApiToken, User
from engine.services import org

TOKEN_PREFIX = "art_"  # noqa: S105 - a recognisable prefix, not a secret


def normalise_email(email: str) -> str:
    """E-mail addresses are logins; compare them case-insensitively."""
    return email.strip().lower()


def get_user_by_email(session: Session, email: str) -> User:
    """Raises NotFound if no user has this e-mail."""
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise NotFound(f"no user with e-mail {normalise_email(email)}")
    return user


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    roles: Iterable[str],
    manager_email: str | None = None,
    department: str | None = None,
) -> User:
    """Create a user with one or more roles.

    Raises InvalidData for an unknown role, a malformed e-mail or an unknown manager;
    Conflict if the e-mail is taken.
    """
    email = normalise_email(email)
    role_set = sorted({r.strip().lower() for r in roles if r.strip()}) or ["employee"]
    problems = []
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        problems.append({"field": "email", "message": "not an e-mail address"})
    if not name.strip():
        problems.append({"field": "name", "message": "a name is required"})
    unknown = [r for r in role_set if r not in ROLES]
    if unknown:
        problems.append(
            {"field": "role", "message": f"unknown role {', '.join(unknown)}; use {', '.join(ROLES)}"}
        )
    manager = None
    if manager_email:
        manager = session.scalar(select(User).where(User.email == normalise_email(manager_email)))
        if manager is None:
            problems.append({"field": "manager", "message": f"no user with e-mail {manager_email}"})
    if problems:
        raise InvalidData("the user cannot be created", problems)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"a user with e-mail {email} already exists")
    department = (department or "").strip() or None
    if department is not None and org.get_department(session, department) is None:
        # Everyone sits in the department tree; a new code becomes a root department named by its code.
        org.upsert_department(session, code=department)
    user = User(
        email=email,
        name=name.strip(),
        manager_id=manager.id if manager else None,
        department=department,
        role_names=role_set,
    )
    session.add(user)
    session.flush()
    if manager is not None and "manager" not in manager.roles:
        manager.role_names = sorted({*manager.role_names, "manager"})
    return user


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, *, email: str) -> str:
    """Issue a new API token for a user and return it; only its hash is stored."""
    user = get_user_by_email(session, email)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=_hash_token(token)))
    session.flush()
    return token


def authenticate_token(session: Session, token: str) -> User | None:
    """The active user owning this token, or None."""
    query = (
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == _hash_token(token),
            ApiToken.revoked_at.is_(None),
            User.is_active.is_(True),
        )
    )
    return session.scalar(query)


class TokenCache:
    """Remembers recent token look-ups for a few seconds, to spare a query on every API call.

    A revoked token, a deactivated user or a role change takes effect within ``ttl`` seconds.
    """

    def __init__(self, ttl: float = 10.0, max_entries: int = 10_000):
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, dict]] = {}
        self._lock = threading.Lock()

    def authenticate(self, session: Session, token: str) -> User | None:
        """Like ``authenticate_token``, answering from memory while an entry is fresh."""
        key = _hash_token(token)
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            detached = User(**copy.deepcopy(entry[1]))
            make_transient_to_detached(detached)
            return session.merge(detached, load=False)
        user = authenticate_token(session, token)
        if user is not None:
            with self._lock:
                if len(self._entries) >= self.max_entries:
                    self._entries.clear()
                self._entries[key] = (now + self.ttl, _column_values(user))
        return user


def _column_values(user: User) -> dict:
    return {column.key: getattr(user, column.key) for column in User.__table__.columns}


def report_ids(session: Session, manager: User) -> set[int]:
    """Ids of everyone below ``manager`` in the line-management tree."""
    found: set[int] = set()
    frontier = {manager.id}
    while frontier:
        below = set(session.scalars(select(User.id).where(User.manager_id.in_(frontier))))
        frontier = below - found - {manager.id}
        found |= frontier
    return found
