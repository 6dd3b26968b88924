"""The live gunicorn of the race tests serves here too (the rotation under load)."""

from tests.concurrency.conftest import live_server  # noqa: F401
