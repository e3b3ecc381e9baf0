"""The webhook operator against a real HTTP receiver on loopback: headers, signature, retries, dedupe id."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from engine import clock
from engine.db import session_scope
from engine.models import Incident, JobStatus, OutboxJob
from engine.services import webhook_signature
from tests.engine.helpers import bundle_file, deploy, get_instance, only_open_task, start

SECRET = "topsecret"


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    body = webhook_signature.body_bytes({"amount": 1000, "note": "премия"})
    assert body == '{"amount":1000,"note":"премия"}'.encode()
    # Computed by hand: printf '%s' '1700000000.<body>' | openssl dgst -sha256 -hmac topsecret
    expected = "sha256=1452d61562d28b8220c0c4cdf94dadb73846fbdeb9b26a4ed04b6fb823884651"
    assert webhook_signature.sign(SECRET, "1700000000", body) == expected


def test_a_receiver_accepts_a_fresh_signature_and_refuses_a_replay_or_a_forgery():
    body = b'{"a":1}'
    signature = webhook_signature.sign(SECRET, "1700000000", body)
    assert webhook_signature.verify(SECRET, "1700000000", body, signature, now=1700000100)
    # Replayed late: the signature is right, the timestamp too old.
    assert not webhook_signature.verify(SECRET, "1700000000", body, signature, now=1700009999)
    assert not webhook_signature.verify(SECRET, "1700000000", b'{"a":2}', signature, now=1700000000)
    assert not webhook_signature.verify("other", "1700000000", body, signature, now=1700000000)
    assert not webhook_signature.verify(SECRET, "not-a-time", body, signature, now=1700000000)


@dataclass
class Receiver:
    """A loopback HTTP server that records each POST and answers with the next status in ``answers``."""

    answers: list[int] = field(default_factory=list)
    seen: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def receiver():
    box = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            box.seen.append((dict(self.headers.items()), body))
            status = box.answers.pop(0) if box.answers else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    box.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/payroll"
    yield box
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def hook_route(session_factory):
    deploy(session_factory, bundle_file("service_tasks/webhook.bpmn"))


def _start(session_factory, org, url: str):
    data = {"hook_url": url, "amount": 1000}
    return start(session_factory, "webhook_then_review", org["employee_sales_1"], data)


def _job(session_factory, instance_id) -> OutboxJob:
    with session_scope(session_factory) as s:
        return s.scalars(select(OutboxJob).where(OutboxJob.instance_id == instance_id)).one()


def test_a_delivery_is_signed_and_the_route_moves_on(
    session_factory, org, hook_route, receiver, background, monkeypatch
):
    monkeypatch.setenv("APPROUTE_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("APPROUTE_WEBHOOK_ALLOW_HOSTS", "127.0.0.1")  # the receiver runs on loopback
    instance = _start(session_factory, org, receiver.url)
    task_id = _job(session_factory, instance.id).payload["task_id"]

    background()

    ((headers, body),) = receiver.seen
    assert json.loads(body) == {"amount": 1000, "note": "премия"}
    assert headers["X-Approute-Delivery"] == f"{instance.id}:{task_id}"
    timestamp = headers["X-Approute-Timestamp"]
    assert timestamp.isdigit()
    assert headers["X-Approute-Signature"] == webhook_signature.sign(SECRET, timestamp, body)
    assert webhook_signature.verify(
        SECRET, timestamp, body, headers["X-Approute-Signature"], now=int(clock.now().timestamp())
    )
    stored = get_instance(session_factory, instance.id)
    assert stored.data["hook"] == {"status": 200, "delivery_id": f"{instance.id}:{task_id}"}
    assert only_open_task(session_factory, instance.id).element_id == "review"


def test_a_retried_delivery_carries_the_same_delivery_id(
    session_factory, org, hook_route, receiver, background, monkeypatch
):
    monkeypatch.setenv("APPROUTE_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("APPROUTE_WEBHOOK_ALLOW_HOSTS", "127.0.0.1")
    receiver.answers = [503]  # the receiver got it, but its answer says it failed
    instance = _start(session_factory, org, receiver.url)

    background()
    job = _job(session_factory, instance.id)
    # The diagram's <spiffworkflow:retry retries="1" backoff_base="3"/> sets the policy.
    assert (job.status, job.attempts, job.max_attempts, job.backoff_base) == (JobStatus.PENDING, 1, 2, 3.0)
    assert "answered HTTP 503" in job.last_error
    assert receiver.url.split("/hooks")[0] in job.last_error and "/hooks/payroll" not in job.last_error

    clock.advance(timedelta(seconds=4))
    background()

    first, second = receiver.seen
    assert first[0]["X-Approute-Delivery"] == second[0]["X-Approute-Delivery"]  # the receiver dedupes by it
    assert first[1] == second[1]
    assert _job(session_factory, instance.id).status == JobStatus.DONE
    assert only_open_task(session_factory, instance.id).element_id == "review"


def test_without_a_secret_the_webhook_fails_into_an_incident(
    session_factory, org, hook_route, receiver, background, monkeypatch
):
    monkeypatch.delenv("APPROUTE_WEBHOOK_SECRET", raising=False)
    instance = _start(session_factory, org, receiver.url)

    background()
    clock.advance(timedelta(seconds=4))
    background()

    assert receiver.seen == []
    with session_scope(session_factory) as s:
        incident = s.scalars(select(Incident).where(Incident.instance_id == instance.id)).one()
        assert incident.error == "WebhookFailed: APPROUTE_WEBHOOK_SECRET is not set"
        assert (incident.operator, incident.attempts) == ("webhook", 2)
    assert "APPROUTE_WEBHOOK_SECRET is not set" in get_instance(session_factory, instance.id).error


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/x", "127.0.0.1:80"])
def test_only_http_and_https_addresses_are_called(
    session_factory, org, hook_route, background, monkeypatch, url
):
    monkeypatch.setenv("APPROUTE_WEBHOOK_SECRET", SECRET)
    instance = _start(session_factory, org, url)

    background()

    job = _job(session_factory, instance.id)
    assert job.attempts == 1
    assert "only http and https addresses are allowed" in job.last_error


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1/x", "http://localhost/x", "http://169.254.169.254/latest", "http://10.1.2.3/"]
)
def test_internal_addresses_are_refused_unless_allow_listed(
    session_factory, org, hook_route, receiver, background, monkeypatch, url
):
    monkeypatch.setenv("APPROUTE_WEBHOOK_SECRET", SECRET)
    monkeypatch.delenv("APPROUTE_WEBHOOK_ALLOW_HOSTS", raising=False)
    instance = _start(session_factory, org, url)

    background()

    job = _job(session_factory, instance.id)
    assert "is an internal address" in job.last_error and "APPROUTE_WEBHOOK_ALLOW_HOSTS" in job.last_error
    assert receiver.seen == []
