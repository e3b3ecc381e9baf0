"""Invitations (HR issues a one-time code) and activation (the person sets a password with it)."""

from __future__ import annotations

import hashlib
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from engine.db import session_scope
from engine.models import AuditEvent, Invitation, User
from tests.api.helpers import assert_error, field_errors

GOOD_PASSWORD = "correct horse battery"


def invite(client, inviter, email):
    return client.post("/api/v1/invitations", json={"email": email}, headers=inviter.headers)


def invited(client, inviter, person) -> dict:
    response = invite(client, inviter, person.email)
    assert response.status_code == 201, response.json
    return response.json


def activate(client, code, password=GOOD_PASSWORD):
    return client.post("/api/v1/auth/activate", json={"code": code, "password": password})


def invitations_of(session_factory, user_id) -> list[Invitation]:
    with session_scope(session_factory) as s:
        query = select(Invitation).where(Invitation.user_id == user_id).order_by(Invitation.id)
        return list(s.scalars(query))


def password_hash_of(session_factory, user_id) -> str | None:
    with session_scope(session_factory) as s:
        return s.get(User, user_id).password_hash


def test_hr_invites_an_employee_and_only_the_code_hash_is_stored(client, org, session_factory):
    anna = org["employee_sales_1"]
    before = datetime.now(UTC)

    body = invited(client, org["hr"], anna)

    assert body["email"] == anna.email
    assert len(body["code"]) >= 32
    expires = datetime.fromisoformat(body["expires_at"])
    assert before + timedelta(days=7) <= expires <= datetime.now(UTC) + timedelta(days=7)
    assert body["activation_url"] == f"http://localhost/activate#code={body['code']}"
    (row,) = invitations_of(session_factory, anna.id)
    assert row.code_hash == hashlib.sha256(body["code"].encode()).hexdigest()
    assert body["code"] not in {str(getattr(row, c.key)) for c in Invitation.__table__.columns}
    assert row.created_by_id == org["hr"].id and row.used_at is None
    with session_scope(session_factory) as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "user.invited")).one()
        assert (event.actor_id, event.subject_id) == (org["hr"].id, anna.id)
        assert anna.email not in str(event.details) and body["code"] not in str(event.details)


def test_an_admin_may_invite(client, org, admin):
    assert invite(client, admin, org["employee_ops_1"].email).status_code == 201


@pytest.mark.parametrize("who", ["employee_sales_1", "manager_sales", "designer", "director"])
def test_others_may_not_invite(client, org, session_factory, who):
    target = org["employee_ops_1"]
    body = assert_error(invite(client, org[who], target.email), 403)
    assert "hr" in body["message"]
    assert invitations_of(session_factory, target.id) == []


def test_inviting_needs_credentials(client, org):
    assert_error(client.post("/api/v1/invitations", json={"email": org["employee_ops_1"].email}), 401)


def test_an_unknown_person_is_not_found(client, org):
    body = assert_error(invite(client, org["hr"], "nobody@demo.approute.test"), 404)
    assert "nobody@" not in body["message"]


def test_a_dismissed_person_cannot_be_invited(client, org, session_factory):
    gleb = org["employee_ops_2"]
    with session_scope(session_factory) as s:
        s.get(User, gleb.id).is_active = False
    body = assert_error(invite(client, org["hr"], gleb.email), 422)
    assert "dismissed" in field_errors(body)["email"]
    assert invitations_of(session_factory, gleb.id) == []


def test_a_missing_email_is_named(client, org):
    body = assert_error(client.post("/api/v1/invitations", json={}, headers=org["hr"].headers), 422)
    assert "email" in body["errors"]["json"]


def test_activation_sets_an_argon2id_password_and_uses_the_code(client, org, session_factory):
    anna = org["employee_sales_1"]
    code = invited(client, org["hr"], anna)["code"]

    response = activate(client, code)

    assert response.status_code == 200, response.json
    assert response.json == {"email": anna.email}
    assert password_hash_of(session_factory, anna.id).startswith("$argon2id$")
    (row,) = invitations_of(session_factory, anna.id)
    assert row.used_at is not None
    signed_in = client.post("/api/v1/auth/token", json={"email": anna.email, "password": GOOD_PASSWORD})
    assert signed_in.status_code == 201, signed_in.json


def test_a_code_cannot_be_used_twice(client, org, session_factory):
    anna = org["employee_sales_1"]
    code = invited(client, org["hr"], anna)["code"]
    assert activate(client, code).status_code == 200
    first_hash = password_hash_of(session_factory, anna.id)

    body = assert_error(activate(client, code, "another long passphrase"), 409)

    assert "already been used" in body["message"]
    assert password_hash_of(session_factory, anna.id) == first_hash


def test_an_unknown_code_is_refused(client, org):
    body = assert_error(activate(client, "not-a-code"), 422)
    assert "unknown code" in field_errors(body)["code"]


def test_an_expired_code_is_refused(client, org, session_factory):
    anna = org["employee_sales_1"]
    code = invited(client, org["hr"], anna)["code"]
    with session_scope(session_factory) as s:
        row = s.scalars(select(Invitation).where(Invitation.user_id == anna.id)).one()
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)

    body = assert_error(activate(client, code), 422)

    assert "expired" in field_errors(body)["code"]
    assert password_hash_of(session_factory, anna.id) is None


def test_a_new_invitation_voids_the_earlier_unused_one(client, org, session_factory):
    anna = org["employee_sales_1"]
    old_code = invited(client, org["hr"], anna)["code"]
    new_code = invited(client, org["hr"], anna)["code"]

    body = assert_error(activate(client, old_code), 422)
    assert "replaced by a newer invitation" in field_errors(body)["code"]
    assert activate(client, new_code).status_code == 200
    assert [r.used_at is not None for r in invitations_of(session_factory, anna.id)] == [False, True]


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short1!", "at least 10 characters"),
        ("anna@demo.approute.test", "e-mail"),
        ("ANNA@demo.approute.test", "e-mail"),
        ("qwertyuiop", "most common"),
        ("Password123", "most common"),
    ],
)
def test_the_password_policy_names_the_password_and_keeps_the_code(
    client, org, session_factory, password, problem
):
    anna = org["employee_sales_1"]
    code = invited(client, org["hr"], anna)["code"]

    body = assert_error(activate(client, code, password), 422)

    assert problem in field_errors(body)["password"]
    assert password_hash_of(session_factory, anna.id) is None
    assert activate(client, code).status_code == 200  # the refused try did not use the code up


def test_a_dismissed_persons_code_no_longer_works(client, org, session_factory):
    vera = org["employee_ops_1"]
    code = invited(client, org["hr"], vera)["code"]
    with session_scope(session_factory) as s:
        s.get(User, vera.id).is_active = False
    body = assert_error(activate(client, code), 422)
    assert "closed" in field_errors(body)["code"]
    assert password_hash_of(session_factory, vera.id) is None


def test_simultaneous_activations_with_one_code_let_exactly_one_through(app, client, org, session_factory):
    anna = org["employee_sales_1"]
    code = invited(client, org["hr"], anna)["code"]
    workers = 6
    barrier = threading.Barrier(workers)

    def attempt(index):
        own = app.test_client()
        barrier.wait(timeout=60)
        response = own.post(
            "/api/v1/auth/activate", json={"code": code, "password": f"{GOOD_PASSWORD} {index}"}
        )
        return response.status_code, response.json

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(attempt, range(workers)))

    assert sorted(status for status, _ in results) == [200] + [409] * (workers - 1), results
    winner = next(i for i, (status, _) in enumerate(results) if status == 200)
    signed_in = client.post(
        "/api/v1/auth/token", json={"email": anna.email, "password": f"{GOOD_PASSWORD} {winner}"}
    )
    assert signed_in.status_code == 201
    with session_scope(session_factory) as s:
        activations = s.scalars(select(AuditEvent).where(AuditEvent.action == "user.activated")).all()
        assert len(activations) == 1


# --- the same activation on the web page ----------------------------------------------------


def csrf_from(page_html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page_html).group(1)


def test_the_web_page_activates_with_the_code(client, org, session_factory):
    anna = org["employee_sales_1"]
    code = invited(client, org["hr"], anna)["code"]
    page = client.get("/activate")
    assert page.status_code == 200
    form = {"code": code, "password": GOOD_PASSWORD, "password_again": GOOD_PASSWORD}

    refused = client.post("/activate", data=form)
    assert refused.status_code == 403
    assert "CSRF token missing or wrong" in refused.get_data(as_text=True)
    assert password_hash_of(session_factory, anna.id) is None

    done = client.post("/activate", data={**form, "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert done.status_code == 302
    assert done.headers["Location"] == "/login?activated=1"
    assert "Your password is set" in client.get("/login?activated=1").get_data(as_text=True)
    assert password_hash_of(session_factory, anna.id).startswith("$argon2id$")


def test_the_web_page_shows_what_is_wrong(client, org, session_factory):
    anna = org["employee_sales_1"]
    code = invited(client, org["hr"], anna)["code"]
    token = csrf_from(client.get("/activate").get_data(as_text=True))

    differ = client.post(
        "/activate",
        data={"code": code, "password": GOOD_PASSWORD, "password_again": "x", "csrf_token": token},
    )
    assert differ.status_code == 422
    assert "the two passwords differ" in differ.get_data(as_text=True)

    short = client.post(
        "/activate", data={"code": code, "password": "short", "password_again": "short", "csrf_token": token}
    )
    assert short.status_code == 422
    assert "at least 10 characters" in short.get_data(as_text=True)
    assert password_hash_of(session_factory, anna.id) is None


def test_the_cli_invites_too(client, org, database_url, monkeypatch, capsys):
    from api.cli import main

    monkeypatch.setenv("APPROUTE_DATABASE_URL", database_url)
    assert main(["users", "invite", "--email", org["employee_ops_1"].email]) == 0
    code = capsys.readouterr().out.strip().splitlines()[-1]
    assert activate(client, code).status_code == 200
    assert main(["users", "invite", "--email", "nobody@demo.approute.test"]) == 1
    assert "no user has this e-mail address" in capsys.readouterr().err
