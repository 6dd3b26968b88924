"""The backup tests' database fixtures serve the restore drill too."""

from tests.backup.test_backup import app_for, new_database  # noqa: F401
