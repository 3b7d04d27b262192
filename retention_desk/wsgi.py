"""The app for a WSGI server: ``gunicorn 'retention_desk.wsgi:app'``.

Settings are checked when the app is built; a missing or placeholder secret, an unreachable database or any other
configuration error stops the server with one sentence instead of a traceback. The exit code 3 is the one gunicorn
reads as "the worker failed to boot": it stops instead of starting the worker again and again.
"""

from __future__ import annotations

import sys

from retention_desk import create_app
from retention_desk.config import ConfigError

WORKER_BOOT_ERROR = 3

try:
    app = create_app()
except ConfigError as exc:
    sys.stderr.write(f"Error: {exc}\n")
    sys.stderr.flush()
    sys.exit(WORKER_BOOT_ERROR)
