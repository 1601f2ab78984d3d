"""An import started from the browser (or the API) as a tracked job: the request stages the files in the data
directory and answers at once; the job imports them with app/flows/imports.py, reporting each file, and
can be cancelled between files (then nothing of it is kept: the import is one transaction).

Duplicates are left out and reported per file rather than refusing the batch (a person dropping a folder
twice expects the new files in); anything else a file gets wrong still refuses the whole import, with a
message naming the file.
"""

from __future__ import annotations

import logging
import posixpath
import shutil
from collections.abc import Iterable

from sqlalchemy.orm import Session

from app import storage
from app.auth.models import User
from app.db import session_scope
from app.errors import DomainError
from app.flows import imports
from app.formats import Bundle, FormatError, check_path, read_folder, read_zip
from app.items.models import Split
from app.jobs import enqueue, job, progress
from app.jobs.models import JobRun, JobStatus
from app.projects.models import Project

log = logging.getLogger(__name__)

JOB = "labelwise.import"


def bundle_of(*, images: Iterable[tuple[str, bytes]], zips: Iterable[tuple[str, bytes]] = (),
              masks: Iterable[tuple[str, bytes]] = (), annotations: tuple[str, bytes] | None = None) -> Bundle:
    """The uploaded files as one bundle: images by their base name, each zip's files under the zip's name
    (two zips may both hold images/a.png), masks under masks/, a COCO or Label Studio file at the top."""
    bundle: Bundle = {}

    def put(name: str, data: bytes, what: str) -> None:
        name = check_path(name)
        if name in bundle:
            raise FormatError(f"two {what} are named {posixpath.basename(name)!r}")
        bundle[name] = data

    for name, data in images:
        put(f"images/{_base(name)}", data, "images")
    for name, data in masks:
        put(f"masks/{_base(name)}", data, "masks")
    for name, data in zips:
        stem = posixpath.splitext(_base(name))[0] or "archive"
        try:
            files = read_zip(data)
        except FormatError as exc:  # say which of the uploaded zips
            raise FormatError(f"{_base(name)}: {exc}") from None
        for inner, inner_data in files.items():
            put(f"{stem}/{inner}", inner_data, "files")
    if annotations is not None:
        if annotations[1].lstrip()[:1] not in (b"{", b"["):
            raise FormatError(f"annotations: {annotations[0]!r} is not a JSON file")
        put(f"annotations-{posixpath.splitext(_base(annotations[0]))[0]}.json", annotations[1], "annotation files")
    if not bundle:
        raise FormatError("files: choose at least one image or zip")
    return bundle


def _base(name: str) -> str:
    return posixpath.basename(name.replace("\\", "/")) or "upload"


def start_import(*, session: Session, project: Project, user: User, bundle: Bundle, split: Split) -> JobRun:
    """Stage the bundle, make the tracked job's row, commit, and send the job."""
    run = progress.track(session=session, name=JOB, args=[], project_id=project.id, user_id=user.id,
                         message=f"{len(bundle)} files uploaded, waiting for a worker")
    staged = f"staging/{run.job_id}"
    try:
        for name, data in bundle.items():
            storage.write_atomic(f"{staged}/{name}", data)
        run.args = [project.id, user.id, staged, split.value]
        session.commit()
    except BaseException:
        session.rollback()
        shutil.rmtree(storage.absolute(staged), ignore_errors=True)
        raise
    enqueue(JOB, *run.args, job_id=run.job_id)
    return run


@job(JOB, queue="default")
def run_import(project_id: int, user_id: int, staged: str, split: str) -> dict:
    """Import the staged files; idempotent (a finished job is not run again by app.jobs.execute)."""
    job_id = progress.current_job_id() or ""
    folder = storage.absolute(staged)
    keep = False  # the staged files stay only for a retry after an unexpected failure
    try:
        with session_scope() as session:
            project = session.get(Project, project_id)
            user = session.get(User, user_id)
            if project is None or user is None:
                return _refused(job_id, "the project or the user who started the import no longer exists")
            try:
                bundle = read_folder(folder)
                done = imports.import_bundle(session=session, project=project, bundle=bundle, split=Split(split),
                                             user=user, progress=progress.report, skip_duplicates=True)
            except DomainError as exc:  # the input is refused: trying again would refuse it again
                session.rollback()
                return _refused(job_id, str(exc))
            result = {"kind": done.kind, "annotations": done.annotations,
                      "imported": [{"name": i.original_name, "item_id": i.id} for i in done.items],
                      "skipped": [{"name": n, "reason": why} for n, why in done.skipped]}
            summary = (f"imported {len(done.items)} images" + (f" ({done.kind})" if done.kind != "images" else "")
                       + (f", {done.annotations} starting annotations" if done.annotations else "")
                       + (f"; {len(done.skipped)} duplicates skipped" if done.skipped else ""))
        with session_scope() as session:
            progress.settle(session=session, job_id=job_id, message=summary, result=result)
        return result
    except progress.Cancelled:
        raise
    except Exception:
        keep = True
        raise
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


def _refused(job_id: str, message: str) -> dict:
    """A refused import ends as dead (not retried), with the reason on its row; its files are dropped."""
    with session_scope() as session:
        progress.settle(session=session, job_id=job_id, status=JobStatus.dead, message=f"refused: {message}")
    return {"refused": message}
