"""Who sees which request: the person, their managers up the line, HR and admins; nobody else."""

from __future__ import annotations

import uuid

import pytest

from tests.api.helpers import assert_error, leave_bundle, started, upload


def listed(client, person, path="/api/v1/instances") -> set[str]:
    response = client.get(path, headers=person.headers)
    assert response.status_code == 200, response.json
    return {row["id"] for row in response.json}


def detail(client, person, instance_id):
    return client.get(f"/api/v1/instances/{instance_id}", headers=person.headers)


@pytest.mark.parametrize("viewer", ["employee_sales_1", "manager_sales", "director", "hr"])
def test_the_person_their_managers_up_the_line_and_hr_see_a_request(client, org, leave_definition, viewer):
    instance = started(client, org["employee_sales_1"])
    response = detail(client, org[viewer], instance["id"])
    assert response.status_code == 200, response.json
    assert response.json["initiator"] == org["employee_sales_1"].email
    assert instance["id"] in listed(client, org[viewer])
    history = client.get(f"/api/v1/instances/{instance['id']}/history", headers=org[viewer].headers)
    assert history.status_code == 200


@pytest.mark.parametrize("viewer", ["employee_sales_2", "employee_ops_1", "manager_ops", "designer"])
def test_colleagues_other_managers_and_the_designer_do_not(client, org, leave_definition, viewer):
    instance = started(client, org["employee_sales_1"])
    task_id = instance["open_tasks"][0]["id"]
    unknown = uuid.uuid4()
    for path in (
        "/api/v1/instances/{}",
        "/api/v1/instances/{}/history",
    ):
        hidden = assert_error(client.get(path.format(instance["id"]), headers=org[viewer].headers), 404)
        missing = assert_error(client.get(path.format(unknown), headers=org[viewer].headers), 404)
        # A request one may not see answers exactly like one that does not exist.
        assert hidden == {**missing, "message": missing["message"].replace(str(unknown), instance["id"])}
    assert_error(client.get(f"/api/v1/tasks/{task_id}", headers=org[viewer].headers), 404)
    assert instance["id"] not in listed(client, org[viewer])
    assert task_id not in listed(client, org[viewer], "/api/v1/tasks")


def test_the_director_sees_requests_two_levels_down_but_hr_sees_them_all(client, org, leave_definition):
    ids = {
        who: started(client, org[who])["id"]
        for who in ("employee_sales_1", "employee_ops_2", "manager_ops", "hr")
    }
    everything = set(ids.values())
    assert listed(client, org["director"]) == everything  # everyone here reports to the director
    assert listed(client, org["hr"]) == everything
    assert listed(client, org["manager_ops"]) == {ids["manager_ops"], ids["employee_ops_2"]}
    assert listed(client, org["manager_sales"]) == {ids["employee_sales_1"]}
    assert listed(client, org["employee_sales_1"]) == {ids["employee_sales_1"]}
    assert detail(client, org["director"], ids["employee_ops_2"]).status_code == 200


def test_the_designer_sees_every_definition_with_its_versions(client, org, leave_definition, admin):
    assert upload(client, admin, {**leave_bundle(), "extra.json": b"{}"}).status_code == 201
    designer = org["designer"]
    keys = {row["key"] for row in client.get("/api/v1/definitions", headers=designer.headers).json}
    assert "leave_request" in keys
    body = client.get("/api/v1/definitions/leave_request", headers=designer.headers).json
    assert [v["version"] for v in body["versions"]] == [2, 1]
    assert body["start_form_schema"]["properties"]["leave_type"]["type"] == "string"


def test_the_designer_sees_their_own_request_like_anyone_else(client, org, leave_definition):
    instance = started(client, org["designer"])
    assert detail(client, org["designer"], instance["id"]).status_code == 200
    assert listed(client, org["designer"]) == {instance["id"]}


def test_an_approver_keeps_seeing_the_request_they_decided(client, org, leave_definition):
    instance = started(client, org["employee_sales_1"])
    task_id = instance["open_tasks"][0]["id"]
    # The manager who decided keeps seeing the task after it is done; manager_ops never held it.
    done = client.post(
        f"/api/v1/tasks/{task_id}/complete",
        json={"data": {"manager_decision": "approve"}},
        headers=org["manager_sales"].headers,
    )
    assert done.status_code == 200, done.json
    assert client.get(f"/api/v1/tasks/{task_id}", headers=org["manager_sales"].headers).status_code == 200
    assert_error(client.get(f"/api/v1/tasks/{task_id}", headers=org["manager_ops"].headers), 404)
