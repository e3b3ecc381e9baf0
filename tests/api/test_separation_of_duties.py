"""Separation of duties over HTTP: nobody approves their own request."""

from __future__ import annotations

from tests.api.helpers import approved_to_hr, assert_error, complete


def test_hr_cannot_register_their_own_leave_but_another_hr_can(client, org, make_person, leave_definition):
    hr, director = org["hr"], org["director"]
    _instance, registration = approved_to_hr(client, hr, director)

    assert client.get("/api/v1/tasks", headers=hr.headers).json == []
    body = assert_error(complete(client, hr, registration["id"], {"order_number": "17-о"}), 403)
    assert body["message"] == "separation of duties: you may not approve your own request"
    assert_error(client.post(f"/api/v1/tasks/{registration['id']}/claim", headers=hr.headers), 403)

    second_hr = make_person("second_hr", "hr")
    assert [t["id"] for t in client.get("/api/v1/tasks", headers=second_hr.headers).json] == [
        registration["id"]
    ]
    done = complete(client, second_hr, registration["id"], {"order_number": "17-о"})
    assert done.status_code == 200, done.json
    assert done.json["completed_by"] == second_hr.email
