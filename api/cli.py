"""The `approute` command: set up the database, deploy bundles, manage people, serve, work."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from engine.config import ConfigurationError, Settings
from engine.db import make_engine, make_session_factory, session_scope
from engine.errors import EngineError
from processes import bundle_files


def _sessions():
    settings = Settings.from_env()
    return make_session_factory(make_engine(settings.database_url))


def cmd_init(_args) -> int:
    from engine.migrate import upgrade_database

    upgrade_database(Settings.from_env().database_url)
    print("database schema is up to date")
    return 0


def _bundles(paths: list[str]) -> list[tuple[str, dict[str, bytes]]]:
    bundles, loose = [], {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            bundles.append((str(path), bundle_files(path)))
        elif path.is_file():
            loose[path.name] = path.read_bytes()
        else:
            raise FileNotFoundError(f"{raw}: no such file or folder")
    if loose:
        bundles.append((", ".join(sorted(loose)), loose))
    return bundles


def cmd_deploy(args) -> int:
    import worker.operators  # noqa: F401 - deploy checks each service task's operator is registered
    from engine.services.definitions import deploy_if_changed

    failed = 0
    sessions = _sessions()
    for label, files in _bundles(args.paths):
        try:
            with session_scope(sessions) as session:
                row, created = deploy_if_changed(session, files, actor=None)
                outcome = "deployed" if created else "unchanged"
                print(f"{outcome}: {row.key} version {row.version} ({label})")
        except EngineError as exc:
            failed += 1
            print(f"refused: {label}: {exc.message}", file=sys.stderr)
            for entry in exc.details or []:
                where = ":".join(str(p) for p in (entry.get("file"), entry.get("line")) if p)
                element = f" [{entry['element_id']}]" if entry.get("element_id") else ""
                print(f"  {where}{element}: {entry['message']}", file=sys.stderr)
    return 1 if failed else 0


def cmd_users_create(args) -> int:
    from engine.services.person_facts import update_facts
    from engine.services.users import create_user

    roles = [r for value in args.role for r in value.split(",")]
    facts = {
        key: value
        for key, value in (("hire_date", args.hire_date), ("monthly_salary", args.salary))
        if value is not None
    }
    if args.shift_worker:
        facts["shift_worker"] = True
    with session_scope(_sessions()) as session:
        user = create_user(
            session,
            email=args.email,
            name=args.name,
            roles=roles,
            manager_email=args.manager,
            department=args.department,
        )
        # In the same transaction: a fact refused leaves no half-made user behind.
        update_facts(session, user, facts, actor=None)
        print(f"created user {user.email} with roles {', '.join(sorted(user.roles))}")
    return 0


def cmd_users_invite(args) -> int:
    from engine.services.credentials import invite

    with session_scope(_sessions()) as session:
        issued = invite(session, email=args.email, actor=None)
    # No e-mail is sent yet: whoever runs this passes the code on.
    print(f"activation code for {issued.user.email}, valid until {issued.expires_at:%Y-%m-%d %H:%M} UTC:")
    print("set the password at /activate (web) or POST /api/v1/auth/activate with this code (shown once):")
    print(issued.code)
    return 0


def cmd_tokens_create(args) -> int:
    from engine.services.users import create_token

    with session_scope(_sessions()) as session:
        token = create_token(session, email=args.email)
    print(f"API token for {args.email.strip().lower()} (shown once):")
    print(token)
    return 0


def cmd_import_staff(args) -> int:
    from engine.errors import InvalidData
    from engine.services.staff_import import CHUNK, import_staff

    def progress(done: int, total: int) -> None:
        if total > CHUNK:  # a short file needs no progress lines
            print(f"imported {done}/{total} rows", file=sys.stderr, flush=True)

    data = Path(args.file).read_bytes()
    try:
        with session_scope(_sessions()) as session:
            report = import_staff(session, data, actor=None, progress=progress)
    except InvalidData as exc:
        print(f"refused: {args.file}: {exc.message}", file=sys.stderr)
        for problem in exc.details or []:
            print(f"  {problem['field']}: {problem['message']}", file=sys.stderr)
        return 1
    # Rows are named by spreadsheet row and personnel number only: this output may end up in logs.
    print(f"imported {args.file}: " + ", ".join(f"{k} {v}" for k, v in report.counts().items()))
    print(
        f"departments: {report.departments_created} created, {report.departments_updated} updated; "
        f"manager role: {report.manager_role_granted} granted, {report.manager_role_revoked} revoked"
    )
    for entry in report.rejected:
        number = entry["personnel_number"] or "none"
        print(f"  rejected row {entry['row']} (personnel number {number}): {entry['reason']}")
    for entry in report.warnings:
        where = f"row {entry['row']} (personnel number {entry['personnel_number']})" if entry["row"] else ""
        print(f"  warning{', ' + where if where else ''}: {entry['message']}")
    return 0


def cmd_demo(_args) -> int:
    from datetime import date

    from engine.services.demo import DEMO_PASSWORD, give_demo_passwords, seed_bonus_demo, seed_demo

    with session_scope(_sessions()) as session:
        seeded = seed_demo(session)
        give_demo_passwords(session, [user for _person, user, _token in seeded])
        # Salaries, this year's bonus funds and the bonus coordinators: a filed bonus routes at once.
        bonus_setup = seed_bonus_demo(
            session, {person.key: user for person, user, _token in seeded}, year=date.today().year
        )
        print("Demo organisation (e-mail, roles, API token):")
        for _person, user, token in seeded:
            print(f"  {user.email:<32} {','.join(sorted(user.roles)):<20} {token}")
    for line in bonus_setup:
        print(f"Bonus route: set {line}")
    print('Try: curl -H "Authorization: Bearer <token>" http://127.0.0.1:8000/api/v1/tasks')
    print(f"Web sign-in: http://127.0.0.1:8000/login with any e-mail above and the password {DEMO_PASSWORD}")
    return 0


def cmd_serve(args) -> int:
    from api.server import serve

    serve(host=args.host, port=args.port, workers=args.workers, threads=args.threads)
    return 0


def cmd_worker(args) -> int:
    # The worker is its own process and its own package; api never imports it.
    argv = [sys.executable, "-m", "worker", *(["--burst"] if args.burst else [])]
    os.execv(sys.executable, argv)  # noqa: S606 - a fixed argv, no shell
    return 0


def cmd_audit_verify(_args) -> int:
    from engine.services.audit import verify

    with session_scope(_sessions()) as session:
        result = verify(session)
    print(result.message, file=sys.stdout if result.intact else sys.stderr)
    return 0 if result.intact else 1


def _as_of(value: str | None):
    from datetime import date

    from engine.models._types import utcnow

    if value is None:
        return utcnow().date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--as-of must be a date YYYY-MM-DD, not '{value}'") from None


def cmd_purge(args) -> int:
    from engine.services import purge

    as_of = args.as_of or _as_of(None)
    sessions = _sessions()
    if args.dry_run:
        with session_scope(sessions) as session:
            due = list(purge.candidates(session, as_of))
        for c in due:
            what = "held, would skip" if c.held else "would purge"
            print(
                f"{what}: {c.instance_id} {c.process_key} closed {c.closed_at.date()} "
                f"{c.retention_class} kept until {c.retain_until}"
            )
        held = sum(c.held for c in due)
        print(f"dry run as of {as_of}: {len(due) - held} to purge, {held} held")
        return 0
    purged, held = purge.purge(sessions, as_of=as_of)
    for record in purged:
        print(
            f"purged: {record.instance_id} {record.process_key} closed {record.closed_at.date()} "
            f"{record.retention_class} kept until {record.retain_until}"
        )
    for c in held:
        print(f"held, skipped: {c.instance_id} {c.process_key} kept until {c.retain_until}")
    print(f"purge as of {as_of}: {len(purged)} purged, {len(held)} held")
    return 0


def cmd_retention_list(_args) -> int:
    from engine.services import retention

    print("classes:")
    for c in retention.CLASSES.values():
        print(f"  {c.name:<16} {c.years:>3} years  {c.basis}")
    print("process keys:")
    with session_scope(_sessions()) as session:
        for row in retention.list_policies(session):
            print(f"  {row['process_key']:<24} {row['retention_class']:<16} ({row['source']})")
    return 0


def cmd_retention_set(args) -> int:
    from engine.services import retention

    with session_scope(_sessions()) as session:
        retention.set_policy(session, args.key, args.retention_class, actor=None)
    print(f"{args.key}: retention class {args.retention_class}")
    return 0


def cmd_rules_list(_args) -> int:
    from engine.services import rule_tables

    with session_scope(_sessions()) as session:
        states = rule_tables.list_current(session, list(rule_tables.TABLES.values()))
    for state in states:
        when = "defaults"
        if state.version:
            when = f"{state.updated_at:%Y-%m-%d %H:%M} UTC by {state.updated_by or 'cli'}"
        print(f"{state.name:<22} v{state.version:<4} {state.spec.title:<34} {when}")
    return 0


def cmd_rules_export(args) -> int:
    from engine.services import rule_tables

    with session_scope(_sessions()) as session:
        state = rule_tables.current(session, args.name)
    data = rule_tables.to_csv(state.spec, state.rows)
    if args.output:
        Path(args.output).write_bytes(data)
        print(f"{state.name} version {state.version}: {len(state.rows)} rows written to {args.output}")
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0


def cmd_rules_import(args) -> int:
    from engine.errors import InvalidData
    from engine.services import rule_tables

    data = Path(args.file).read_bytes()
    try:
        with session_scope(_sessions()) as session:
            state, changed = rule_tables.import_csv(
                session, args.name, data, actor=None, comment=args.comment
            )
    except InvalidData as exc:
        print(f"refused: {args.file}: {exc.message}", file=sys.stderr)
        for problem in exc.details or []:
            where = f"row {problem['row']}" if problem.get("row") is not None else "table"
            column = f", {problem['field']}" if problem.get("field") else ""
            print(f"  {where}{column}: {problem['message']}", file=sys.stderr)
        return 1
    if not changed:
        print(f"unchanged: {state.name} version {state.version}")
        return 0
    counts = rule_tables.diff_counts(state.diff)
    print(
        f"imported: {state.name} version {state.version} "
        f"({counts['added']} added, {counts['removed']} removed, {counts['changed']} changed)"
    )
    return 0


def _hire_date(value: str):
    from datetime import date

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--hire-date must be a date YYYY-MM-DD, not '{value}'") from None


def _salary(value: str):
    from engine.services.person_facts import parse_salary

    try:
        return parse_salary(value)
    except ValueError as exc:
        # The reason only: a salary is personal data, and terminal output may end up in logs.
        raise argparse.ArgumentTypeError(f"--salary: {exc}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="approute", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("init", help="create or upgrade the database schema").set_defaults(func=cmd_init)

    deploy = sub.add_parser("deploy", help="deploy bundle folders, or files as one bundle")
    deploy.add_argument("paths", nargs="+")
    deploy.set_defaults(func=cmd_deploy)

    users = sub.add_parser("users", help="manage people").add_subparsers(dest="users_command", required=True)
    create = users.add_parser("create", help="create a user")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True)
    create.add_argument(
        "--role", action="append", required=True, help="employee, manager, hr, designer or admin; repeatable"
    )
    create.add_argument("--manager", help="the line manager's e-mail")
    create.add_argument("--department", help="department code")
    create.add_argument("--hire-date", type=_hire_date, help="YYYY-MM-DD; the working year runs from it")
    create.add_argument("--salary", type=_salary, help="monthly salary in roubles, e.g. 85000 or 85000.50")
    create.add_argument("--shift-worker", action="store_true", help="the person works shifts")
    create.set_defaults(func=cmd_users_create)
    invite = users.add_parser("invite", help="issue a one-time activation code (valid 7 days); printed last")
    invite.add_argument("--email", required=True)
    invite.set_defaults(func=cmd_users_invite)

    tokens = sub.add_parser("tokens", help="manage API tokens").add_subparsers(
        dest="tokens_command", required=True
    )
    token = tokens.add_parser("create", help="issue an API token; printed as the last line")
    token.add_argument("--email", required=True)
    token.set_defaults(func=cmd_tokens_create)

    sub.add_parser("demo", help="seed the demo organisation and print its tokens").set_defaults(func=cmd_demo)

    staff = sub.add_parser("import-staff", help="import payroll's staff CSV (UTF-8; ';' or ',')")
    staff.add_argument("file", help="the CSV file")
    staff.set_defaults(func=cmd_import_staff)

    serve = sub.add_parser("serve", help="serve the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers", type=int, default=None, help="processes (default: 1 embedded, 4 otherwise)"
    )
    serve.add_argument("--threads", type=int, default=None, help="threads per process")
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="run a background worker (needs APPROUTE_REDIS_URL)")
    worker.add_argument("--burst", action="store_true", help="stop once the queues are empty")
    worker.set_defaults(func=cmd_worker)

    audit = sub.add_parser("audit", help="the audit trail").add_subparsers(
        dest="audit_command", required=True
    )
    audit.add_parser("verify", help="walk the hash chain; exit 1 at the first broken link").set_defaults(
        func=cmd_audit_verify
    )

    purge = sub.add_parser("purge", help="delete the personal data of requests past retention")
    purge.add_argument("--dry-run", action="store_true", help="list what would be purged and held")
    purge.add_argument("--as-of", type=_as_of, help="the day to judge retention on (default: today)")
    purge.set_defaults(func=cmd_purge)

    keep = sub.add_parser("retention", help="retention classes of process keys").add_subparsers(
        dest="retention_command", required=True
    )
    keep.add_parser("list", help="classes and each key's class").set_defaults(func=cmd_retention_list)
    assign = keep.add_parser("set", help="give a process key a retention class")
    assign.add_argument("key")
    assign.add_argument("retention_class")
    assign.set_defaults(func=cmd_retention_set)

    rules = sub.add_parser("rules", help="rule tables HR edits").add_subparsers(
        dest="rules_command", required=True
    )
    rules.add_parser("list", help="every rule table with its current version").set_defaults(
        func=cmd_rules_list
    )
    export = rules.add_parser("export", help="a table's current rows as CSV (UTF-8 with BOM, ';')")
    export.add_argument("name")
    export.add_argument("--output", "-o", help="the file to write (default: standard output)")
    export.set_defaults(func=cmd_rules_export)
    load = rules.add_parser("import", help="replace a table's rows with a CSV file; exit 1 if refused")
    load.add_argument("name")
    load.add_argument("file", help="the CSV file")
    load.add_argument("--comment", default="", help="why the table changes (kept with the version)")
    load.set_defaults(func=cmd_rules_import)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `approute` console script."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except EngineError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        for problem in exc.details or []:
            print(f"  {problem}", file=sys.stderr)
        return 1
    except (FileNotFoundError, ConfigurationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
