"""GET/POST /api/v1/instances/{id}/documents and GET .../documents/{doc}: who sees, who downloads, uploads."""

from __future__ import annotations

import io
import uuid
from datetime import date
from urllib.parse import unquote

import pytest

from engine.db import session_scope
from engine.models import User
from engine.services import documents
from engine.services.definitions import deploy_bundle
from processes import PROCESS_DIR, bundle_files
from tests.api.helpers import assert_error, started

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF_BYTES = b"%PDF-1.4\n% a scan\n"


@pytest.fixture
def certificate(client, org, session_factory, background):
    """Anna's employment certificate, generated; returns (instance id, document row)."""
    with session_scope(session_factory) as s:
        deploy_bundle(s, bundle_files(PROCESS_DIR / "certificate"), actor=None)
        s.get(User, org["employee_sales_1"].id).hire_date = date(2020, 2, 3)
    response = client.post(
        "/api/v1/definitions/certificate/instances",
        json={"data": {"certificate_type": "employment"}},
        headers=org["employee_sales_1"].headers,
    )
    assert response.status_code == 201, response.json
    background()
    instance_id = response.json["id"]
    (row,) = client.get(
        f"/api/v1/instances/{instance_id}/documents", headers=org["employee_sales_1"].headers
    ).json
    return instance_id, row


def download(client, person, instance_id, document_id):
    return client.get(f"/api/v1/instances/{instance_id}/documents/{document_id}", headers=person.headers)


def upload(client, person, instance_id, content=PNG, kind="diploma", name="диплом.png"):
    data = {"kind": kind}
    if content is not None:
        data["file"] = (io.BytesIO(content), name)
    return client.post(
        f"/api/v1/instances/{instance_id}/documents",
        data=data,
        content_type="multipart/form-data",
        headers=person.headers,
    )


def test_the_list_describes_each_document(client, org, certificate):
    _instance_id, row = certificate
    assert set(row) == {
        "id",
        "kind",
        "title",
        "file_name",
        "media_type",
        "size",
        "sha256",
        "register_number",
        "created_at",
    }
    assert row["kind"] == "employment"
    assert row["title"] == "Справка с места работы"
    assert row["media_type"] == "application/pdf"
    assert row["register_number"].startswith("СПР-")
    assert row["file_name"] == f"{row['register_number']} Справка с места работы.pdf"
    assert row["size"] > 1000 and len(row["sha256"]) == 64


def test_the_owner_and_hr_download_a_colleague_gets_404(client, org, certificate):
    instance_id, row = certificate
    anna, hr = org["employee_sales_1"], org["hr"]

    mine = download(client, anna, instance_id, row["id"])
    assert mine.status_code == 200
    assert mine.data.startswith(b"%PDF")
    assert mine.headers["Content-Type"] == "application/pdf"
    assert len(mine.data) == row["size"]
    disposition = mine.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    assert unquote(disposition.split("filename*=UTF-8''", 1)[1]) == row["file_name"]

    assert download(client, hr, instance_id, row["id"]).data == mine.data

    colleague = download(client, org["employee_sales_2"], instance_id, row["id"])
    unknown = download(client, org["employee_sales_2"], instance_id, uuid.uuid4())
    assert assert_error(colleague, 404)["message"] == f"document {row['id']} not found"
    assert assert_error(unknown, 404)["errors"] == {}
    assert_error(
        client.get(f"/api/v1/instances/{instance_id}/documents", headers=org["employee_sales_2"].headers), 404
    )


def test_the_line_manager_sees_the_list_but_not_the_certificate(client, org, certificate):
    instance_id, row = certificate
    manager = org["manager_sales"]

    listed = client.get(f"/api/v1/instances/{instance_id}/documents", headers=manager.headers)
    assert [d["id"] for d in listed.json] == [row["id"]]
    assert_error(download(client, manager, instance_id, row["id"]), 404)  # it may show a salary (C-04)


def test_a_document_is_only_found_under_its_own_instance(client, org, leave_definition, certificate):
    _instance_id, row = certificate
    other = started(client, org["employee_sales_1"])
    assert_error(download(client, org["hr"], other["id"], row["id"]), 404)


def test_the_initiator_and_hr_upload_a_manager_may_not(client, org, leave_definition):
    anna, hr = org["employee_sales_1"], org["hr"]
    request = started(client, anna)

    mine = upload(client, anna, request["id"])
    assert mine.status_code == 201, mine.json
    assert mine.json["media_type"] == "image/png"
    assert mine.json["file_name"] == "диплом.png"
    assert mine.json["register_number"] is None
    by_hr = upload(client, hr, request["id"], PDF_BYTES, kind="work_book", name="книжка.pdf")
    assert by_hr.status_code == 201, by_hr.json

    assert_error(upload(client, org["manager_sales"], request["id"]), 403)
    assert_error(upload(client, org["employee_sales_2"], request["id"]), 404)
    assert_error(upload(client, anna, uuid.uuid4()), 404)

    listed = client.get(f"/api/v1/instances/{request['id']}/documents", headers=anna.headers).json
    assert [d["kind"] for d in listed] == ["diploma", "work_book"]
    back = download(client, anna, request["id"], mine.json["id"])
    assert back.status_code == 200 and back.data == PNG
    assert back.headers["Content-Type"] == "image/png"


def test_uploads_are_checked(client, org, leave_definition):
    anna = org["employee_sales_1"]
    request = started(client, anna)

    wrong_type = assert_error(upload(client, anna, request["id"], b"MZ\x90\x00 a program", name="x.exe"), 422)
    assert wrong_type["errors"] == [{"field": "file", "message": "only PDF, JPEG and PNG files are accepted"}]
    empty = assert_error(upload(client, anna, request["id"], b""), 422)
    assert empty["errors"][0]["field"] == "file"
    bad_kind = assert_error(upload(client, anna, request["id"], kind="Диплом!"), 422)
    assert bad_kind["errors"][0]["field"] == "kind"
    missing = assert_error(upload(client, anna, request["id"], content=None), 422)
    assert missing["errors"] == [{"field": "file", "message": "no file uploaded"}]
    too_big = upload(client, anna, request["id"], PNG + b"\x00" * documents.MAX_UPLOAD_BYTES)
    assert "larger than" in assert_error(too_big, 413)["message"]

    assert client.get(f"/api/v1/instances/{request['id']}/documents", headers=anna.headers).json == []
