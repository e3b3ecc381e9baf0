"""Sign-in through OpenID Connect, against a fake provider that the tests run on loopback."""

from __future__ import annotations

import time
import urllib.parse

import pytest
from sqlalchemy import func, select

from engine.db import session_scope
from engine.models import AuditEvent, User
from tests.fake_oidc import CLIENT_ID, CLIENT_SECRET, FakeProvider, new_rsa_key, visit_authorize


@pytest.fixture(scope="module")
def provider():
    fake = FakeProvider().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def _oidc_app(database_url, provider):
    from api import create_app

    app = create_app(
        {
            "APPROUTE_DATABASE_URL": database_url,
            "APPROUTE_OIDC_ISSUER": provider.issuer,
            "APPROUTE_OIDC_CLIENT_ID": CLIENT_ID,
            "APPROUTE_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "TESTING": True,
        }
    )
    yield app
    app.extensions["approute.engine"].dispose()


@pytest.fixture
def web(_oidc_app, session_factory, provider):
    """A browser (test client with a cookie jar) on an app with OpenID Connect configured."""
    provider.reset()
    return _oidc_app.test_client()


def sign_in_via_provider(web, provider):
    """Walk the redirects: approute → provider /authorize → approute callback; returns the last answer."""
    start = web.get("/auth/oidc/login")
    assert start.status_code == 302, start.get_data(as_text=True)
    target = start.headers["Location"]
    assert target.startswith(f"{provider.issuer}/authorize?")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["state"][0] and query["nonce"][0]
    back = urllib.parse.urlsplit(visit_authorize(target))
    assert back.path == "/auth/oidc/callback"
    return web.get(f"{back.path}?{back.query}")


def roles_of(session_factory, user_id: int) -> list[str]:
    with session_scope(session_factory) as s:
        return sorted(s.get(User, user_id).roles)


def test_a_known_person_signs_in_and_the_session_works_on_the_api(web, provider, org):
    anna = org["employee_sales_1"]
    provider.reset(email=anna.email, email_verified=True)

    answer = sign_in_via_provider(web, provider)

    assert answer.status_code == 302
    assert answer.headers["Location"] == "/"
    assert "Signed in as Анна Иванова" in web.get("/").get_data(as_text=True)
    tasks = web.get("/api/v1/tasks")
    assert tasks.status_code == 200, tasks.json
    assert web.get("/api/v1/auth/session").json["email"] == anna.email
    # The code was exchanged with the client's secret and the PKCE verifier (the provider checks both).
    (exchange,) = provider.token_requests
    assert exchange["grant_type"] == "authorization_code"
    assert len(exchange["code_verifier"]) >= 43


def test_the_roles_claim_sets_known_roles_and_keeps_manager_for_someone_with_reports(
    web, provider, org, session_factory
):
    head = org["manager_sales"]
    provider.reset(email=head.email, roles=["designer", "superuser"])

    assert sign_in_via_provider(web, provider).status_code == 302

    assert roles_of(session_factory, head.id) == ["designer", "manager"]
    with session_scope(session_factory) as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "user.roles_synced")).one()
        assert event.actor_id == head.id
        assert event.details["after"] == ["designer", "manager"]
        assert head.email not in str(event.details)


def test_without_a_roles_claim_the_roles_stay(web, provider, org, session_factory):
    hr = org["hr"]
    provider.reset(email=hr.email)
    assert sign_in_via_provider(web, provider).status_code == 302
    assert roles_of(session_factory, hr.id) == ["employee", "hr"]


def test_a_configured_roles_claim_name_is_used(database_url, provider, org, session_factory):
    from api import create_app

    app = create_app(
        {
            "APPROUTE_DATABASE_URL": database_url,
            "APPROUTE_OIDC_ISSUER": provider.issuer,
            "APPROUTE_OIDC_CLIENT_ID": CLIENT_ID,
            "APPROUTE_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "APPROUTE_OIDC_ROLES_CLAIM": "groups",
        }
    )
    try:
        boris = org["employee_sales_2"]
        provider.reset(email=boris.email, roles=["admin"], groups=["hr"])
        assert sign_in_via_provider(app.test_client(), provider).status_code == 302
        assert roles_of(session_factory, boris.id) == ["hr"]
    finally:
        app.extensions["approute.engine"].dispose()


def _expired(provider):
    provider.overrides = {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}


REFUSALS = {
    "wrong nonce": (lambda p: p.overrides.update(nonce="someone-elses-nonce"), "nonce does not match"),
    "wrong audience": (lambda p: p.overrides.update(aud="another-app"), "another application"),
    "wrong issuer": (lambda p: p.overrides.update(iss="https://evil.example"), "another provider"),
    "expired token": (_expired, "expired"),
    "bad signature": (lambda p: setattr(p, "signing_key", new_rsa_key()), "not valid"),
    "wrong state": (lambda p: setattr(p, "state_override", "forged-state"), "state does not match"),
    "unverified e-mail": (lambda p: p.overrides.update(email_verified=False), "not verified"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_a_bad_answer_from_the_provider_is_refused(web, provider, org, case):
    tamper, message = REFUSALS[case]
    provider.reset(email=org["employee_sales_1"].email, roles=["admin"])
    tamper(provider)

    answer = sign_in_via_provider(web, provider)

    assert answer.status_code == 403, answer.get_data(as_text=True)
    assert message in answer.get_data(as_text=True)
    assert web.get("/api/v1/tasks").status_code == 401
    assert web.get("/").headers["Location"] == "/login"


@pytest.mark.parametrize("who", ["stranger", "dismissed"])
def test_no_account_means_no_sign_in_and_none_is_created(web, provider, org, session_factory, who):
    email = "stranger@elsewhere.test"
    if who == "dismissed":
        email = org["employee_ops_2"].email
        with session_scope(session_factory) as s:
            s.get(User, org["employee_ops_2"].id).is_active = False
    with session_scope(session_factory) as s:
        users_before = s.scalar(select(func.count()).select_from(User))
    provider.reset(email=email, roles=["admin"])

    answer = sign_in_via_provider(web, provider)

    assert answer.status_code == 403
    assert "no approute account for this sign-in" in answer.get_data(as_text=True)
    assert web.get("/api/v1/tasks").status_code == 401
    with session_scope(session_factory) as s:
        assert s.scalar(select(func.count()).select_from(User)) == users_before


def test_a_callback_that_was_not_started_here_is_refused(web, provider, org):
    answer = web.get("/auth/oidc/callback?code=abc&state=xyz")
    assert answer.status_code == 400
    assert "not started here" in answer.get_data(as_text=True)


def test_a_refusal_by_the_provider_is_shown(web, provider, org):
    assert web.get("/auth/oidc/login").status_code == 302
    answer = web.get("/auth/oidc/callback?error=access_denied&state=whatever")
    assert answer.status_code == 403
    assert "refused the sign-in (access_denied)" in answer.get_data(as_text=True)


def test_a_code_replayed_after_sign_in_is_refused(web, provider, org):
    provider.reset(email=org["employee_sales_1"].email)
    start = web.get("/auth/oidc/login")
    back = urllib.parse.urlsplit(visit_authorize(start.headers["Location"]))
    assert web.get(f"{back.path}?{back.query}").status_code == 302
    replay = web.get(f"{back.path}?{back.query}")
    assert replay.status_code == 400


def test_the_login_page_offers_the_provider_only_when_configured(web, client, org):
    assert "/auth/oidc/login" in web.get("/login").get_data(as_text=True)
    assert "/auth/oidc/login" not in client.get("/login").get_data(as_text=True)
    assert client.get("/auth/oidc/login").status_code == 404
