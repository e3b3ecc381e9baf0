"""People, roles, line managers and API tokens."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.db import session_scope
from engine.errors import Conflict, InvalidData, NotFound
from engine.models import ApiToken, User
from engine.models._types import utcnow
from engine.services import users
from tests.engine.helpers import count, user


def _create(session_factory, **kwargs) -> User:
    kwargs.setdefault("name", "Тест Тестов")
    kwargs.setdefault("roles", ["employee"])
    with session_scope(session_factory) as s:
        return users.create_user(s, **kwargs)


def _roles(session_factory, email: str) -> set[str]:
    with session_scope(session_factory) as s:
        return set(users.get_user_by_email(s, email).roles)


def test_create_user_stores_a_lower_case_email_and_roles(session_factory):
    created = _create(session_factory, email="  Ivan.Petrov@Example.COM ", roles=["HR", "employee"])

    with session_scope(session_factory) as s:
        stored = s.get(User, created.id)
        assert stored.email == "ivan.petrov@example.com"
        assert stored.roles == {"hr", "employee"}
        assert stored.is_active
        assert users.get_user_by_email(s, "IVAN.PETROV@example.com").id == created.id


def test_user_without_roles_is_an_employee(session_factory):
    _create(session_factory, email="plain@example.com", roles=[])

    assert _roles(session_factory, "plain@example.com") == {"employee"}


def test_unknown_role_is_invalid(session_factory):
    with pytest.raises(InvalidData) as refused:
        _create(session_factory, email="x@example.com", roles=["employee", "overlord"])

    assert [e["field"] for e in refused.value.details] == ["role"]
    assert "overlord" in refused.value.details[0]["message"]
    assert count(session_factory, User) == 0


@pytest.mark.parametrize("email", ["not-an-email", "@example.com", "someone@"])
def test_malformed_email_is_invalid(session_factory, email):
    with pytest.raises(InvalidData) as refused:
        _create(session_factory, email=email)

    assert [e["field"] for e in refused.value.details] == ["email"]
    assert count(session_factory, User) == 0


def test_duplicate_email_is_a_conflict_whatever_its_case(session_factory):
    _create(session_factory, email="dup@example.com")

    with pytest.raises(Conflict, match=r"dup@example\.com"):
        _create(session_factory, email="dup@example.com")
    with pytest.raises(Conflict):
        _create(session_factory, email="DUP@Example.com")
    assert count(session_factory, User) == 1


def test_unknown_manager_is_invalid(session_factory):
    with pytest.raises(InvalidData) as refused:
        _create(session_factory, email="x@example.com", manager_email="ghost@example.com")

    assert [e["field"] for e in refused.value.details] == ["manager"]
    assert "ghost@example.com" in refused.value.details[0]["message"]
    assert count(session_factory, User) == 0


def test_every_problem_is_reported_at_once(session_factory):
    with pytest.raises(InvalidData) as refused:
        _create(session_factory, email="nope", name=" ", roles=["wizard"], manager_email="ghost@example.com")

    assert {e["field"] for e in refused.value.details} == {"email", "name", "role", "manager"}


def test_manager_email_is_matched_case_insensitively(session_factory):
    boss = _create(session_factory, email="boss@example.com")

    report = _create(session_factory, email="report@example.com", manager_email="BOSS@Example.com")

    assert report.manager_id == boss.id


def test_a_line_manager_gets_the_manager_role_automatically(session_factory):
    _create(session_factory, email="boss@example.com", roles=["employee"])
    assert _roles(session_factory, "boss@example.com") == {"employee"}

    _create(session_factory, email="report@example.com", manager_email="boss@example.com")
    assert _roles(session_factory, "boss@example.com") == {"employee", "manager"}

    # A second report changes nothing more.
    _create(session_factory, email="report2@example.com", manager_email="boss@example.com")
    assert _roles(session_factory, "boss@example.com") == {"employee", "manager"}


def test_token_authenticates_its_owner(session_factory, org):
    with session_scope(session_factory) as s:
        for person in org.values():
            assert users.authenticate_token(s, person.token).id == person.id
        token = users.create_token(s, email=org["employee_ops_2"].email)

    assert token.startswith("art_")
    with session_scope(session_factory) as s:
        assert users.authenticate_token(s, token).email == org["employee_ops_2"].email
        # Only a hash is stored, never the token itself.
        hashes = s.scalars(select(ApiToken.token_hash)).all()
        assert token not in hashes
        assert not any(person.token in hashes for person in org.values())


def test_wrong_token_is_rejected(session_factory, org):
    with session_scope(session_factory) as s:
        assert users.authenticate_token(s, "art_not-a-real-token") is None
        assert users.authenticate_token(s, "") is None
        assert users.authenticate_token(s, org["hr"].token + "x") is None


def test_revoked_token_and_inactive_user_are_rejected(session_factory, org):
    with session_scope(session_factory) as s:
        for row in s.scalars(select(ApiToken).where(ApiToken.user_id == org["hr"].id)):
            row.revoked_at = utcnow()
        user(s, org["designer"]).is_active = False

    with session_scope(session_factory) as s:
        assert users.authenticate_token(s, org["hr"].token) is None
        assert users.authenticate_token(s, org["designer"].token) is None
        assert users.authenticate_token(s, org["manager_ops"].token).id == org["manager_ops"].id


def test_token_for_an_unknown_email_is_not_found(session_factory):
    with session_scope(session_factory) as s, pytest.raises(NotFound):
        users.create_token(s, email="ghost@example.com")
    assert count(session_factory, ApiToken) == 0


def test_report_ids_follow_the_line_down(session_factory, org):
    _create(session_factory, email="intern@example.com", manager_email=org["employee_sales_1"].email)
    with session_scope(session_factory) as s:
        intern = users.get_user_by_email(s, "intern@example.com").id
        below_sales = users.report_ids(s, user(s, org["manager_sales"]))
        below_anna = users.report_ids(s, user(s, org["employee_sales_1"]))

    assert below_sales == {org["employee_sales_1"].id, org["employee_sales_2"].id, intern}
    assert below_anna == {intern}
