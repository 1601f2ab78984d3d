"""Files under the data directory. Paths stored in the database are relative to it and built only
from ids and checksums, never from user-supplied names."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from app.config import get_settings


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
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
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
