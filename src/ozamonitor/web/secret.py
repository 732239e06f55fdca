"""The secret key: generated once into the data folder, readable by its owner only."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path


def read_or_create_secret_key(path: Path) -> str:
    """Return the key stored in ``path``, creating it (mode 0600) on first use.

    The file is created with ``O_EXCL``, so two processes starting at once
    agree on one key: the loser reads the winner's.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(100):  # another process may be writing it right now
            key = path.read_text(encoding="ascii").strip()
            if len(key) >= 40:
                return key
            time.sleep(0.02)
        raise RuntimeError(f"{path}: the secret key is too short or empty") from None
    key = secrets.token_urlsafe(64)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key + "\n")
        f.flush()
        os.fsync(f.fileno())
    return key
