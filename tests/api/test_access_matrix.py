"""Every endpoint × every role × own, a report's and someone else's request: the status, and no leaks.

The table below is the access policy written down once. ``test_every_endpoint_is_in_the_table``
fails when the app gains an endpoint the table does not cover, so none slips in untested.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from engine import clock
from engine.db import session_scope
from engine.models import LeaveScheduleNotice, User
from engine.services import notifications
from engine.services.coordinators import set_coordinator
from engine.services.credentials import hash_password
from engine.services.definitions import deploy_bundle
from tests.api import document_calls
from tests.api.helpers import LEAVE, assert_error, leave_bundle, upload

ROLES = ("employee", "manager", "hr", "designer", "admin")
# Who plays each role: the manager heads employee_sales_1, whose request is "a report's".
PLAYERS = {"employee": "employee_sales_1", "manager": "manager_sales", "hr": "hr", "designer": "designer"}
REPORT_OF = {"manager": "employee_sales_1"}
OTHER = "employee_ops_1"  # outside every player's line (everyone's but the director's)

LISTED, HIDDEN = "listed", "hidden"  # for lists: 200, and the object is in it or not


@dataclass(frozen=True)
class Target:
    """The request an endpoint is called about, and what must not leak about it."""

    instance_id: str
    task_id: str
    initiator_email: str


@dataclass(frozen=True)
class Endpoint:
    """One (method, rule) of the app, how to call it, and what each role gets.

    ``expect`` maps a role to one status (endpoints not about a request) or to
    (own, report's, other's) for endpoints about one; the report column applies to the manager only.
    """

    method: str
    rule: str
    call: Callable
    expect: dict[str, object] = field(default_factory=dict)
    public: bool = False
    anonymous: int = 401  # what a caller without credentials gets

    @property
    def about_a_request(self) -> bool:
        return isinstance(next(iter(self.expect.values())), tuple)


def _get(path: str) -> Callable:
    return lambda client, headers, t: client.get(path.format(t=t), headers=headers)


def _post(path: str, body: dict | None = None) -> Callable:
    return lambda client, headers, t: client.post(path.format(t=t), json=body or {}, headers=headers)


def _deploy(client, headers, _target):
    return upload(client, SimpleNamespace(headers=headers), {**leave_bundle(), "matrix.json": b"{}"})


def _every(status) -> dict[str, object]:
    return dict.fromkeys(ROLES, status)


def _put_away(client, headers, _target):
    # The director stands in: every player is someone else, so no one names themself.
    today = clock.today()
    body = {"substitute_email": "director@demo.approute.test", "from": str(today), "to": str(today)}
    return client.put("/api/v1/users/me/away", json=body, headers=headers)


def _away_then(call: Callable) -> Callable:
    def away_then(client, headers, target):
        if headers:  # an anonymous caller has no period to set; the call itself is what is checked
            assert _put_away(client, headers, target).status_code == 200
        return call(client, headers, target)

    return away_then


def _hold_then_release(client, headers, target):
    # The same caller sets the hold first; for callers who may not, both calls are refused alike.
    client.post(
        f"/api/v1/instances/{target.instance_id}/legal-hold", json={"reason": "audit"}, headers=headers
    )
    return client.delete(f"/api/v1/instances/{target.instance_id}/legal-hold", headers=headers)


def _delete_coordinator(client, headers, _target):
    return client.delete("/api/v1/coordinators/leave_request", headers=headers)


DMN_ROUTE = {
    name: (Path(__file__).resolve().parents[1] / "bundles" / "dmn" / name).read_bytes()
    for name in ("bonus_route.bpmn", "bonus_rules.dmn")
}


def _with_dmn_route(call: Callable) -> Callable:
    # The DMN decisions endpoints need a deployed decision: the test bundle's, put in directly.
    def with_dmn_route(client, headers, target):
        with session_scope(client.application.extensions["approute.sessions"]) as s:
            deploy_bundle(s, DMN_ROUTE, actor=None)
        return call(client, headers, target)

    return with_dmn_route


def _own(client, headers, what: str) -> int:
    """The id of a notification or leave-schedule notice made for the caller (any id for no caller)."""
    if not headers:
        return 987654
    email = client.get("/api/v1/users/me", headers=headers).json["email"]
    with session_scope(client.application.extensions["approute.sessions"]) as s:
        user = s.scalar(select(User).where(User.email == email))
        if what == "notification":
            return notifications.notify(s, user.id, "task_reminder", {"task_name": "matrix"}).id
        notice = LeaveScheduleNotice(
            user_id=user.id, start=date(2031, 7, 14), days=14, notice_due=date(2031, 6, 30), may_move=False
        )
        s.add(notice)
        s.flush()
        return notice.id


def _put_dmn(client, headers, _target):
    headers = {**headers, "Content-Type": "application/xml", "If-Match": '"approver-v0"'}
    return client.put("/api/v1/decisions/approver", data=DMN_ROUTE["bonus_rules.dmn"], headers=headers)


APPROVE = {"data": {"manager_decision": "approve"}}
N = None  # no such column for this role

TABLE = [
    Endpoint("GET", "/api/v1/openapi.json", _get("/api/v1/openapi.json"), _every(200), True, 200),
    # Sign-in is public. A made-up activation code or password is refused the same for everyone.
    Endpoint(
        "POST",
        "/api/v1/auth/activate",
        _post("/api/v1/auth/activate", {"code": "not-a-real-code", "password": "Long enough pass 1"}),
        _every(422),
        True,
        422,
    ),
    Endpoint(
        "POST",
        "/api/v1/auth/token",
        _post("/api/v1/auth/token", {"email": "vera@demo.approute.test", "password": "wrong password"}),
        _every(401),
        True,
        401,
    ),
    Endpoint("GET", "/api/v1/auth/session", _get("/api/v1/auth/session"), _every(200)),
    Endpoint(
        "POST",
        "/api/v1/invitations",
        _post("/api/v1/invitations", {"email": "vera@demo.approute.test"}),
        {"employee": 403, "manager": 403, "hr": 201, "designer": 403, "admin": 201},
    ),
    # Definitions are not personal data: everyone sees them; designers and admins deploy.
    Endpoint("GET", "/api/v1/definitions", _get("/api/v1/definitions"), _every(200)),
    Endpoint(
        "POST",
        "/api/v1/definitions",
        _deploy,
        {"employee": 403, "manager": 403, "hr": 403, "designer": 201, "admin": 201},
    ),
    Endpoint(
        "GET", "/api/v1/definitions/<string:key>", _get("/api/v1/definitions/leave_request"), _every(200)
    ),
    Endpoint(
        "POST",
        "/api/v1/definitions/<string:key>/instances",
        _post("/api/v1/definitions/leave_request/instances", {"data": LEAVE}),
        _every(201),
    ),
    # The organisation: everyone sees the department tree; HR and admins change it and import staff.
    Endpoint("GET", "/api/v1/departments", _get("/api/v1/departments"), _every(200)),
    Endpoint(
        "PUT",
        "/api/v1/departments/<string:code>",
        lambda client, headers, _t: client.put(
            "/api/v1/departments/SALES", json={"name": "Sales"}, headers=headers
        ),
        {"employee": 403, "manager": 403, "hr": 200, "designer": 403, "admin": 200},
    ),
    Endpoint(
        "POST",
        "/api/v1/staff/import",
        # No file: HR and admins get past the role check to the 422 (a real file would dismiss
        # everyone it does not list, the demo organisation included).
        lambda client, headers, _t: client.post(
            "/api/v1/staff/import", data={}, content_type="multipart/form-data", headers=headers
        ),
        {"employee": 403, "manager": 403, "hr": 422, "designer": 403, "admin": 422},
    ),
    # Requests. Columns: own, a report's, someone else's.
    Endpoint(
        "GET",
        "/api/v1/instances",
        _get("/api/v1/instances"),
        {
            "employee": (LISTED, N, HIDDEN),
            "manager": (LISTED, LISTED, HIDDEN),
            "hr": (LISTED, N, LISTED),
            "designer": (LISTED, N, HIDDEN),
            "admin": (LISTED, N, LISTED),
        },
    ),
    Endpoint(
        "GET",
        "/api/v1/instances/<uuid:instance_id>",
        _get("/api/v1/instances/{t.instance_id}"),
        {
            "employee": (200, N, 404),
            "manager": (200, 200, 404),
            "hr": (200, N, 200),
            "designer": (200, N, 404),
            "admin": (200, N, 200),
        },
    ),
    Endpoint(
        "GET",
        "/api/v1/instances/<uuid:instance_id>/history",
        _get("/api/v1/instances/{t.instance_id}/history"),
        {
            "employee": (200, N, 404),
            "manager": (200, 200, 404),
            "hr": (200, N, 200),
            "designer": (200, N, 404),
            "admin": (200, N, 200),
        },
    ),
    Endpoint(
        "POST",
        "/api/v1/instances/<uuid:instance_id>/cancel",
        _post("/api/v1/instances/{t.instance_id}/cancel"),
        {
            "employee": (200, N, 404),
            "manager": (200, 403, 404),  # sees a report's request, may not withdraw it
            "hr": (200, N, 403),
            "designer": (200, N, 404),
            "admin": (200, N, 200),
        },
    ),
    # Tasks: the manager's approval task of that request (the request's initiator's manager holds it).
    Endpoint(
        "GET",
        "/api/v1/tasks",
        _get("/api/v1/tasks"),
        {
            "employee": (HIDDEN, N, HIDDEN),
            "manager": (HIDDEN, LISTED, HIDDEN),  # the inbox: what one may act on now
            "hr": (HIDDEN, N, HIDDEN),
            "designer": (HIDDEN, N, HIDDEN),
            "admin": (HIDDEN, N, HIDDEN),
        },
    ),
    Endpoint(
        "GET",
        "/api/v1/tasks/<uuid:task_id>",
        _get("/api/v1/tasks/{t.task_id}"),
        {
            "employee": (200, N, 404),
            "manager": (200, 200, 404),
            "hr": (200, N, 200),
            "designer": (200, N, 404),
            "admin": (200, N, 200),
        },
    ),
    Endpoint(
        "POST",
        "/api/v1/tasks/<uuid:task_id>/claim",
        _post("/api/v1/tasks/{t.task_id}/claim"),
        {  # 409: one may see the task, and it is already assigned to someone else
            "employee": (409, N, 404),
            "manager": (409, 200, 404),
            "hr": (409, N, 409),
            "designer": (409, N, 404),
            "admin": (409, N, 409),
        },
    ),
    Endpoint(
        "POST",
        "/api/v1/tasks/<uuid:task_id>/complete",
        _post("/api/v1/tasks/{t.task_id}/complete", APPROVE),
        {
            "employee": (403, N, 404),
            "manager": (403, 200, 404),
            "hr": (403, N, 403),
            "designer": (403, N, 404),
            "admin": (403, N, 403),
        },
    ),
    # The caller's own profile and out-of-office period: everyone, about themselves only.
    Endpoint("GET", "/api/v1/users/me", _get("/api/v1/users/me"), _every(200)),
    Endpoint("GET", "/api/v1/users/me/away", _away_then(_get("/api/v1/users/me/away")), _every(200)),
    Endpoint("PUT", "/api/v1/users/me/away", _put_away, _every(200)),
    Endpoint(
        "DELETE",
        "/api/v1/users/me/away",
        _away_then(lambda client, headers, _t: client.delete("/api/v1/users/me/away", headers=headers)),
        _every(204),
    ),
    # A person's facts and leave balances (about employee_sales_1, the employee player herself and the
    # manager's report): the person, their managers up the line, HR and admins; others get 404.
    Endpoint(
        "GET",
        "/api/v1/users/<string:email>",
        _get("/api/v1/users/anna@demo.approute.test"),
        {"employee": 200, "manager": 200, "hr": 200, "designer": 404, "admin": 200},
    ),
    Endpoint(
        "PATCH",
        "/api/v1/users/<string:email>",
        lambda client, headers, _t: client.patch(
            "/api/v1/users/anna@demo.approute.test", json={"shift_worker": True}, headers=headers
        ),
        {"employee": 403, "manager": 403, "hr": 200, "designer": 403, "admin": 200},
    ),
    Endpoint(
        "GET",
        "/api/v1/leave/balance",
        _get("/api/v1/leave/balance?email=anna@demo.approute.test"),
        {"employee": 200, "manager": 200, "hr": 200, "designer": 404, "admin": 200},
    ),
    Endpoint(
        "POST",
        "/api/v1/leave/ledger",
        _post(
            "/api/v1/leave/ledger",
            {"email": "anna@demo.approute.test", "leave_type": "annual", "days": 2, "reason": "matrix"},
        ),
        {"employee": 403, "manager": 403, "hr": 201, "designer": 403, "admin": 201},
    ),
    # Coordinators: everyone may see who receives a kind of request; HR and admins name them.
    Endpoint("GET", "/api/v1/coordinators", _get("/api/v1/coordinators"), _every(200)),
    Endpoint(
        "PUT",
        "/api/v1/coordinators/<string:request_type>",
        lambda client, headers, _t: client.put(
            "/api/v1/coordinators/leave_request", json={"email": "hr@demo.approute.test"}, headers=headers
        ),
        {"employee": 403, "manager": 403, "hr": 200, "designer": 403, "admin": 200},
    ),
    Endpoint(
        "DELETE",
        "/api/v1/coordinators/<string:request_type>",
        _delete_coordinator,  # the people fixture names one first
        {"employee": 403, "manager": 403, "hr": 204, "designer": 403, "admin": 204},
    ),
    # The audit trail: admins verify the chain; HR and admins export a request's trail.
    Endpoint(
        "GET",
        "/api/v1/audit/verify",
        _get("/api/v1/audit/verify"),
        {"employee": 403, "manager": 403, "hr": 403, "designer": 403, "admin": 200},
    ),
    Endpoint(
        "GET",
        "/api/v1/audit/export.csv",
        _get("/api/v1/audit/export.csv?instance_id={t.instance_id}"),
        {
            "employee": (403, N, 403),
            "manager": (403, 403, 403),
            "hr": (200, N, 200),
            "designer": (403, N, 403),
            "admin": (200, N, 200),
        },
    ),
    # Retention and legal hold belong to HR and admins; the role check comes before the look-up, so
    # the 403 says nothing about whether the request exists.
    Endpoint(
        "GET",
        "/api/v1/retention",
        _get("/api/v1/retention"),
        {"employee": 403, "manager": 403, "hr": 200, "designer": 403, "admin": 200},
    ),
    Endpoint(
        "PUT",
        "/api/v1/retention/<string:key>",
        lambda client, headers, _t: client.put(
            "/api/v1/retention/leave_request", json={"retention_class": "personnel-50y"}, headers=headers
        ),
        {"employee": 403, "manager": 403, "hr": 200, "designer": 403, "admin": 200},
    ),
    Endpoint(
        "POST",
        "/api/v1/instances/<uuid:instance_id>/legal-hold",
        _post("/api/v1/instances/{t.instance_id}/legal-hold", {"reason": "court request 12/2026"}),
        {
            "employee": (403, N, 403),
            "manager": (403, 403, 403),
            "hr": (200, N, 200),
            "designer": (403, N, 403),
            "admin": (200, N, 200),
        },
    ),
    Endpoint(
        "DELETE",
        "/api/v1/instances/<uuid:instance_id>/legal-hold",
        _hold_then_release,
        {
            "employee": (403, N, 403),
            "manager": (403, 403, 403),
            "hr": (200, N, 200),
            "designer": (403, N, 403),
            "admin": (200, N, 200),
        },
    ),
    # Rule tables: staff read every table, employees only the ones about their own requests (not
    # department limits); HR and admins change them (with If-Match). Decisions: as the request.
    Endpoint("GET", "/api/v1/rule-tables", _get("/api/v1/rule-tables"), _every(200)),
    Endpoint(
        "GET",
        "/api/v1/rule-tables/<string:name>",
        _get("/api/v1/rule-tables/department_limits"),
        {**_every(200), "employee": 403},
    ),
    Endpoint(
        "PUT",
        "/api/v1/rule-tables/<string:name>",
        lambda client, headers, _t: client.put(
            "/api/v1/rule-tables/department_limits",
            json={"rows": [{"department": "*", "max_share": 0.3, "mode": "block"}]},
            headers={**headers, "If-Match": '"department_limits-v0"'},
        ),
        {"employee": 403, "manager": 403, "hr": 200, "designer": 403, "admin": 200},
    ),
    Endpoint(
        "GET",
        "/api/v1/rule-tables/<string:name>/versions",
        _get("/api/v1/rule-tables/department_limits/versions"),
        {**_every(200), "employee": 403},
    ),
    Endpoint(
        "GET",
        "/api/v1/rule-tables/<string:name>/versions/<int:version>",
        _get("/api/v1/rule-tables/department_limits/versions/0"),
        {**_every(200), "employee": 403},
    ),
    Endpoint(
        "GET",
        "/api/v1/instances/<uuid:instance_id>/decisions",
        _get("/api/v1/instances/{t.instance_id}/decisions"),
        {
            "employee": (200, N, 404),
            "manager": (200, 200, 404),
            "hr": (200, N, 200),
            "designer": (200, N, 404),
            "admin": (200, N, 200),
        },
    ),
    # DMN decisions: HR and admins edit them; designers (who build the routes) read and try them.
    Endpoint(
        "GET",
        "/api/v1/decisions",
        _get("/api/v1/decisions"),
        {**_every(403), "hr": 200, "designer": 200, "admin": 200},
    ),
    Endpoint(
        "GET",
        "/api/v1/decisions/<string:decision_id>",
        _with_dmn_route(_get("/api/v1/decisions/approver")),
        {**_every(403), "hr": 200, "designer": 200, "admin": 200},
    ),
    Endpoint(
        "PUT",
        "/api/v1/decisions/<string:decision_id>",
        _with_dmn_route(_put_dmn),
        {**_every(403), "hr": 200, "admin": 200},
    ),
    Endpoint(
        "GET",
        "/api/v1/decisions/<string:decision_id>/versions",
        _with_dmn_route(_get("/api/v1/decisions/approver/versions")),
        {**_every(403), "hr": 200, "designer": 200, "admin": 200},
    ),
    Endpoint(
        "POST",
        "/api/v1/decisions/<string:decision_id>/evaluate",
        _with_dmn_route(_post("/api/v1/decisions/approver/evaluate", {"inputs": {"amount": 1}})),
        {**_every(403), "hr": 200, "designer": 200, "admin": 200},
    ),
    # Anyone who may start a request may preview its route.
    Endpoint(
        "GET",
        "/api/v1/definitions/<string:key>/route-preview",
        lambda client, headers, _t: client.get(
            "/api/v1/definitions/leave_request/route-preview",
            query_string={"data": json.dumps(LEAVE)},
            headers=headers,
        ),
        _every(200),
    ),
    # -- incidents (service tasks that failed for good) --
    # HR and admins only; an unknown incident is 404 to them and 403 to everyone else.
    Endpoint("GET", "/api/v1/incidents", _get("/api/v1/incidents"), {**_every(403), "hr": 200, "admin": 200}),
    Endpoint(
        "GET",
        "/api/v1/incidents/<int:incident_id>",
        _get("/api/v1/incidents/987654"),
        {**_every(403), "hr": 404, "admin": 404},
    ),
    Endpoint(
        "POST",
        "/api/v1/incidents/<int:incident_id>/retry",
        _post("/api/v1/incidents/987654/retry"),
        {**_every(403), "hr": 404, "admin": 404},
    ),
    Endpoint(
        "POST",
        "/api/v1/incidents/<int:incident_id>/skip",
        _post("/api/v1/incidents/987654/skip", {"data": {}}),
        {**_every(403), "hr": 404, "admin": 404},
    ),
    Endpoint(
        "POST",
        "/api/v1/incidents/<int:incident_id>/cancel",
        _post("/api/v1/incidents/987654/cancel"),
        {**_every(403), "hr": 404, "admin": 404},
    ),
    # -- notifications --
    # Each caller's own notifications and leave-schedule notices; the language of their own profile.
    Endpoint("GET", "/api/v1/notifications", _get("/api/v1/notifications"), _every(200)),
    Endpoint(
        "POST",
        "/api/v1/notifications/<int:notification_id>/read",
        lambda client, headers, _t: client.post(
            f"/api/v1/notifications/{_own(client, headers, 'notification')}/read", headers=headers
        ),
        _every(200),
    ),
    Endpoint("POST", "/api/v1/notifications/read-all", _post("/api/v1/notifications/read-all"), _every(200)),
    Endpoint(
        "PATCH",
        "/api/v1/users/me",
        lambda client, headers, _t: client.patch(
            "/api/v1/users/me", json={"language": "en"}, headers=headers
        ),
        _every(200),
    ),
    Endpoint("GET", "/api/v1/leave/schedule/notices", _get("/api/v1/leave/schedule/notices"), _every(200)),
    Endpoint(
        "POST",
        "/api/v1/leave/schedule/notices/<int:notice_id>/acknowledge",
        lambda client, headers, _t: client.post(
            f"/api/v1/leave/schedule/notices/{_own(client, headers, 'notice')}/acknowledge", headers=headers
        ),
        _every(200),
    ),
    # -- documents of an instance --
    # The list shows to whoever sees the request; the bytes to its subject, HR, admins and the
    # uploader (a line manager sees that a certificate exists, not its salary line, C-04).
    Endpoint(
        "GET",
        "/api/v1/instances/<uuid:instance_id>/documents",
        _get("/api/v1/instances/{t.instance_id}/documents"),
        {
            "employee": (200, N, 404),
            "manager": (200, 200, 404),
            "hr": (200, N, 200),
            "designer": (200, N, 404),
            "admin": (200, N, 200),
        },
    ),
    Endpoint(
        "GET",
        "/api/v1/instances/<uuid:instance_id>/documents/<uuid:document_id>",
        document_calls.download_document,
        {
            "employee": (200, N, 404),
            "manager": (200, 404, 404),
            "hr": (200, N, 200),
            "designer": (200, N, 404),
            "admin": (200, N, 200),
        },
    ),
    Endpoint(
        "POST",
        "/api/v1/instances/<uuid:instance_id>/documents",
        document_calls.upload_document,
        {
            "employee": (201, N, 404),
            "manager": (201, 403, 404),
            "hr": (201, N, 201),
            "designer": (201, N, 404),
            "admin": (201, N, 201),
        },
    ),
    # -- accreditation and mandatory training status (a person's, as the person's facts) --
    # Asked about someone outside every player's line: HR and admins see them, others get 404.
    Endpoint(
        "GET",
        "/api/v1/accreditation/status",
        _get("/api/v1/accreditation/status?email=vera@demo.approute.test"),
        {**_every(404), "hr": 200, "admin": 200},
    ),
]

# Endpoints that exist but this table does not cover yet, each with the reason. Keep it short:
# the lead engineer finishes these as the helpers building them land their work.
# The web UI (admin_ui) is reached with the session cookie, not bearer tokens: its pages are in
# WEB_PAGES below, with what a caller without a session gets.
NOT_YET_COVERED: set[tuple[str, str]] = set()

WEB_PAGES = {
    # (method, rule): status for a caller without a session
    ("GET", "/"): 302,  # to the sign-in form
    ("GET", "/login"): 200,
    ("POST", "/login"): 403,  # no CSRF token
    ("POST", "/logout"): 403,  # no CSRF token
    ("GET", "/activate"): 200,
    ("POST", "/activate"): 403,  # no CSRF token
    ("GET", "/auth/oidc/login"): 404,  # OpenID Connect is not configured in this app
    ("GET", "/auth/oidc/callback"): 404,
}

# Not part of the API: Flask's static files.
NOT_ENDPOINTS = {("GET", "/static/<path:filename>")}


def _rules(app) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            found.add((method, rule.rule))
    return found - NOT_ENDPOINTS


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


# -- the table covers the app ---------------------------------------------------------------------


def test_every_endpoint_is_in_the_table(app):
    covered = {(e.method, e.rule) for e in TABLE}
    assert len(covered) == len(TABLE), "an endpoint is in the table twice"
    covered |= set(WEB_PAGES)
    missing = _rules(app) - covered - NOT_YET_COVERED
    assert not missing, f"add these endpoints to TABLE in {__name__}: {sorted(missing)}"
    stale = (covered | NOT_YET_COVERED) - _rules(app)
    assert not stale, f"the table names endpoints the app does not have: {sorted(stale)}"
    assert not covered & NOT_YET_COVERED, "an endpoint is both covered and not yet covered"


def test_every_documented_operation_is_in_the_table(client, org):
    document = client.get("/api/v1/openapi.json").json
    documented = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    }
    known = {(m, _openapi_path(r)) for m, r in {(e.method, e.rule) for e in TABLE} | NOT_YET_COVERED}
    assert documented <= known, sorted(documented - known)


# -- callers without credentials ------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", TABLE, ids=lambda e: f"{e.method} {e.rule}")
def test_without_a_token_only_public_endpoints_answer(client, org, leave_definition, endpoint):
    target = Target(str(uuid.uuid4()), str(uuid.uuid4()), "")
    response = endpoint.call(client, {}, target)
    assert response.status_code == endpoint.anonymous, response.get_data(as_text=True)
    if not endpoint.public:
        assert "bearer token" in assert_error(response, 401)["message"]
    elif response.status_code == 401:
        assert "bearer token" not in response.json["message"]  # refused by sign-in, not by the gate


# -- each role -------------------------------------------------------------------------------------


@pytest.fixture
def people(org, make_person, session_factory):
    """Role → the person playing it. The admin has a line manager so their own request can route.

    HR has named a coordinator for leave requests, so that removing one has something to remove.
    """
    cast = {role: org[key] for role, key in PLAYERS.items()}
    cast["admin"] = make_person("matrix-admin", "admin", manager_email=org["director"].email)
    with session_scope(session_factory) as s:
        hr = s.get(User, org["hr"].id)
        set_coordinator(s, request_type="leave_request", email=org["hr"].email, actor=hr)
    return cast


def _request_of(client, person) -> Target:
    response = client.post(
        "/api/v1/definitions/leave_request/instances", json={"data": LEAVE}, headers=person.headers
    )
    assert response.status_code == 201, response.json
    body = response.json
    return Target(body["id"], body["open_tasks"][0]["id"], person.email)


CASES = [(e, role) for e in TABLE for role in ROLES]


@pytest.mark.parametrize(
    ("endpoint", "role"), CASES, ids=[f"{e.method} {e.rule} as {role}" for e, role in CASES]
)
def test_access(client, org, people, leave_definition, endpoint, role):
    caller = people[role]
    expected = endpoint.expect[role]
    if not endpoint.about_a_request:
        response = endpoint.call(client, caller.headers, None)
        assert response.status_code == expected, response.get_data(as_text=True)
        return
    owners = {"own": caller, "report": org.get(REPORT_OF.get(role, "")), "other": org[OTHER]}
    for (owner, person), want in zip(owners.items(), expected, strict=True):
        if want is None:
            continue
        # A fresh request per column, so that one column's cancel or completion cannot change another's.
        target = _request_of(client, person)
        response = endpoint.call(client, caller.headers, target)
        _check(client, endpoint, caller, target, response, want, f"{role} on {owner}'s request")


def _check(client, endpoint, caller, target, response, want, label):
    text = response.get_data(as_text=True)
    if want in (LISTED, HIDDEN):
        assert response.status_code == 200, (label, text)
        ids = {row["instance_id" if "tasks" in endpoint.rule else "id"] for row in response.json}
        assert (target.instance_id in ids) == (want == LISTED), label
        if want == HIDDEN:
            assert target.instance_id not in text and target.task_id not in text, label
            if target.initiator_email != caller.email:
                assert target.initiator_email not in text, label
        return
    assert response.status_code == want, (label, text)
    if want == 404:
        # Not one bit more than for an id that does not exist.
        unknown = Target(str(uuid.uuid4()), str(uuid.uuid4()), "")
        missing = endpoint.call(client, caller.headers, unknown).json
        for real, fake in ((target.instance_id, unknown.instance_id), (target.task_id, unknown.task_id)):
            missing["message"] = missing["message"].replace(fake, real)
        assert response.json == missing, label
    if want in (403, 404, 409):
        if target.initiator_email != caller.email:
            assert target.initiator_email not in text, label
        assert LEAVE["comment"] not in text, label


# -- the web pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "rule"), sorted(WEB_PAGES), ids=lambda v: str(v))
def test_web_pages_without_a_session(client, org, method, rule):
    response = client.open(rule, method=method)
    assert response.status_code == WEB_PAGES[(method, rule)], response.get_data(as_text=True)
    if rule == "/":
        assert response.headers["Location"].endswith("/login")
    text = response.get_data(as_text=True)
    assert not any(person.email in text for person in org.values())


@pytest.mark.parametrize("role", ROLES)
def test_each_role_signed_in_on_the_web_sees_only_their_own_name(client, org, people, session_factory, role):
    caller = people[role]
    with session_scope(session_factory) as s:
        user = s.get(User, caller.id)
        user.password_hash = hash_password("matrix passphrase 2026")
        name = user.name
        others = [u.name for u in s.scalars(select(User).where(User.id != caller.id))]
    form = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    signed_in = client.post(
        "/login", data={"email": caller.email, "password": "matrix passphrase 2026", "csrf_token": csrf}
    )
    assert signed_in.status_code == 302

    home = client.get("/")
    assert home.status_code == 200
    text = home.get_data(as_text=True)
    assert name in text
    assert not [other for other in others if other in text]
