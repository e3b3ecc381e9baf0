"""/api/v1/users/me and /me/away: the profile, and naming a substitute while away."""

from __future__ import annotations

from datetime import timedelta

from engine.services import substitutes
from tests.api.helpers import assert_error, complete, field_errors, history, started

ME = "/api/v1/users/me"
AWAY = "/api/v1/users/me/away"


def _period(substitute, starts=0, ends=5) -> dict:
    today = substitutes.today()
    return {
        "substitute_email": substitute.email,
        "from": (today + timedelta(days=starts)).isoformat(),
        "to": (today + timedelta(days=ends)).isoformat(),
    }


def test_me_shows_my_profile(client, org):
    response = client.get(ME, headers=org["employee_sales_1"].headers)

    assert response.status_code == 200, response.json
    assert response.json == {
        "email": org["employee_sales_1"].email,
        "name": "Анна Иванова",
        "roles": ["employee"],
        "department": "SALES",
        "manager_email": org["manager_sales"].email,
        "language": "ru",
        "away": None,
    }


def test_away_needs_a_signed_in_caller(client, org):
    assert_error(client.get(AWAY), 401)
    assert_error(client.put(AWAY, json=_period(org["manager_ops"])), 401)
    assert_error(client.delete(AWAY), 401)


def test_set_show_and_end_an_away_period(client, org):
    marina, oleg = org["manager_sales"], org["manager_ops"]
    assert_error(client.get(AWAY, headers=marina.headers), 404)

    put = client.put(AWAY, json=_period(oleg), headers=marina.headers)
    assert put.status_code == 200, put.json
    assert put.json["substitute"] == {"email": oleg.email, "name": "Олег Сменов"}
    assert put.json["from"] == _period(oleg)["from"]
    assert put.json["active"] is True
    assert client.get(AWAY, headers=marina.headers).json == put.json
    assert client.get(ME, headers=marina.headers).json["away"] == put.json

    assert client.delete(AWAY, headers=marina.headers).status_code == 204
    assert_error(client.get(AWAY, headers=marina.headers), 404)
    assert_error(client.delete(AWAY, headers=marina.headers), 404)


def test_bad_periods_are_refused_per_field(client, org):
    marina = org["manager_sales"]
    cases = [
        ({**_period(org["manager_ops"]), "to": _period(org["manager_ops"], ends=-1)["to"]}, "to"),
        (_period(marina), "substitute_email"),
        (
            {**_period(org["manager_ops"]), "substitute_email": "nobody@demo.approute.test"},
            "substitute_email",
        ),
        ({**_period(org["manager_ops"]), "from": "not a date"}, "from"),
        ({"substitute_email": org["manager_ops"].email}, "from"),
    ]
    for body, field in cases:
        response = client.put(AWAY, json=body, headers=marina.headers)
        errors = assert_error(response, 422)["errors"]
        found = field_errors({"errors": errors}) if isinstance(errors, list) else errors.get("json", {})
        assert field in found, (body, errors)
    assert_error(client.get(AWAY, headers=marina.headers), 404)


def test_a_loop_of_substitutes_is_refused(client, org):
    marina, oleg = org["manager_sales"], org["manager_ops"]
    assert client.put(AWAY, json=_period(oleg), headers=marina.headers).status_code == 200

    body = assert_error(client.put(AWAY, json=_period(marina, starts=2, ends=3), headers=oleg.headers), 422)
    assert "lead back to you" in field_errors(body)["substitute_email"]


def test_the_substitute_approves_and_the_history_says_for_whom(client, org, leave_definition):
    marina, oleg = org["manager_sales"], org["manager_ops"]
    held = started(client, org["employee_sales_1"])["open_tasks"][0]
    assert client.put(AWAY, json=_period(oleg), headers=marina.headers).status_code == 200

    fresh = started(client, org["employee_sales_2"])["open_tasks"][0]
    assert (fresh["assignee"], fresh["on_behalf_of"]) == (oleg.email, marina.email)
    inbox = client.get("/api/v1/tasks", headers=oleg.headers).json
    assert [t["id"] for t in inbox] == [held["id"], fresh["id"]]
    assert client.get(f"/api/v1/tasks/{held['id']}", headers=oleg.headers).status_code == 200
    # ...and may read the request they are asked to decide, while Marina is away.
    request = client.get(f"/api/v1/instances/{held['instance_id']}", headers=oleg.headers)
    assert request.status_code == 200
    assert held["instance_id"] in {
        row["id"] for row in client.get("/api/v1/instances", headers=oleg.headers).json
    }

    done = complete(client, oleg, held["id"], {"manager_decision": "approve"})
    assert done.status_code == 200, done.json
    assert (done.json["completed_by"], done.json["on_behalf_of"]) == (oleg.email, marina.email)
    events = history(client, org["hr"], held["instance_id"])
    (completed,) = [e for e in events if e["action"] == "task.completed"]
    assert completed["actor"] == oleg.email
    assert completed["details"]["on_behalf_of"] == marina.id
