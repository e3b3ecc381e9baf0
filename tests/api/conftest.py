"""Fixtures of the API tests on top of tests/conftest.py: extra people made on demand."""

from __future__ import annotations

import pytest

from engine.db import session_scope
from engine.services.users import create_token, create_user
from tests.conftest import Person


@pytest.fixture
def make_person(session_factory, org):
    """Create a user with the given roles (and an API token) next to the demo organisation."""

    def make(name: str, *roles: str, manager_email: str | None = None) -> Person:
        with session_scope(session_factory) as s:
            user = create_user(
                s, email=f"{name}@api.approute.test", name=name, roles=roles, manager_email=manager_email
            )
            token = create_token(s, email=user.email)
            return Person(user.id, user.email, token)

    return make


@pytest.fixture
def admin(make_person) -> Person:
    return make_person("admin", "admin")
