"""Password sign-in: API tokens, the web form and its session cookie, CSRF, and the rate limit."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from engine.db import session_scope
from engine.models import SignInAttempt, User
from engine.services.credentials import HASHER, hash_password
from tests.api.helpers import LEAVE, assert_error

PASSWORD = "a long enough passphrase"
WRONG = "not the passphrase at all"


@pytest.fixture
def anna(org, session_factory):
    """employee_sales_1, with PASSWORD set."""
    person = org["employee_sales_1"]
    with session_scope(session_factory) as s:
        s.get(User, person.id).password_hash = hash_password(PASSWORD)
    return person


def token_for(client, email, password):
    return client.post("/api/v1/auth/token", json={"email": email, "password": password})


def attempts(session_factory) -> list[tuple[str, bool]]:
    with session_scope(session_factory) as s:
        rows = s.scalars(select(SignInAttempt).order_by(SignInAttempt.id))
        return [(r.email, r.succeeded) for r in rows]


def csrf_from(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def web_sign_in(client, email, password):
    """Fill in the sign-in form like a browser: GET it (for the CSRF token), then POST it."""
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


# --- API tokens ------------------------------------------------------------------------------


def test_the_right_password_gives_a_working_bearer_token(client, anna, session_factory):
    response = token_for(client, " Anna@Demo.Approute.Test ", PASSWORD)

    assert response.status_code == 201, response.json
    token = response.json["token"]
    assert client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert attempts(session_factory) == [(anna.email, True)]


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(client, anna, session_factory):
    wrong = assert_error(token_for(client, anna.email, WRONG), 401)
    unknown = assert_error(token_for(client, "nobody@demo.approute.test", PASSWORD), 401)

    assert wrong["message"] == unknown["message"] == "wrong e-mail or password"
    assert attempts(session_factory) == [(anna.email, False), ("nobody@demo.approute.test", False)]


def test_a_person_without_a_password_or_dismissed_cannot_sign_in(client, org, anna, session_factory):
    assert_error(token_for(client, org["employee_sales_2"].email, PASSWORD), 401)  # never activated
    with session_scope(session_factory) as s:
        s.get(User, anna.id).is_active = False
    body = assert_error(token_for(client, anna.email, PASSWORD), 401)
    assert body["message"] == "wrong e-mail or password"


def test_missing_fields_are_named(client, org):
    body = assert_error(client.post("/api/v1/auth/token", json={"email": "x@y.test"}), 422)
    assert "password" in body["errors"]["json"]


def test_five_failures_block_the_email_even_for_the_right_password(client, anna, session_factory):
    for _ in range(5):
        assert_error(token_for(client, anna.email, WRONG), 401)

    blocked = token_for(client, anna.email, PASSWORD)

    body = assert_error(blocked, 429)
    assert "too many failed sign-ins" in body["message"]
    assert 1 <= int(blocked.headers["Retry-After"]) <= 15 * 60
    # The blocked try is not an attempt (the password was not checked), so it does not extend the block.
    assert attempts(session_factory) == [(anna.email, False)] * 5
    # Another person is not affected.
    other = anna.email.replace("anna", "boris")
    assert_error(token_for(client, other, WRONG), 401)


def test_the_web_form_is_blocked_too(client, anna):
    for _ in range(5):
        assert_error(token_for(client, anna.email, WRONG), 401)
    page = web_sign_in(client, anna.email, PASSWORD)
    assert page.status_code == 429
    assert int(page.headers["Retry-After"]) >= 1
    assert "too many failed sign-ins" in page.get_data(as_text=True)
    assert client.get("/api/v1/tasks").status_code == 401


def test_twenty_failures_from_one_address_block_it(client, anna):
    for n in range(20):
        assert_error(token_for(client, f"guess{n}@demo.approute.test", WRONG), 401)
    assert_error(token_for(client, anna.email, PASSWORD), 429)


def test_failures_older_than_fifteen_minutes_do_not_count(client, anna, session_factory):
    long_ago = datetime.now(UTC) - timedelta(minutes=16)
    with session_scope(session_factory) as s:
        s.add_all(
            SignInAttempt(email=anna.email, remote_addr="127.0.0.1", at=long_ago, succeeded=False)
            for _ in range(25)
        )
    assert token_for(client, anna.email, PASSWORD).status_code == 201


def test_a_success_clears_the_count_for_the_email(client, anna):
    for _ in range(4):
        assert_error(token_for(client, anna.email, WRONG), 401)
    assert token_for(client, anna.email, PASSWORD).status_code == 201
    for _ in range(4):
        assert_error(token_for(client, anna.email, WRONG), 401)
    assert token_for(client, anna.email, PASSWORD).status_code == 201


def test_an_old_style_hash_is_upgraded_at_sign_in(client, anna, session_factory):
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    with session_scope(session_factory) as s:
        s.get(User, anna.id).password_hash = weak
    assert HASHER.check_needs_rehash(weak)

    assert token_for(client, anna.email, PASSWORD).status_code == 201

    with session_scope(session_factory) as s:
        stored = s.get(User, anna.id).password_hash
    assert stored != weak and stored.startswith("$argon2id$")
    assert not HASHER.check_needs_rehash(stored)
    assert token_for(client, anna.email, PASSWORD).status_code == 201


# --- the web form and its session ------------------------------------------------------------


def test_signing_in_on_the_web_sets_a_safe_cookie_and_the_home_page_names_the_person(client, anna):
    answer = web_sign_in(client, anna.email, PASSWORD)

    assert answer.status_code == 302
    assert answer.headers["Location"] == "/"
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith("approute_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    home = client.get("/").get_data(as_text=True)
    assert "Signed in as Анна Иванова" in home
    assert 'action="/logout"' in home


def test_the_cookie_secure_flag_can_be_turned_off_for_plain_http(database_url, anna):
    from api import create_app

    app = create_app({"APPROUTE_DATABASE_URL": database_url, "APPROUTE_COOKIE_SECURE": "0"})
    try:
        answer = web_sign_in(app.test_client(), anna.email, PASSWORD)
        assert answer.status_code == 302
        assert "Secure" not in answer.headers["Set-Cookie"]
    finally:
        app.extensions["approute.engine"].dispose()


def test_a_wrong_password_on_the_web_says_so_and_signs_nobody_in(client, anna, session_factory):
    page = web_sign_in(client, anna.email, WRONG)
    assert page.status_code == 401
    assert "wrong e-mail or password" in page.get_data(as_text=True)
    assert client.get("/").headers["Location"] == "/login"
    assert attempts(session_factory) == [(anna.email, False)]


def test_the_form_needs_its_csrf_token(client, anna, session_factory):
    client.get("/login")
    for token in (None, "forged"):
        data = {"email": anna.email, "password": PASSWORD}
        if token:
            data["csrf_token"] = token
        page = client.post("/login", data=data)
        assert page.status_code == 403
        assert "CSRF token missing or wrong" in page.get_data(as_text=True)
    assert attempts(session_factory) == []
    assert client.get("/api/v1/tasks").status_code == 401


def test_the_cookie_authenticates_api_reads_and_unsafe_calls_need_the_csrf_header(
    client, anna, leave_definition
):
    assert web_sign_in(client, anna.email, PASSWORD).status_code == 302
    assert client.get("/api/v1/instances").status_code == 200

    start = "/api/v1/definitions/leave_request/instances"
    refused = assert_error(client.post(start, json={"data": LEAVE}), 403)
    assert refused["message"].startswith("CSRF token missing or wrong")
    assert_error(client.post(start, json={"data": LEAVE}, headers={"X-CSRF-Token": "forged"}), 403)
    assert client.get("/api/v1/instances").json == []

    me = client.get("/api/v1/auth/session").json
    assert me["email"] == anna.email and me["roles"] == ["employee"]
    started = client.post(start, json={"data": LEAVE}, headers={"X-CSRF-Token": me["csrf_token"]})
    assert started.status_code == 201, started.json
    assert started.json["status"] == "running"


def test_a_bearer_caller_gets_no_csrf_token(client, anna):
    me = client.get("/api/v1/auth/session", headers=anna.headers).json
    assert me["email"] == anna.email and me["csrf_token"] is None


def test_signing_out_needs_the_token_and_ends_the_session(client, anna):
    web_sign_in(client, anna.email, PASSWORD)
    home = client.get("/").get_data(as_text=True)

    assert client.post("/logout").status_code == 403
    assert client.get("/api/v1/tasks").status_code == 200

    out = client.post("/logout", data={"csrf_token": csrf_from(home)})
    assert out.status_code == 302 and out.headers["Location"] == "/login"
    assert_error(client.get("/api/v1/tasks"), 401)


def test_a_dismissed_person_loses_the_session_at_once(client, anna, session_factory):
    web_sign_in(client, anna.email, PASSWORD)
    with session_scope(session_factory) as s:
        s.get(User, anna.id).is_active = False
    body = assert_error(client.get("/api/v1/tasks"), 401)
    assert "sign in again" in body["message"]
    assert client.get("/").headers["Location"] == "/login"


def test_an_old_session_ends(client, anna):
    web_sign_in(client, anna.email, PASSWORD)
    with client.session_transaction() as session:
        session["since"] -= 13 * 3600
    assert_error(client.get("/api/v1/tasks"), 401)


def test_a_tampered_cookie_is_not_accepted(client, anna):
    answer = web_sign_in(client, anna.email, PASSWORD)
    value = answer.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    client.set_cookie("approute_session", value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert_error(client.get("/api/v1/tasks"), 401)
