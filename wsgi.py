"""WSGI entry point: ``gunicorn wsgi:app``."""

import sys

from portal import ConfigError, create_app

try:
    app = create_app()
except ConfigError as exc:
    # One line for the operator, no traceback: what is missing and that we refused.
    sys.stderr.write(f"portal: configuration error: {exc}\n")
    raise SystemExit(2) from None
