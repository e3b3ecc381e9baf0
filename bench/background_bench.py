"""Background work against raw SpiffWorkflow in the same process.

Route (bench/bundles/service_call): start -> service task (operator bench.noop, answers at once)
-> a review task with a 1-hour boundary timer. On a fresh PostgreSQL database it measures:

* the service-task job: ``jobs.execute`` of one instance's job: lock the job and the instance,
  restore the workflow, call the operator, complete the task, run on to the review task, write
  the state, the task row, the timer row, the notifications and the audit events, commit;
* the timer: ``timers.fire_due`` over N due boundary timers (the clock moved past them), per timer:
  claim, lock, restore, fire, run on to the end, write, commit;
* jobs through Redis: N instances started, then one ``approute worker`` process (RQ) drains their
  jobs; jobs per second from its start to the last job done (including the worker's start).

Raw SpiffWorkflow runs the same route in memory: the service task synchronously inside
``do_engine_steps`` (a script engine whose call_service answers at once) plus ``serialize_json``,
and the timer as ``refresh_timers(); do_engine_steps()`` plus ``serialize_json``. Ratios are
approute / raw, both measured in this run. Nothing asserts timings. Run with
``.venv/bin/python bench/background_bench.py`` (part of ``make bench``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import bench_operators  # noqa: F401 - registers bench.noop
from api_bench import BenchDatabase
from benchstats import median, ms, p95, ratio, times
from raw_spiff import load_spec, make_serializer
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select

BENCH_DIR = Path(__file__).resolve().parent
BPMN = BENCH_DIR / "bundles" / "service_call" / "service_call.bpmn"
REDIS_URL = os.environ.get("APPROUTE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")


class _AnsweringEngine(PythonScriptEngine):
    def call_service(self, task, **kwargs):
        return json.dumps({"doubled": 2})


def raw_runs(n: int) -> tuple[list[float], list[float]]:
    """Raw spiff: (service task run + serialize, timer fire + serialize) per instance, in seconds."""
    spec, subs = load_spec(BPMN, "service_call")
    serializer = make_serializer()
    engine = _AnsweringEngine()
    service, timer = [], []
    for _ in range(n):
        workflow = BpmnWorkflow(spec, subs, script_engine=engine)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data["n"] = 1
        started = time.perf_counter()
        workflow.do_engine_steps()
        serializer.serialize_json(workflow)
        service.append(time.perf_counter() - started)
        waiting = [
            t for t in workflow.get_tasks(state=TaskState.WAITING) if t.task_spec.bpmn_id == "review_timeout"
        ]
        waiting[0].internal_data["event_value"] = "2000-01-01T00:00:00+00:00"
        started = time.perf_counter()
        workflow.refresh_timers()
        workflow.do_engine_steps()
        serializer.serialize_json(workflow)
        timer.append(time.perf_counter() - started)
        assert workflow.is_completed()
    return service, timer


def approute_runs(url: str, n: int) -> tuple[list[float], list[float]]:
    """approute on PostgreSQL: (service-task job, timer firing per timer), in seconds."""
    from engine import clock
    from engine.db import make_engine, make_session_factory, session_scope
    from engine.models import JobStatus, OutboxJob, Timer, TimerStatus
    from engine.services import jobs, outbox, timers
    from engine.services.definitions import deploy_bundle
    from engine.services.demo import seed_demo
    from engine.services.instances import start_instance
    from engine.services.users import get_user_by_email

    engine = make_engine(url)
    factory = make_session_factory(engine)
    outbox.set_dispatcher(None)
    with session_scope(factory) as s:
        people = {p.key: u.email for p, u, _t in seed_demo(s)}
        deploy_bundle(s, {BPMN.name: BPMN.read_bytes()}, actor=None)
    with session_scope(factory) as s:
        actor = get_user_by_email(s, people["employee_sales_1"])
        for _ in range(n):
            start_instance(s, key="service_call", actor=actor, data={"n": 1})
    with session_scope(factory) as s:
        job_ids = list(
            s.scalars(select(OutboxJob.id).where(OutboxJob.kind == "service_task").order_by(OutboxJob.id))
        )
    service = []
    for job_id in job_ids:
        started = time.perf_counter()
        outcome = jobs.execute(factory, job_id)
        service.append(time.perf_counter() - started)
        assert outcome == "done", outcome
    with session_scope(factory) as s:  # the e-mail jobs the steps wrote are not part of this measure
        s.execute(
            OutboxJob.__table__.update().where(OutboxJob.status != JobStatus.DONE).values(status="cancelled")
        )
        due = s.scalar(select(func.count()).select_from(Timer).where(Timer.status == TimerStatus.PENDING))
    clock.advance(timedelta(hours=2))
    started = time.perf_counter()
    fired = 0
    while True:
        batch = timers.fire_due(factory, limit=100)
        if not batch:
            break
        fired += batch
    elapsed = time.perf_counter() - started
    clock.reset()
    engine.dispose()
    per_timer = [elapsed / fired] * fired if fired else []
    print(
        f"  approute: {len(service)} service-task jobs run; {fired} of {due} pending timers fired", flush=True
    )
    return service, per_timer


def rq_throughput(url: str, n: int) -> float:
    """Jobs per second through Redis and one `approute worker` process (its start included)."""
    from redis import Redis

    from engine.db import make_engine, make_session_factory, session_scope
    from engine.models import JobStatus, OutboxJob
    from engine.services import outbox
    from engine.services.instances import start_instance
    from engine.services.users import get_user_by_email
    from worker.rq_jobs import QUEUE, RQDispatcher

    Redis.from_url(REDIS_URL).delete(f"rq:queue:{QUEUE}")
    engine = make_engine(url)
    factory = make_session_factory(engine)
    outbox.set_dispatcher(RQDispatcher(REDIS_URL))
    try:
        with session_scope(factory) as s:
            actor = get_user_by_email(s, "anna@demo.approute.test")
            for _ in range(n):
                start_instance(s, key="service_call", actor=actor, data={"n": 1})
    finally:
        outbox.set_dispatcher(None)
    env = {
        **os.environ,
        "APPROUTE_DATABASE_URL": url,
        "APPROUTE_REDIS_URL": REDIS_URL,
        "PYTHONPATH": str(BENCH_DIR),
    }
    command = [
        sys.executable,
        "-c",
        "import bench_operators; from worker.__main__ import main; main(['--burst'])",
    ]
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, cwd=BENCH_DIR.parent, capture_output=True)
    elapsed = time.perf_counter() - started
    with session_scope(factory) as s:
        done = s.scalar(
            select(func.count())
            .select_from(OutboxJob)
            .where(OutboxJob.kind == "service_task", OutboxJob.status == JobStatus.DONE)
        )
    engine.dispose()
    print(f"  RQ: {done} service-task jobs done in total after the worker ran {elapsed:.2f} s", flush=True)
    return n / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--instances", type=int, default=200)
    args = parser.parse_args(argv)
    os.environ.setdefault("APPROUTE_JOBS", "manual")
    raw_service, raw_timer = raw_runs(args.instances)
    database = BenchDatabase(f"approute_bench_bg_{os.getpid()}")
    database.create()
    try:
        import engine.models  # noqa: F401
        from engine.db import Base, make_engine

        setup = make_engine(database.url)
        Base.metadata.create_all(setup)
        setup.dispose()
        service, timer = approute_runs(database.url, args.instances)
        jobs_per_second = rq_throughput(database.url, args.instances)
    finally:
        database.drop()
    raw_service_after, raw_timer_after = raw_runs(args.instances)
    ref_service = median(raw_service + raw_service_after)
    ref_timer = median(raw_timer + raw_timer_after)
    print()
    print("=" * 96)
    print("background work (ms; ratio = approute / raw spiff in memory, same process, same route)")
    print("=" * 96)
    print(f"  {'measurement':<58} {'median':>9} {'p95':>9} {'n':>6} {'vs raw':>9}")
    print(f"  {'raw spiff: service task in do_engine_steps + serialize (REF)':<58} {ms(ref_service):>9}")
    print(f"  {'raw spiff: timer refresh + steps + serialize (REF)':<58} {ms(ref_timer):>9}")
    print(
        f"  {'approute: service-task job (PostgreSQL, committed)':<58} {ms(median(service)):>9} "
        f"{ms(p95(service)):>9} {len(service):>6} {times(ratio(median(service), ref_service)):>9}"
    )
    print(
        f"  {'approute: timer fired by the scheduler, per timer':<58} {ms(median(timer)):>9} "
        f"{'':>9} {len(timer):>6} {times(ratio(median(timer), ref_timer)):>9}"
    )
    per_job = 1 / jobs_per_second if jobs_per_second else float("nan")
    print(
        f"  {'approute: RQ, 1 worker process incl. its start, per job':<58} {ms(per_job):>9} "
        f"{'':>9} {args.instances:>6} {times(ratio(per_job, ref_service)):>9}"
    )
    print(f"  ({jobs_per_second:.0f} jobs/s through Redis with one worker)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
