"""The `approute` command: set up the database, deploy bundles, manage people, serve, work."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from engine.config import Settings
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
    from engine.services.users import create_user

    roles = [r for value in args.role for r in value.split(",")]
    with session_scope(_sessions()) as session:
        user = create_user(
            session,
            email=args.email,
            name=args.name,
            roles=roles,
            manager_email=args.manager,
            department=args.department,
        )
        print(f"created user {user.email} with roles {', '.join(sorted(user.roles))}")
    return 0


def cmd_tokens_create(args) -> int:
    from engine.services.users import create_token

    with session_scope(_sessions()) as session:
        token = create_token(session, email=args.email)
    print(f"API token for {args.email.strip().lower()} (shown once):")
    print(token)
    return 0


def cmd_demo(_args) -> int:
    from engine.services.demo import seed_demo

    with session_scope(_sessions()) as session:
        seeded = seed_demo(session)
        print("Demo organisation (e-mail, roles, API token):")
        for _person, user, token in seeded:
            print(f"  {user.email:<32} {','.join(sorted(user.roles)):<20} {token}")
    print('Try: curl -H "Authorization: Bearer <token>" http://127.0.0.1:8000/api/v1/tasks')
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
    create.set_defaults(func=cmd_users_create)

    tokens = sub.add_parser("tokens", help="manage API tokens").add_subparsers(
        dest="tokens_command", required=True
    )
    token = tokens.add_parser("create", help="issue an API token; printed as the last line")
    token.add_argument("--email", required=True)
    token.set_defaults(func=cmd_tokens_create)

    sub.add_parser("demo", help="seed the demo organisation and print its tokens").set_defaults(func=cmd_demo)

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
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
