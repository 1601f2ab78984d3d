"""Files under the data directory. Paths stored in the database are relative to it and built only
from ids and checksums, never from user-supplied names."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from app.config import get_settings

TEMP_PREFIX = ".tmp-"  # a half-written file; the sweep on start removes old ones
NEW_FILES = "labelwise_new_files"  # session.info key: files written for rows not yet committed


def data_dir() -> Path:
    return get_settings().data_dir.resolve()


def absolute(relative: str) -> Path:
    root = data_dir()
    path = (root / relative).resolve()
    if root not in path.parents:
        raise ValueError(f"path escapes the data directory: {relative}")
    return path


def write_atomic(relative: str, data: bytes) -> Path:
    """Write to a temporary file and rename, so a reader never sees half a file."""
    path = absolute(relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read(relative: str) -> bytes:
    return absolute(relative).read_bytes()


def write_in_transaction(session: Session, relative: str, data: bytes) -> Path:
    """Write a new file for a row of this session's transaction: if the transaction rolls back (or the
    session closes without committing), the file is deleted, so no file is left that no row points at.
    Only for paths no committed row uses (built from a new row's id)."""
    path = write_atomic(relative, data)
    session.info.setdefault(NEW_FILES, []).append(relative)
    return path


@event.listens_for(Session, "after_commit")
def _keep_new_files(session: Session) -> None:
    session.info.pop(NEW_FILES, None)


@event.listens_for(Session, "after_transaction_end")
def _discard_uncommitted_files(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:  # a savepoint: its outer transaction decides
        return
    for relative in session.info.pop(NEW_FILES, []):
        absolute(relative).unlink(missing_ok=True)
