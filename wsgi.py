"""WSGI entry point: ``gunicorn wsgi:app``."""

import sys

from portal import ConfigError, create_app

try:
    app = create_app()
except ConfigError as exc:
    # One line for the operator, no traceback: what is missing and that we refused.
    sys.stderr.write(f"portal: configuration error: {exc}\n")
    # 3 is gunicorn's "worker failed to boot": the master stops instead of respawning
    # workers forever. Any other runner just sees a non-zero exit.
    raise SystemExit(3) from None
