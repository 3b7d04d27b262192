"""An artifact's bytes: the joblib dump stored in the file and the database alike, its sha256, and writing files so
that a reader sees the old one or the whole new one. The registry (``ml.registry``) decides what is stored and
what may be loaded."""

from __future__ import annotations

import hashlib
import io
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import joblib

__all__ = ["TEMP_SUFFIX", "dump_artifact", "json_safe", "sha256_of", "write_atomically"]

TEMP_SUFFIX = ".tmp"


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def dump_artifact(obj: Any) -> bytes:
    """The joblib bytes of an artifact, as stored in the file and the database alike."""
    buffer = io.BytesIO()
    joblib.dump(obj, buffer, compress=3)
    return buffer.getvalue()


def json_safe(value: Any) -> Any:
    """The value with every NaN or infinity as None: JSON has no such numbers, and PostgreSQL refuses them.

    A hold-out figure that could not be computed (a policy value with no matching decision) is NaN.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value


def write_atomically(path: Path, data: bytes) -> None:
    """Temp file in the same folder, fsync, rename: a reader sees the old file or the whole new one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
