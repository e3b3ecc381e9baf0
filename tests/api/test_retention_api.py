"""HR sets retention classes and legal holds over the API; purged requests answer with a stub."""

from __future__ import annotations

from datetime import date

from engine.services import purge
from tests.api.helpers import assert_error, started

HOLD = "/api/v1/instances/{}/legal-hold"


def test_hr_lists_and_sets_retention_classes(client, org, admin, leave_definition):
    hr = org["hr"]
    listed = client.get("/api/v1/retention", headers=hr.headers)
    assert listed.status_code == 200, listed.json
    assert {c["name"]: c["years"] for c in listed.json["classes"]}["personnel-50y"] == 50
    policies = {p["process_key"]: p for p in listed.json["policies"]}
    assert policies["leave_request"] == {
        "process_key": "leave_request",
        "retention_class": "personnel-50y",
        "source": "default",
    }

    changed = client.put(
        "/api/v1/retention/leave_request", json={"retention_class": "leave-5y"}, headers=hr.headers
    )
    assert changed.json == {"process_key": "leave_request", "retention_class": "leave-5y", "source": "set"}
    again = client.get("/api/v1/retention", headers=admin.headers).json["policies"]
    assert {"process_key": "leave_request", "retention_class": "leave-5y", "source": "set"} in again


def test_retention_refuses_the_wrong_people_and_bad_input(client, org, leave_definition):
    hr = org["hr"].headers
    assert client.get("/api/v1/retention").status_code == 401
    for person in ("employee_sales_1", "manager_sales", "designer"):
        assert_error(client.get("/api/v1/retention", headers=org[person].headers), 403)
        body = {"retention_class": "it-3y"}
        assert_error(
            client.put("/api/v1/retention/leave_request", json=body, headers=org[person].headers), 403
        )
    bad = assert_error(
        client.put("/api/v1/retention/leave_request", json={"retention_class": "x"}, headers=hr), 422
    )
    assert bad["errors"] == [{"field": "retention_class", "message": bad["errors"][0]["message"]}]
    assert_error(client.put("/api/v1/retention/leave_request", json={}, headers=hr), 422)
    assert_error(client.put("/api/v1/retention/nope", json={"retention_class": "it-3y"}, headers=hr), 404)
    listed = client.get("/api/v1/retention", headers=hr).json["policies"]
    assert {"process_key": "leave_request", "retention_class": "personnel-50y", "source": "default"} in listed


def test_legal_hold_is_set_and_cleared_by_hr_and_stops_the_purge(client, app, org, leave_definition):
    anna, hr = org["employee_sales_1"], org["hr"]
    instance = started(client, anna)
    assert client.post(f"/api/v1/instances/{instance['id']}/cancel", headers=anna.headers).status_code == 200
    url = HOLD.format(instance["id"])

    assert_error(client.post(url, json={"reason": "x"}, headers=anna.headers), 403)
    assert_error(client.post(url, json={"reason": ""}, headers=hr.headers), 422)
    held = client.post(url, json={"reason": "court case 12/2026"}, headers=hr.headers)
    assert held.status_code == 200, held.json
    assert held.json["held"] is True and held.json["held_by"] == hr.email
    assert_error(client.post(url, json={"reason": "again"}, headers=hr.headers), 409)

    sessions = app.extensions["approute.sessions"]
    as_of = date(date.today().year + 52, 1, 1)
    purged, skipped = purge.purge(sessions, as_of=as_of)
    assert purged == [] and [str(c.instance_id) for c in skipped] == [instance["id"]]

    cleared = client.delete(url, headers=hr.headers)
    assert cleared.status_code == 200 and cleared.json["held"] is False
    assert_error(client.delete(url, headers=hr.headers), 409)
    assert_error(client.delete(HOLD.format("00000000-0000-4000-8000-000000000000"), headers=hr.headers), 404)
    actions = [
        e["action"]
        for e in client.get(f"/api/v1/instances/{instance['id']}/history", headers=hr.headers).json
    ]
    assert actions[-2:] == ["instance.legal_hold_set", "instance.legal_hold_cleared"]

    purged, _ = purge.purge(sessions, as_of=as_of)
    assert [str(r.instance_id) for r in purged] == [instance["id"]]
    stub = client.get(f"/api/v1/instances/{instance['id']}", headers=hr.headers)
    assert stub.status_code == 200, stub.json
    assert stub.json["status"] == "cancelled"
    assert (stub.json["data"], stub.json["initiator"], stub.json["business_key"]) == ({}, None, None)
    assert stub.json["created_at"] == instance["created_at"] and stub.json["completed_at"]
    # The initiator no longer owns the stub: nothing personal ties it to her.
    assert_error(client.get(f"/api/v1/instances/{instance['id']}", headers=anna.headers), 404)
    listed = client.get("/api/v1/instances", headers=hr.headers).json
    assert [(r["id"], r["initiator"]) for r in listed] == [(instance["id"], None)]
