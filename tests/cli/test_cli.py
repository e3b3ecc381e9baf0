"""The `approute` command as an operator uses it: a fresh database, set up from the shell."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from api import create_app
from engine import clock

ROOT = Path(__file__).resolve().parents[2]
APPROUTE = Path(sys.executable).with_name("approute")
REDIS_URL = os.environ.get("APPROUTE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


class Shell:
    """Runs `approute ...` against one database, as an operator's shell would."""

    def __init__(self, database_url: str):
        self.database_url = database_url
        self.env = {**os.environ, "APPROUTE_DATABASE_URL": database_url}
        self.env.pop("APPROUTE_REDIS_URL", None)

    def __call__(self, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(APPROUTE), *args],
            cwd=ROOT,
            env={**self.env, **(extra_env or {})},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


@pytest.fixture
def shell(tmp_path) -> Shell:
    """A fresh SQLite database, set up with `approute init`."""
    run = Shell(f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    assert run("init").returncode == 0
    return run


def test_init_twice_is_harmless(shell):
    again = shell("init")
    assert again.returncode == 0, again.stderr
    assert "up to date" in again.stdout


def test_deploy_folder_then_unchanged_then_refused(shell, tmp_path):
    first = shell("deploy", "processes/leave_request")
    assert first.returncode == 0, first.stderr
    assert "deployed: leave_request version 1" in first.stdout

    again = shell("deploy", "processes/leave_request")
    assert "unchanged: leave_request version 1" in again.stdout

    broken = tmp_path / "broken.bpmn"
    broken.write_text('<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">\n<oops>')
    refused = shell("deploy", str(broken))
    assert refused.returncode == 1
    assert "refused: broken.bpmn" in refused.stderr
    assert "broken.bpmn:2" in refused.stderr  # file and line of the problem


def test_users_tokens_and_the_api_accepting_them(shell):
    boss = shell("users", "create", "--email", "Boss@Example.com", "--name", "Boss", "--role", "employee")
    assert boss.returncode == 0, boss.stderr
    made = shell(
        "users", "create", "--email", "ivan@example.com", "--name", "Иван", "--role", "hr",
        "--role", "designer", "--manager", "boss@example.com", "--department", "HR",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "designer, hr" in made.stdout

    duplicate = shell("users", "create", "--email", "IVAN@example.com", "--name", "Other", "--role", "hr")
    assert duplicate.returncode == 1
    assert "already exists" in duplicate.stderr
    wrong_role = shell("users", "create", "--email", "x@example.com", "--name", "X", "--role", "boss")
    assert wrong_role.returncode == 1
    assert "unknown role boss" in wrong_role.stderr

    token = shell("tokens", "create", "--email", "ivan@example.com")
    assert token.returncode == 0, token.stderr
    last_line = token.stdout.strip().splitlines()[-1]
    assert last_line.startswith("art_")

    app = create_app({"APPROUTE_DATABASE_URL": shell.database_url})
    client = app.test_client()
    assert client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {last_line}"}).status_code == 200
    assert client.get("/api/v1/tasks", headers={"Authorization": "Bearer art_wrong"}).status_code == 401
    app.extensions["approute.engine"].dispose()


def test_demo_prints_every_person_with_a_token(shell):
    demo = shell("demo")
    assert demo.returncode == 0, demo.stderr
    lines = [line.split() for line in demo.stdout.splitlines() if "@demo.approute.test" in line]
    emails = {parts[0] for parts in lines}
    assert len(emails) == 9
    assert {"hr@demo.approute.test", "designer@demo.approute.test"} <= emails
    assert all(parts[-1].startswith("art_") for parts in lines)


def test_demo_people_can_sign_in_with_the_printed_password(shell):
    demo = shell("demo")
    assert demo.returncode == 0, demo.stderr
    password = demo.stdout.strip().splitlines()[-1].split()[-1]

    app = create_app({"APPROUTE_DATABASE_URL": shell.database_url})
    client = app.test_client()
    signed_in = client.post(
        "/api/v1/auth/token", json={"email": "anna@demo.approute.test", "password": password}
    )
    assert signed_in.status_code == 201, signed_in.json
    me = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {signed_in.json['token']}"})
    # Names travel as UTF-8, readable in curl output, not as \u escapes.
    assert "Анна Иванова" in me.get_data(as_text=True)
    app.extensions["approute.engine"].dispose()


def test_after_demo_a_manager_files_a_bonus_that_routes(shell):
    assert shell("deploy", "processes/bonus").returncode == 0
    demo = shell("demo")
    assert demo.returncode == 0, demo.stderr
    tokens = {
        parts[0]: parts[-1] for parts in map(str.split, demo.stdout.splitlines()) if "@demo." in parts[0]
    }
    assert "Bonus route: set coordinators bonus.cfo" in demo.stdout

    app = create_app({"APPROUTE_DATABASE_URL": shell.database_url})
    client = app.test_client()
    sales_head = {"Authorization": f"Bearer {tokens['sales.head@demo.approute.test']}"}
    data = {
        "employee_email": "anna@demo.approute.test",
        "bonus_type": "one_off",
        "amount": 10_000,
        "period": clock.today().strftime("%Y-%m"),
        "justification": "closed the quarter's biggest deal",
    }
    filed = client.post("/api/v1/definitions/bonus/instances", json={"data": data}, headers=sales_head)
    assert filed.status_code == 201, filed.json
    assert filed.json["open_tasks"][0]["assignee"] == "hr@demo.approute.test"  # the HR partner of SALES
    # The salary stays hidden from the manager who filed.
    anna = client.get("/api/v1/users/anna@demo.approute.test", headers=sales_head)
    assert anna.json["monthly_salary"] == "*****"
    app.extensions["approute.engine"].dispose()

    # Running demo again sets nothing anew: the funds table keeps its one demo version.
    again = shell("demo")
    assert again.returncode == 0, again.stderr
    assert "Bonus route:" not in again.stdout
    listed = shell("rules", "list")
    assert listed.returncode == 0, listed.stderr
    (funds,) = [line for line in listed.stdout.splitlines() if "bonus_funds" in line]
    assert "v1" in funds.split()


def test_worker_without_redis_explains_the_embedded_mode(shell):
    result = shell("worker")
    assert result.returncode == 2
    assert "APPROUTE_REDIS_URL is not set" in result.stderr


def test_worker_runs_against_redis_in_burst_mode(shell):
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis unavailable at {REDIS_URL}: {exc}")
    result = shell("worker", "--burst", extra_env={"APPROUTE_REDIS_URL": REDIS_URL})
    assert result.returncode == 0, result.stderr


def test_worker_reports_an_unreachable_redis(shell):
    result = shell("worker", "--burst", extra_env={"APPROUTE_REDIS_URL": "redis://127.0.0.1:1/0"})
    assert result.returncode == 1
    assert "cannot reach Redis" in result.stderr
