"""All approute benchmarks in one process run, as one table of figures and ratios.

What it measures: raw SpiffWorkflow (``raw_spiff.py``: in-memory step + ``serialize_json`` per
user task, and a 1,000-round rework loop with the max_depth patch) and approute through its HTTP
API on a fresh PostgreSQL database (``api_bench.py``: task completion with 1 and 4 clients,
instance start, the same 1,000-round rework loop). Absolute times drift on this shared 2-core
machine, so every approute figure is also given as a ratio to raw spiff measured in this same
run; the raw three-step baseline is measured before AND after the API run and pooled.

Nothing asserts timings; the aim is printed for the reader. ``make bench`` runs this file.
"""

from __future__ import annotations

import argparse
import sys
import time

import api_bench
import raw_spiff
from benchstats import median, ms, p95, ratio, times

AIM_MS = 10.0


def _row(label: str, values: list[float], reference: float | None, width: int = 52) -> str:
    vs = times(ratio(median(values), reference)) if reference else ""
    return f"  {label:<{width}} {ms(median(values)):>9} {ms(p95(values)):>9} {len(values):>6} {vs:>10}"


def print_table(raw: raw_spiff.RawResults, raw_after: raw_spiff.ThreeStepResult | None, api) -> None:
    """The summary table: absolute medians (ms) and ratios to raw spiff."""
    raw_steps = raw.three_step.all_steps() + (raw_after.all_steps() if raw_after else [])
    raw_ref = [s.persisted for s in raw_steps]
    raw_full = [s.full_cycle for s in raw_steps]
    raw_start = raw.three_step.start + (raw_after.start if raw_after else [])
    ref = median(raw_ref)

    print()
    print("=" * 96)
    print("approute benchmark summary (three_step route unless noted; ms; ratio = approute / raw spiff)")
    print(f"Aim: API completion median < {AIM_MS:.0f} ms on PostgreSQL")
    print("=" * 96)
    header = f"  {'measurement':<52} {'median':>9} {'p95':>9} {'n':>6} {'vs raw':>10}"
    print(header)
    print("  " + "-" * (len(header) - 2))
    print(_row("raw spiff: in-memory step + serialize_json (REF)", raw_ref, ref))
    if raw_after:
        before = median([s.persisted for s in raw.three_step.all_steps()])
        after = median([s.persisted for s in raw_after.all_steps()])
        print(f"  {'  (before API run / after API run)':<52} {ms(before):>9} {ms(after):>9}")
    print(_row("raw spiff: deserialize + step + serialize", raw_full, ref))
    print(_row("raw spiff: start instance + serialize", raw_start, None))
    if api is not None:
        print(_row("approute API: POST complete, 1 client", api.one.complete, ref))
        print(_row("approute API: POST complete, 4 concurrent clients", api.four.complete, ref))
        print(
            _row(
                "approute API: complete, 1 client, vs deser+step+ser",
                api.one.complete,
                median(raw_full),
            )
        )
        print(_row("approute API: start, 1 client (vs raw start)", api.one.start, median(raw_start)))
        print(_row("approute API: start, 4 clients (vs raw start)", api.four.start, median(raw_start)))
        print(_row("approute API: GET instance, 1 client", api.one.read, None))
        print(
            f"  {'approute API: requests/s, 1 client | 4 clients':<52} "
            f"{_rate(api.one):>9} {_rate(api.four):>9}"
        )

    rework = raw.rework
    print()
    rounds = rework.rounds
    late = f"{rounds - raw_spiff.WINDOW + 1}-{rounds}"
    print(f"Rework loop, one instance, {rounds} rounds (median ms per round; growth = late / early):")
    print(f"  {'':<52} {'1-' + str(raw_spiff.WINDOW):>9} {late:>9} {'growth':>8}")
    raw_early = median([s.persisted for s in rework.early])
    raw_late = median([s.persisted for s in rework.late])
    print(
        f"  {'raw spiff step + serialize (max_depth patch, §6.3)':<52} {ms(raw_early):>9} {ms(raw_late):>9} "
        f"{times(ratio(raw_late, raw_early)):>8}"
    )
    if api is not None:
        api_early, api_late = median(api.rework.early), median(api.rework.late)
        print(
            f"  {'approute API: POST complete':<52} {ms(api_early):>9} {ms(api_late):>9} "
            f"{times(ratio(api_late, api_early)):>8}"
        )
        print(
            f"  {'approute / raw at that round':<52} {times(ratio(api_early, raw_early)):>9} "
            f"{times(ratio(api_late, raw_late)):>9}"
        )
        print(
            f"  approute instance ended with status={api.rework.status!r}, round={api.rework.final_round!r}; "
            f"raw spiff completed={rework.completed}"
        )
    print(f"  raw spiff WITHOUT the patch: {raw_spiff.describe_unpatched(raw.unpatched)}")

    if api is not None:
        print()
        one = median(api.one.complete) * 1000
        four = median(api.four.complete) * 1000
        print(
            f"Aim (API completion median < {AIM_MS:.0f} ms on PostgreSQL): "
            f"1 client {one:.2f} ms -> {_verdict(one)}; 4 clients {four:.2f} ms -> {_verdict(four)}"
        )
        if api.keepalive_closed:
            print(
                f"Note: {api.keepalive_closed} of {api.requests} answers carried 'Connection: close' "
                "(no HTTP keep-alive from the server)."
            )
        if api.server_log_errors:
            print(f"Note: {len(api.server_log_errors)} error line(s) in the server log (see above).")


def _verdict(median_ms: float) -> str:
    return "met" if median_ms < AIM_MS else "NOT met"


def _rate(samples) -> str:
    requests = len(samples.start) + len(samples.complete) + len(samples.read)
    return f"{requests / samples.wall:.0f}" if samples.wall else "n/a"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=200, help="raw spiff three_step instances")
    parser.add_argument("--rounds", type=int, default=1000, help="rework loop rounds (raw and API)")
    parser.add_argument(
        "--api-instances", type=int, default=67, help="API instances with 1 client (x3 steps)"
    )
    parser.add_argument("--api-instances-each", type=int, default=17, help="API instances per client of 4")
    parser.add_argument("--skip-api", action="store_true", help="raw spiff only")
    args = parser.parse_args(argv)

    began = time.perf_counter()
    print("## raw SpiffWorkflow", flush=True)
    raw = raw_spiff.run(instances=args.instances, rounds=args.rounds)
    raw_spiff.report(raw)
    api = raw_after = None
    if not args.skip_api:
        print("\n## approute HTTP API", flush=True)
        api = api_bench.run(
            instances_one=args.api_instances, instances_each_four=args.api_instances_each, rounds=args.rounds
        )
        api_bench.report(api)
        raw_after = raw_spiff.run_three_step(instances=args.instances)
    print_table(raw, raw_after, api)
    print(f"\n(whole run {time.perf_counter() - began:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
