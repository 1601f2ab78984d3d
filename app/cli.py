"""The `labelwise` command: demo, serve, migrate, create-user, simulate (later)."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from app.config import get_settings


def _use_data_dir(path: str | None) -> None:
    if path:
        os.environ["LABELWISE_DATA_DIR"] = path
        get_settings.cache_clear()
        from app.db import reset_engine

        reset_engine()


def cmd_migrate(args: argparse.Namespace) -> int:
    from app.migrate import upgrade_head

    upgrade_head()
    print(f"database at head: {get_settings().resolved_database_url.split('@')[-1]}")
    return 0


def cmd_create_user(args: argparse.Namespace) -> int:
    from app.auth import service
    from app.auth.models import Role
    from app.db import session_scope
    from app.errors import Conflict, DomainError

    try:
        with session_scope() as session:
            service.create_user(session=session, username=args.username, password=args.password,
                                role=Role(args.role))
    except Conflict as exc:
        print(f"labelwise: {exc}", file=sys.stderr)
        return 1
    except DomainError as exc:  # the user name rules or the password policy
        print(f"labelwise: {exc}", file=sys.stderr)
        return 2
    print(f"created {args.role} {args.username!r}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.main import create_app
    from app.observability import configure_logging

    configure_logging()
    uvicorn.run(create_app(), host=args.host, port=args.port, log_level="warning", log_config=None)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from app import demo
    from app.migrate import upgrade_head

    settings = get_settings()
    if not settings.in_process_worker:
        print("labelwise: the demo runs its own in-process worker; unset LABELWISE_BROKER_URL", file=sys.stderr)
        return 2
    cfg = demo.DemoConfig(pool_images=args.images, validation_images=args.validation, size=args.size,
                          seed_labels=args.seed_labels, retrain_every=args.retrain_every)
    print(f"[setup] data directory {settings.data_dir.resolve()}, database {settings.resolved_database_url}")
    try:
        upgrade_head()
        if args.once:
            demo.run_once(cfg, echo=lambda line: print(line, flush=True))
            print("[done] the whole loop ran; the demo project and its labels are kept in the data directory")
            return 0
        project_id = demo.prepare_for_serving(cfg, echo=lambda line: print(line, flush=True))
    except demo.DemoError as exc:
        print(f"labelwise demo: failed: {exc}", file=sys.stderr)
        return 1
    url = f"http://{args.host}:{args.port}/"
    print(f"\nLabelwise is running at {url}  (Ctrl+C to stop)")
    print("Log in as one of:")
    for name, password, role in demo.DEMO_USERS:
        print(f"  {role.value:<10} {name} / {password}")
    print(f"The labeling page: {url}projects/{project_id}/label (log in first)", flush=True)
    return cmd_serve(args)


def cmd_simulate(args: argparse.Namespace) -> int:
    from app.simulation import cli as simulate_cli

    return simulate_cli.main(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labelwise", description="Model-guided image segmentation labeling.")
    parser.add_argument("--data-dir", help="data directory (default: $LABELWISE_DATA_DIR or ./labelwise-data)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="seed a demo project and serve it (or run the loop once, headless)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--once", action="store_true", help="run the whole loop headless, print a line per step, exit")
    p.add_argument("--images", type=int, default=40, help="pool charts")
    p.add_argument("--validation", type=int, default=10, help="validation charts")
    p.add_argument("--size", type=int, default=256, help="chart size in pixels")
    p.add_argument("--seed-labels", type=int, default=8, help="pool charts labeled before the first model")
    p.add_argument("--retrain-every", type=int, default=5, help="new labels that trigger a retrain")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("serve", help="serve the web application")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--host", default="127.0.0.1")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("migrate", help="upgrade the database to the newest schema")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("create-user", help="add a user")
    p.add_argument("username")
    p.add_argument("--password", required=True)
    p.add_argument("--role", choices=["annotator", "lead", "admin"], default="annotator")
    p.set_defaults(func=cmd_create_user)

    from app.simulation.cli import add_arguments as add_simulate_arguments

    p = sub.add_parser("simulate", help="replay ground-truth masks: labels each strategy needs to reach a target")
    add_simulate_arguments(p)
    p.set_defaults(func=cmd_simulate)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    _use_data_dir(args.data_dir)
    if getattr(args, "size", 64) < 32 or getattr(args, "images", 1) < 1:
        print("labelwise: --size must be at least 32 and --images at least 1", file=sys.stderr)
        return 2
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
