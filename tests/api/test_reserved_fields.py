"""A payload that would corrupt stored state is refused up front, and the instance stays usable."""

from __future__ import annotations

from tests.api.helpers import assert_error, bundle_file, complete, upload


def _deploy_open_form(client, designer):
    files = {**bundle_file("open_form.bpmn"), **bundle_file("open_form.json")}
    assert upload(client, designer, files).status_code == 201


def test_typename_key_is_refused_and_the_instance_goes_on(client, org):
    _deploy_open_form(client, org["designer"])
    anna = org["employee_sales_1"]
    start = client.post(
        "/api/v1/definitions/open_form/instances",
        json={"data": {"note": {"typename": "x"}}},
        headers=anna.headers,
    )
    assert_error(start, 422)
    assert start.json["errors"] == [
        {"field": "data.note.typename", "message": "'typename' is reserved; rename this field"}
    ]

    instance = client.post("/api/v1/definitions/open_form/instances", json={"data": {}}, headers=anna.headers)
    assert instance.status_code == 201
    (fill,) = instance.json["open_tasks"]

    refused = complete(client, anna, fill["id"], {"done": True, "items": [{"typename": "nope"}]})
    assert_error(refused, 422)
    assert refused.json["errors"][0]["field"] == "data.items.0.typename"

    assert complete(client, anna, fill["id"], {"done": True, "extra": {"kind": "fine"}}).status_code == 200
    (check,) = client.get(f"/api/v1/instances/{instance.json['id']}", headers=anna.headers).json["open_tasks"]
    assert check["element_id"] == "check"
    assert complete(client, anna, check["id"], {}).status_code == 200
    final = client.get(f"/api/v1/instances/{instance.json['id']}", headers=anna.headers).json
    assert final["status"] == "completed"
    assert final["data"]["extra"] == {"kind": "fine"}


def test_oversized_data_is_refused_before_it_reaches_the_route(client, org):
    _deploy_open_form(client, org["designer"])
    anna = org["employee_sales_1"]
    huge = {"notes": ["x" * 1000] * 1100}  # about 1.1 MB

    response = client.post(
        "/api/v1/definitions/open_form/instances", json={"data": huge}, headers=anna.headers
    )

    assert_error(response, 422)
    assert response.json["errors"][0]["field"] == "data"
    assert "at most 1,048,576" in response.json["errors"][0]["message"]
    assert client.get("/api/v1/instances", headers=anna.headers).json == []
