"""approute through its real HTTP API on PostgreSQL: instance start and task completion latency.

What it measures (wall clock on the client, ``time.perf_counter`` around one HTTP round trip
with ``http.client``, JSON decoding excluded):

* a fresh PostgreSQL database ``approute_bench_<pid>`` is created, set up with the real CLI
  (``approute init``, ``deploy bench/bundles/three_step bench/bundles/rework_loop``, ``demo``)
  and served by ``approute serve --workers 4``; it is dropped at the end;
* three_step (lanes Employee -> Manager -> HR): ``POST /api/v1/definitions/three_step/instances``
  (instance start) and ``POST /api/v1/tasks/{id}/complete`` (completion) with one client, then
  with four concurrent clients (threads, one connection and one initiator each, each its own
  instances). The initiator does step_1, the initiator's line manager step_2 and
  hr@demo.approute.test (candidate by role) step_3. ``GET /api/v1/instances/{id}`` fetches the
  next task id between steps (timed separately, not counted as a completion);
* before timing, 12 untimed instances warm every worker up; they also check that
  ``GET /api/v1/tasks`` lists each task for its actor and that HR can claim before completing;
* rework_loop with ``target=1000``: anna completes ``revise`` 1,000 times; the completion time
  at rounds 1-20 is compared with rounds 981-1000, and the instance must end "completed".

Nothing here asserts timings. Run it alone with ``.venv/bin/python bench/api_bench.py``.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchstats import median, ms, ratio, summary, times
from sqlalchemy import create_engine, text

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
APPROUTE = REPO / ".venv" / "bin" / "approute"
BUNDLES = [BENCH_DIR / "bundles" / "three_step", BENCH_DIR / "bundles" / "rework_loop"]
PG_SERVER = "postgresql+psycopg://root@127.0.0.1:5432"
ADMIN_URL = f"{PG_SERVER}/test"
HOST = "127.0.0.1"
DOMAIN = "demo.approute.test"
HR = f"hr@{DOMAIN}"
MANAGER_OF = {
    f"anna@{DOMAIN}": f"sales.head@{DOMAIN}",
    f"boris@{DOMAIN}": f"sales.head@{DOMAIN}",
    f"vera@{DOMAIN}": f"ops.head@{DOMAIN}",
    f"gleb@{DOMAIN}": f"ops.head@{DOMAIN}",
}
INITIATORS = list(MANAGER_OF)
WINDOW = 20


class ApiError(RuntimeError):
    """An answer the bench did not expect."""


# --------------------------------------------------------------------------- database + server


class BenchDatabase:
    """A throwaway PostgreSQL database for one bench run."""

    def __init__(self, name: str | None = None):
        self.name = name or f"approute_bench_{os.getpid()}"
        self.url = f"{PG_SERVER}/{self.name}"
        self._admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")

    def create(self) -> None:
        with self._admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))

    def drop(self) -> None:
        with self._admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self._admin.dispose()


def _cli(env: dict[str, str], *args: str) -> str:
    proc = subprocess.run(
        [str(APPROUTE), *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    if proc.returncode != 0:
        raise ApiError(f"approute {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def parse_demo_tokens(output: str) -> dict[str, str]:
    """E-mail -> API token from `approute demo` output (lines with an e-mail and an art_ token)."""
    tokens: dict[str, str] = {}
    for line in output.splitlines():
        words = line.split()
        email = next((w for w in words if "@" in w and not w.startswith("art_")), None)
        token = next((w for w in words if w.startswith("art_")), None)
        if email and token:
            tokens[email.strip().lower()] = token
    return tokens


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Server:
    """`approute serve` as a subprocess; its output goes to a temporary log, removed by stop()."""

    def __init__(self, env: dict[str, str], workers: int = 4):
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept open for the server's life
            prefix="approute_bench_server_", suffix=".log", delete=False
        )
        args = ["serve", "--host", HOST, "--port", str(self.port), "--workers", str(workers)]
        self.proc = subprocess.Popen(
            [str(APPROUTE), *args], cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ApiError(f"approute serve exited with {self.proc.returncode}:\n{self.log_text()}")
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=5)
                conn.request("GET", "/api/v1/openapi.json")
                response = conn.getresponse()
                response.read()
                conn.close()
                if response.status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise ApiError(f"approute serve did not answer within {timeout:.0f} s:\n{self.log_text()}")

    def log_text(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)


# --------------------------------------------------------------------------- HTTP client


@dataclass
class ClientStats:
    """Connection behaviour seen by one client."""

    requests: int = 0
    server_closed: int = 0  # answers carrying "Connection: close" (no keep-alive)


_ALL_STATS: list[ClientStats] = []
_STATS_LOCK = threading.Lock()


class Client:
    """One keep-alive HTTP connection; the bearer token is chosen per request."""

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection(HOST, port, timeout=120)
        self.stats = ClientStats()
        with _STATS_LOCK:
            _ALL_STATS.append(self.stats)

    def call(
        self, method: str, path: str, token: str, body: Any = None, expect: int = 200
    ) -> tuple[Any, float]:
        """Send one request; returns (decoded JSON, seconds for the round trip)."""
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=payload, headers=headers)
            response = self.conn.getresponse()
            raw = response.read()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            # The server closed an idle keep-alive connection; reconnect once (nothing was processed).
            self.conn.close()
            started = time.perf_counter()
            self.conn.request(method, path, body=payload, headers=headers)
            response = self.conn.getresponse()
            raw = response.read()
        elapsed = time.perf_counter() - started
        self.stats.requests += 1
        if (response.getheader("Connection") or "").lower() == "close":
            self.stats.server_closed += 1
        if response.status != expect:
            raise ApiError(f"{method} {path}: HTTP {response.status} (expected {expect}): {raw[:2000]!r}")
        return (json.loads(raw) if raw else None), elapsed

    def close(self) -> None:
        self.conn.close()


# --------------------------------------------------------------------------- scenarios


@dataclass
class Samples:
    """Round-trip times (seconds) of one configuration."""

    clients: int
    start: list[float] = field(default_factory=list)
    complete: list[float] = field(default_factory=list)
    complete_by_step: dict[str, list[float]] = field(default_factory=dict)
    read: list[float] = field(default_factory=list)
    wall: float = 0.0

    def merge(self, other: Samples) -> None:
        self.start += other.start
        self.complete += other.complete
        self.read += other.read
        for step, values in other.complete_by_step.items():
            self.complete_by_step.setdefault(step, []).extend(values)

    @property
    def throughput(self) -> float:
        """Completions per second over the configuration's wall time."""
        return len(self.complete) / self.wall if self.wall else float("nan")


def _open_task(client: Client, token: str, instance_id: str, samples: Samples | None) -> dict[str, Any]:
    body, elapsed = client.call("GET", f"/api/v1/instances/{instance_id}", token)
    if samples is not None:
        samples.read.append(elapsed)
    tasks = body.get("open_tasks") or []
    if len(tasks) != 1:
        raise ApiError(
            f"instance {instance_id}: expected one open task, got {tasks!r} (status {body.get('status')})"
        )
    return tasks[0]


def run_three_step_instance(
    client: Client,
    tokens: dict[str, str],
    initiator: str,
    samples: Samples | None,
    *,
    number: int,
    check_inbox: bool = False,
    claim_hr: bool = False,
) -> None:
    """One three_step instance from start to end; timings go to ``samples`` unless None."""
    actors = {"step_1": initiator, "step_2": MANAGER_OF[initiator], "step_3": HR}
    body, elapsed = client.call(
        "POST",
        "/api/v1/definitions/three_step/instances",
        tokens[initiator],
        {"data": {"amount": number}},
        201,
    )
    if samples is not None:
        samples.start.append(elapsed)
    instance_id = body["id"]
    task = (body.get("open_tasks") or [None])[0]
    if task is None:
        raise ApiError(f"start answered without an open task: {body!r}")
    for element_id in ("step_1", "step_2", "step_3"):
        if task.get("element_id") != element_id:
            raise ApiError(f"expected open task {element_id}, got {task!r}")
        token = tokens[actors[element_id]]
        if check_inbox:
            inbox, _ = client.call("GET", "/api/v1/tasks?limit=500", token)
            mine = [t for t in inbox if t.get("id") == task["id"]]
            if (
                not mine
                or mine[0].get("instance_id") != instance_id
                or mine[0].get("element_id") != element_id
            ):
                raise ApiError(f"{actors[element_id]}'s inbox does not list task {task['id']} ({element_id})")
        if claim_hr and element_id == "step_3":
            client.call("POST", f"/api/v1/tasks/{task['id']}/claim", token)
        _, elapsed = client.call(
            "POST", f"/api/v1/tasks/{task['id']}/complete", token, {"data": {"ok": True}}
        )
        if samples is not None:
            samples.complete.append(elapsed)
            samples.complete_by_step.setdefault(element_id, []).append(elapsed)
        if element_id != "step_3":
            task = _open_task(client, tokens[initiator], instance_id, samples)
    final, _ = client.call("GET", f"/api/v1/instances/{instance_id}", tokens[initiator])
    if final.get("status") != "completed" or final.get("open_tasks"):
        raise ApiError(f"instance {instance_id} did not complete: {final!r}")


def one_client(port: int, tokens: dict[str, str], instances: int) -> Samples:
    samples = Samples(clients=1)
    client = Client(port)
    began = time.perf_counter()
    try:
        for number in range(instances):
            run_three_step_instance(client, tokens, INITIATORS[0], samples, number=number)
    finally:
        client.close()
    samples.wall = time.perf_counter() - began
    return samples


def concurrent_clients(
    port: int, tokens: dict[str, str], clients: int, instances_each: int, warmup: int
) -> Samples:
    """``clients`` threads, one connection and one initiator each; warm-up, barrier, measure."""
    per_thread = [Samples(clients=clients) for _ in range(clients)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(clients + 1)
    done = threading.Barrier(clients + 1)

    def worker(index: int) -> None:
        client = Client(port)
        initiator = INITIATORS[index % len(INITIATORS)]
        try:
            for number in range(warmup):
                run_three_step_instance(client, tokens, initiator, None, number=number)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        barrier.wait()
        try:
            if not errors:
                for number in range(instances_each):
                    run_three_step_instance(client, tokens, initiator, per_thread[index], number=number)
        except BaseException as exc:
            errors.append(exc)
        finally:
            client.close()
            done.wait()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.perf_counter()
    done.wait()
    wall = time.perf_counter() - began
    for thread in threads:
        thread.join()
    if errors:
        raise ApiError(f"{len(errors)} client thread(s) failed; first: {errors[0]!r}") from errors[0]
    merged = Samples(clients=clients)
    for samples in per_thread:
        merged.merge(samples)
    merged.wall = wall
    return merged


@dataclass
class ReworkSamples:
    """Per-round completion times of one long rework loop through the API."""

    rounds: int
    complete: list[float] = field(default_factory=list)  # index 0 = round 1
    read: list[float] = field(default_factory=list)
    status: str | None = None
    final_round: Any = None
    wall: float = 0.0

    @property
    def early(self) -> list[float]:
        return self.complete[:WINDOW]

    @property
    def late(self) -> list[float]:
        return self.complete[-WINDOW:]


def rework_loop(port: int, tokens: dict[str, str], rounds: int) -> ReworkSamples:
    """anna completes `revise` ``rounds`` times in one rework_loop instance."""
    result = ReworkSamples(rounds=rounds)
    client = Client(port)
    token = tokens[INITIATORS[0]]
    began = time.perf_counter()
    try:
        body, _ = client.call(
            "POST", "/api/v1/definitions/rework_loop/instances", token, {"data": {"target": rounds}}, 201
        )
        instance_id = body["id"]
        task = body["open_tasks"][0]
        for current in range(1, rounds + 1):
            if task.get("element_id") != "revise":
                raise ApiError(f"round {current}: expected revise, got {task!r}")
            _, elapsed = client.call(
                "POST", f"/api/v1/tasks/{task['id']}/complete", token, {"data": {"done": current == rounds}}
            )
            result.complete.append(elapsed)
            body, elapsed = client.call("GET", f"/api/v1/instances/{instance_id}", token)
            result.read.append(elapsed)
            if current < rounds:
                open_tasks = body.get("open_tasks") or []
                if len(open_tasks) != 1:
                    raise ApiError(f"round {current}: expected one open task, got {body!r}")
                task = open_tasks[0]
        result.status = body.get("status")
        result.final_round = (body.get("data") or {}).get("round")
    finally:
        client.close()
    result.wall = time.perf_counter() - began
    return result


# --------------------------------------------------------------------------- driver


@dataclass
class ApiResults:
    """Everything api_bench measures, for run_all.py."""

    one: Samples
    four: Samples
    rework: ReworkSamples
    keepalive_closed: int
    requests: int
    server_log_errors: list[str]
    setup_seconds: float


def run(instances_one: int = 67, instances_each_four: int = 17, rounds: int = 1000) -> ApiResults:
    """Create the database, set approute up with its CLI, serve it, measure, tear down."""
    database = BenchDatabase()
    server: Server | None = None
    _ALL_STATS.clear()
    began = time.perf_counter()
    database.create()
    try:
        env = {**os.environ, "APPROUTE_DATABASE_URL": database.url}
        env.pop("APPROUTE_REDIS_URL", None)
        _cli(env, "init")
        _cli(env, "deploy", *(str(b.relative_to(REPO)) for b in BUNDLES))
        tokens = parse_demo_tokens(_cli(env, "demo"))
        missing = [e for e in [HR, *INITIATORS, *MANAGER_OF.values()] if e not in tokens]
        if missing:
            raise ApiError(f"`approute demo` printed no token for {missing}")
        server = Server(env, workers=4)
        server.wait_ready()
        setup = time.perf_counter() - began

        # Warm-up: every worker process loads specs, pools connections; check inbox and claim once.
        warm = Client(server.port)
        for number in range(12):
            run_three_step_instance(
                warm,
                tokens,
                INITIATORS[number % 4],
                None,
                number=number,
                check_inbox=number < 4,
                claim_hr=number < 4,
            )
        warm.close()

        one = one_client(server.port, tokens, instances_one)
        four = concurrent_clients(server.port, tokens, 4, instances_each_four, warmup=2)
        rework = rework_loop(server.port, tokens, rounds)
        log = server.log_text()
        log_errors = [line for line in log.splitlines() if "Traceback" in line or "ERROR" in line.upper()]
        return ApiResults(
            one=one,
            four=four,
            rework=rework,
            keepalive_closed=sum(s.server_closed for s in _ALL_STATS),
            requests=sum(s.requests for s in _ALL_STATS),
            server_log_errors=log_errors[:20],
            setup_seconds=setup,
        )
    finally:
        if server is not None:
            server.stop()
        database.drop()


def report(results: ApiResults, out=sys.stdout) -> None:
    """Print the API figures."""
    print(
        f"approute HTTP API on PostgreSQL (4 gunicorn workers; setup {results.setup_seconds:.1f} s):",
        file=out,
    )
    for samples in (results.one, results.four):
        label = f"{samples.clients} client{'s' if samples.clients > 1 else ''}"
        print(f"  {label}: instance start      {summary(samples.start)}", file=out)
        print(f"  {label}: task completion     {summary(samples.complete)}", file=out)
        for step, values in sorted(samples.complete_by_step.items()):
            print(f"  {label}:   {step:<18}{summary(values)}", file=out)
        print(f"  {label}: GET instance        {summary(samples.read)}", file=out)
        requests = len(samples.start) + len(samples.complete) + len(samples.read)
        print(
            f"  {label}: {requests} timed requests in {samples.wall:.1f} s = "
            f"{requests / samples.wall:.0f} requests/s ({samples.throughput:.0f} completions/s)",
            file=out,
        )
    rework = results.rework
    print(
        f"  rework_loop target={rework.rounds}: status={rework.status}, round={rework.final_round}, "
        f"{rework.wall:.1f} s in all",
        file=out,
    )
    print(f"    completion rounds 1-{WINDOW}:    {summary(rework.early)}", file=out)
    print(
        f"    completion rounds {rework.rounds - WINDOW + 1}-{rework.rounds}: {summary(rework.late)}",
        file=out,
    )
    print(
        f"    GET instance at rounds 1-{WINDOW} / last {WINDOW}: "
        f"{ms(median(rework.read[:WINDOW]))} / {ms(median(rework.read[-WINDOW:]))} ms",
        file=out,
    )
    block = max(1, rework.rounds // 10)
    blocks = [ms(median(rework.complete[i : i + block])) for i in range(0, len(rework.complete), block)]
    print(f"    completion median per {block} rounds: {' '.join(blocks)} ms", file=out)
    growth = ratio(median(rework.late), median(rework.early))
    print(f"    growth round ~{rework.rounds} vs round ~1: {times(growth)}", file=out)
    if results.keepalive_closed:
        print(
            f"  note: the server answered {results.keepalive_closed} of {results.requests} requests with "
            "'Connection: close' (no HTTP keep-alive), so those requests paid a new TCP connect",
            file=out,
        )
    if results.server_log_errors:
        print("  server log errors:", file=out)
        for line in results.server_log_errors:
            print(f"    {line}", file=out)


def main() -> int:
    report(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
