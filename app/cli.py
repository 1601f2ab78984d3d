"""The `labelwise` command (Typer). Exit codes: 0 done, 2 bad input (one line on stderr, nothing written),
1 a failure while working (also one line), 130 interrupted.

    labelwise [--data-dir DIR] serve | worker | migrate | demo | import | export | train | score | simulate
    labelwise users create | set-role | deactivate | token          (create-user: the old name of users create)

Every command works on the database the settings point at (LABELWISE_DATABASE_URL, or the SQLite
database in the data directory, the embedded demo's included).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import click
import typer

from app.config import get_settings
from app.errors import Conflict, DomainError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.projects.models import Project

cli = typer.Typer(name="labelwise", help="Model-guided image segmentation labeling.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False,
                  context_settings={"help_option_names": ["-h", "--help"]})
users = typer.Typer(help="Manage user accounts.", no_args_is_help=True)
cli.add_typer(users, name="users")


class BadInput(Exception):
    """Bad input found by the CLI itself: exit 2."""


class RoleName(StrEnum):
    annotator = "annotator"
    lead = "lead"
    admin = "admin"


class ExportFormat(StrEnum):
    coco = "coco"
    png = "png"
    labelstudio = "labelstudio"


class SplitName(StrEnum):
    pool = "pool"
    validation = "validation"
    all = "all"


def _use_data_dir(path: Path | None) -> None:
    if path:
        os.environ["LABELWISE_DATA_DIR"] = str(path)
        get_settings.cache_clear()
        from app.db import reset_engine

        reset_engine()


@cli.callback()
def _root(
    data_dir: Annotated[Path | None, typer.Option(help="data directory (default: $LABELWISE_DATA_DIR or "
                                                       "./labelwise-data)")] = None,
) -> None:
    """Model-guided image segmentation labeling."""
    _use_data_dir(data_dir)


@contextmanager
def _session() -> Iterator[Session]:
    from app.db import session_scope

    with session_scope() as session:
        yield session


def _project(session: Session, ref: str) -> Project:
    """A project by name, or by id when the reference is a number no project is named."""
    from app.projects import service as project_service
    from app.projects.models import Project

    project = project_service.get_by_name(session=session, name=ref)
    if project is None and ref.isdigit():
        project = session.get(Project, int(ref))
    if project is None:
        raise BadInput(f"no project named {ref!r} (or with that id)")
    return project


@contextmanager
def _progress(description: str) -> Iterator[Callable[..., None]]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  transient=True, disable=not sys.stderr.isatty()) as progress:
        task = progress.add_task(description, total=None)

        def update(done: int, total: int, what: str | None = None) -> None:
            progress.update(task, completed=done, total=total, description=what or description)

        yield update


# --- server and workers ---------------------------------------------------------------------------

@cli.command()
def serve(host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="port")] = 8000) -> int:
    """Serve the web application."""
    import uvicorn

    from app.main import create_app
    from app.observability import configure_logging

    configure_logging()  # JSON lines with the request id
    uvicorn.run(create_app(), host=host, port=port, log_level="warning", log_config=None)
    return 0


@cli.command()
def worker(
    queues: Annotated[str, typer.Option("--queues", "-Q", help="comma-separated Celery queues")]
    = "default,training,scoring",
    concurrency: Annotated[int | None, typer.Option(help="worker processes (default: one per core)")] = None,
) -> int:
    """Run a Celery worker (`celery -A workers.celery_app worker`); needs LABELWISE_BROKER_URL."""
    if get_settings().in_process_worker:
        raise BadInput("LABELWISE_BROKER_URL is not set: without a broker the server runs jobs itself")
    argv = [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "-Q", queues, "--loglevel", "INFO"]
    if concurrency:
        argv += ["--concurrency", str(concurrency)]
    sys.stdout.flush()
    os.execv(sys.executable, argv)  # replaces this process: signals reach Celery directly
    return 1  # pragma: no cover


@cli.command()
def migrate() -> int:
    """Upgrade the database to the newest schema."""
    from app.migrate import upgrade_head

    upgrade_head()
    print(f"database at head: {get_settings().resolved_database_url.split('@')[-1]}")
    return 0


@cli.command()
def demo(
    port: Annotated[int, typer.Option(help="port")] = 8000,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    once: Annotated[bool, typer.Option("--once", help="run the whole loop headless, print a line per step, exit")]
    = False,
    images: Annotated[int, typer.Option(help="pool charts", min=1)] = 40,
    validation: Annotated[int, typer.Option(help="validation charts")] = 10,
    size: Annotated[int, typer.Option(help="chart size in pixels", min=32)] = 256,
    seed_labels: Annotated[int, typer.Option(help="pool charts labeled before the first model")] = 8,
    retrain_every: Annotated[int, typer.Option(help="new labels that trigger a retrain")] = 5,
) -> int:
    """Seed a demo project and serve it (or run the loop once, headless)."""
    from app import demo as demo_module
    from app.migrate import upgrade_head

    settings = get_settings()
    if not settings.in_process_worker:
        raise BadInput("the demo runs its own in-process worker; unset LABELWISE_BROKER_URL")
    cfg = demo_module.DemoConfig(pool_images=images, validation_images=validation, size=size,
                                 seed_labels=seed_labels, retrain_every=retrain_every)
    print(f"[setup] data directory {settings.data_dir.resolve()}, database {settings.resolved_database_url}")
    try:
        upgrade_head()
        if once:
            demo_module.run_once(cfg, echo=lambda line: print(line, flush=True))
            print("[done] the whole loop ran; the demo project and its labels are kept in the data directory")
            return 0
        demo_module.ensure_users()  # before serving, so the logins below work at once
    except demo_module.DemoError as exc:
        print(f"labelwise demo: failed: {exc}", file=sys.stderr)
        return 1
    # The server answers at once; the project, its seed labels and the first model are made behind it
    # (minutes on 2 cores on a fresh data folder), and the pages show them as they arrive.
    demo_module.prepare_in_background(cfg, echo=lambda line: print(line, flush=True))
    url = f"http://{host}:{port}/"
    print(f"\nLabelwise is running at {url}  (Ctrl+C to stop)")
    print("Log in as one of:")
    for name, password, role in demo_module.DEMO_USERS:
        print(f"  {role.value:<10} {name} / {password}")
    print("The demo project appears on the projects page within seconds; its first model trains behind it "
          "(the labeling page's header strip says so) and '[ready]' is printed here once the queue is ranked.",
          flush=True)
    return serve(host=host, port=port)


# --- data in and out --------------------------------------------------------------------------------

@cli.command("import")
def import_(
    project: Annotated[str, typer.Argument(help="project name or id")],
    source: Annotated[Path, typer.Argument(help="a folder of images, a zip, or one image file")],
    masks: Annotated[Path | None, typer.Option(help="folder of PNG masks (same stems; pixel = class id, "
                                                    "255 = unlabeled) imported as starting annotations")] = None,
    coco: Annotated[Path | None, typer.Option(help="a COCO file (RLE or polygons) for the images in SOURCE")] = None,
    labelstudio: Annotated[Path | None, typer.Option(help="a Label Studio JSON export (brush or polygon results) "
                                                          "for the images in SOURCE")] = None,
    split: Annotated[str, typer.Option(help="pool or validation")] = "pool",
    user: Annotated[str | None, typer.Option(help="author of imported annotations (default: the project's "
                                                  "creator)")] = None,
) -> int:
    """Import images, and optionally their masks, COCO or Label Studio annotations: all or nothing.

    A zip or folder may also carry the annotations itself (one COCO or Label Studio .json, or a masks/
    folder). Images are decoded, turned upright (EXIF) and re-encoded; an image the project already has
    refuses the whole import, so no existing label is touched.
    """
    from app.auth import service as auth_service
    from app.flows import imports
    from app.formats import read_folder
    from app.items.models import Split

    if coco and labelstudio:
        raise BadInput("give --coco or --labelstudio, not both")
    if split not in ("pool", "validation"):
        raise BadInput(f"unknown split {split!r}; use pool or validation")
    bundle = imports.bundle_from_path(source)
    if masks is not None:
        bundle.update({f"masks/{name}": data for name, data in read_folder(masks).items()})
    annotations_file = coco or labelstudio
    annotations = (annotations_file.name, _read_file(annotations_file)) if annotations_file else None
    with _session() as session:
        target = _project(session, project)
        author = None
        if user is not None:
            author = auth_service.get_by_username(session=session, username=user)
            if author is None:
                raise BadInput(f"no user named {user!r}")
        with _progress("importing") as progress:
            result = imports.import_bundle(session=session, project=target, bundle=bundle, split=Split(split),
                                           user=author, annotations=annotations, progress=progress)
        print(f"imported {len(result.items)} images ({result.kind}) into {target.name!r} with "
              f"{result.annotations} annotations")
    return 0


def _read_file(path: Path) -> bytes:
    if not path.is_file():
        raise BadInput(f"{path} does not exist")
    return path.read_bytes()


@cli.command()
def export(
    project: Annotated[str, typer.Argument(help="project name or id")],
    format: Annotated[ExportFormat, typer.Option("--format", "-f", help="coco, png or labelstudio")],
    out: Annotated[Path, typer.Option(help="a .zip, a new or empty folder, or (coco, labelstudio) a .json "
                                           "for the annotations alone")],
    version: Annotated[str, typer.Option(help="latest: each task's newest submitted annotation")] = "latest",
    split: Annotated[SplitName, typer.Option(help="pool, validation or all")] = SplitName.all,
    machine_labels: Annotated[bool, typer.Option(help="include machine labels, marked as such (none exist "
                                                      "yet: no effect today)")] = False,
) -> int:
    """Export a project's labels as COCO (RLE), PNG masks with colour previews, or Label Studio JSON."""
    from app.flows import export as export_flow
    from app.formats import coco, labelstudio, write_folder, write_zip

    export_flow.check_options(fmt=format.value, version=version, split=split.value)
    as_json = out.suffix.lower() == ".json"
    if as_json and format == ExportFormat.png:
        raise BadInput("PNG masks are many files: give --out a .zip or a folder")
    if not as_json and out.suffix.lower() != ".zip" and out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BadInput(f"{out} exists and is not an empty folder")
    with _session() as session:
        target = _project(session, project)
        with _progress("exporting") as progress:
            bundle = export_flow.export_project(session=session, project=target, fmt=format.value, version=version,
                                                split=split.value, include_machine=machine_labels,
                                                progress=progress)
        name = target.name
    n_images = sum(1 for k in bundle if k.startswith("images/"))
    if as_json:
        out.write_bytes(bundle[coco.ANNOTATIONS if format == ExportFormat.coco else labelstudio.TASKS])
    elif out.suffix.lower() == ".zip":
        out.write_bytes(write_zip(bundle))
    else:
        write_folder(bundle, out)
    print(f"exported {n_images} labeled images of {name!r} as {format.value} to {out}")
    return 0


# --- the model ------------------------------------------------------------------------------------

def _wait(model_version_id: int) -> None:
    """Until the version is trained, scored and ranked; with the in-process worker, until it is idle (the
    jobs run in this process's threads and must finish before it exits)."""
    from app import demo as demo_module
    from app.jobs import current_in_process_worker

    worker = current_in_process_worker()
    if worker is not None:
        worker.wait_idle()
        if worker.failures:
            raise RuntimeError(f"a job failed: {worker.failures[-1]}")
    try:
        demo_module.wait_ranked(model_version_id, timeout=24 * 3600)
    except demo_module.DemoError as exc:
        raise RuntimeError(str(exc)) from None


@cli.command()
def train(project: Annotated[str, typer.Argument(help="project name or id")],
          wait: Annotated[bool, typer.Option(help="wait until trained, scored and ranked (always, without a "
                                                  "broker: the jobs run in this process)")] = False) -> int:
    """Train a new model version on the labeled pool (then it scores and ranks the queue)."""
    from app.flows import training
    from app.modeling import service as model_service

    with _session() as session:
        target = _project(session, project)
        mv = training.request_training(session=session, project=target, reason="requested")
        if mv is None:
            pending = model_service.pending_version(session=session, project_id=target.id)
            raise BadInput(f"model v{pending.version if pending else '?'} is already queued or training")
        mv_id, version = mv.id, mv.version
    training.enqueue_training(mv)
    print(f"model v{version} queued for {project!r}")
    if wait or get_settings().in_process_worker:
        _wait(mv_id)
        from app.modeling.models import ModelVersion

        with _session() as session:
            done = session.get(ModelVersion, mv_id)
            gate = (done.metrics.get("gate") or {}).get("reason", "") if done is not None else ""
            held_back = done is not None and done.held_back
        print(f"model v{version} trained but held back: {gate}; promote it on the model versions page if you want it"
              if held_back else f"model v{version} trained, scored and ranked")
    return 0


@cli.command()
def score(project: Annotated[str, typer.Argument(help="project name or id")],
          wait: Annotated[bool, typer.Option(help="wait until ranked (always, without a broker)")] = False) -> int:
    """Score the open tasks with the live model version, then rank the queue."""
    from app.flows import scoring
    from app.modeling import promotion

    with _session() as session:
        target = _project(session, project)
        mv = promotion.live_version(session=session, project_id=target.id)
        if mv is None:
            raise BadInput(f"project {target.name!r} has no trained model version yet: run `labelwise train`")
        mv_id, version = mv.id, mv.version
    run_id, chunks = scoring.start_scoring(mv_id)
    print(f"scoring run {run_id} with model v{version}: {chunks} chunks")
    if wait or get_settings().in_process_worker:
        _wait(mv_id)
        print("scored and ranked")
    return 0


@cli.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True,
                               "help_option_names": []}, add_help_option=False)
def simulate(ctx: typer.Context) -> int:
    """Replay ground-truth masks: labels each strategy needs to reach a target (`simulate --help`)."""
    import argparse

    from app.simulation import cli as simulate_cli

    parser = argparse.ArgumentParser(prog="labelwise simulate", description="replay ground-truth masks: labels "
                                     "each strategy needs to reach a target")
    simulate_cli.add_arguments(parser)
    try:
        args = parser.parse_args(ctx.args)
    except SystemExit as exc:  # --help (0) or argparse's own usage error (2, one line on stderr)
        return int(exc.code or 0)
    return int(simulate_cli.main(args))


# --- users ----------------------------------------------------------------------------------------

@users.command("create")
def users_create(username: Annotated[str, typer.Argument(help="login name")],
                 password: Annotated[str, typer.Option(help="10 or more characters, not a common one")],
                 role: Annotated[RoleName, typer.Option(help="annotator, lead or admin")] = RoleName.annotator,
                 ) -> int:
    """Add a user."""
    from app.auth import service
    from app.auth.models import Role

    with _session() as session:
        if service.get_by_username(session=session, username=username):
            print(f"labelwise: user {username!r} exists already", file=sys.stderr)
            return 1
        try:
            service.create_user(session=session, username=username, password=password, role=Role(role.value))
        except Conflict as exc:  # the same name in other letters: exists too (1); the policy's refusals are 2
            print(f"labelwise: {exc}", file=sys.stderr)
            return 1
    print(f"created {role.value} {username!r}")
    return 0


cli.command("create-user", hidden=True, help="Add a user (the old name of `users create`).")(users_create)


def _user(session: Session, username: str):  # type: ignore[no-untyped-def]
    from app.auth import service

    user = service.get_by_username(session=session, username=username)
    if user is None:
        raise BadInput(f"no user named {username!r}")
    return user


@users.command("set-role")
def users_set_role(username: Annotated[str, typer.Argument(help="login name")],
                   role: Annotated[RoleName, typer.Argument(help="annotator, lead or admin")]) -> int:
    """Change a user's role (the last active admin cannot be demoted: exit 2)."""
    from app.auth.models import Role
    from app.people import service as people

    with _session() as session:
        user = _user(session, username)
        before = user.role.value
        people.set_role(session=session, admin=None, user=user, role=Role(role.value))
    print(f"{username!r} is now {role.value} (was {before})")
    return 0


@users.command("deactivate")
def users_deactivate(username: Annotated[str, typer.Argument(help="login name")]) -> int:
    """Deactivate a user: they can no longer log in and their sessions end; their labels stay (the last
    active admin cannot be deactivated: exit 2)."""
    from app.people import service as people

    with _session() as session:
        people.deactivate(session=session, admin=None, user=_user(session, username))
    print(f"{username!r} is deactivated")
    return 0


@users.command("token")
def users_token(username: Annotated[str, typer.Argument(help="login name")],
                name: Annotated[str, typer.Option(help="what the token is for")] = "cli") -> int:
    """Print a new API token for a user (on the last line): send it as `Authorization: Bearer <token>`.
    Only its hash is kept, so it cannot be shown again; revoke it on the user's account page."""
    from app.auth import tokens

    with _session() as session:
        user = _user(session, username)
        if not user.is_active:
            raise BadInput(f"{username!r} is deactivated: a token of theirs would be refused")
        _row, token = tokens.create(session=session, user=user, name=name, by="cli")
    print(f"a new API token for {username!r} ({name}); it is shown this once:")
    print(token)
    return 0


# --- entry point ------------------------------------------------------------------------------------

def _fail(message: str, code: int) -> int:
    print(f"labelwise: {message}".splitlines()[0], file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    command = typer.main.get_command(cli)
    try:
        result = command.main(args=argv if argv is not None else sys.argv[1:], prog_name="labelwise",
                              standalone_mode=False)
    except (click.Abort, typer.Abort, KeyboardInterrupt):
        return 130
    except (click.exceptions.Exit, typer.Exit) as exc:
        return int(exc.exit_code)
    except (BadInput, DomainError) as exc:
        return _fail(str(exc), 2)
    except Exception as exc:
        # Click's usage errors (2) and other refusals; recent Typer raises those of its own copy of Click.
        if hasattr(exc, "format_message") and isinstance(getattr(exc, "exit_code", None), int):
            return _fail(exc.format_message(), int(exc.exit_code))  # type: ignore[attr-defined]
        logging.getLogger("labelwise").debug("command failed", exc_info=True)  # a failure while working
        return _fail(f"failed: {exc}", 1)
    return int(result) if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
