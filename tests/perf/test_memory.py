"""A web worker loads only what every request needs (issue #15: memory per worker).

Modules used on few paths are imported where they are used: segno (the OTP enrolment's QR
code), markdown-it and nh3 (rendering a notice or policy text, once per content version),
zxcvbn (a new password), Flask-Migrate with Alembic (the ``flask db`` commands), psycopg
(PostgreSQL only). Each test starts a fresh interpreter, as gunicorn's workers are.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

from tests.conftest import ROOT

FLASK = Path(sys.executable).parent / "flask"
RARE = ["segno", "markdown_it", "nh3", "zxcvbn", "alembic", "flask_migrate", "psycopg"]

PROBE = """
import json, sys
from wsgi import app
loaded = {name: name in sys.modules for name in %r}
client = app.test_client()
statuses = [client.get(url, headers={"Host": "portal.example"}).status_code for url in %r]
after = {name: name in sys.modules for name in %r}
print(json.dumps({"loaded": loaded, "statuses": statuses, "after": after}))
"""


def _production_env(tmp_path) -> dict:
    env = {
        **os.environ,
        "PORTAL_ENV": "production",
        "SECRET_KEY": "m" * 48,
        "PORTAL_DATA_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'memory.sqlite3'}",
        "PORTAL_INSTANCE_PATH": str(tmp_path / "instance"),
        "PORTAL_TRUSTED_HOSTS": "portal.example",
        "RATELIMIT_STORAGE_URI": "memory://",
        "PORTAL_SINGLE_PROCESS": "1",
        "FLASK_APP": "wsgi",
    }
    return env


def _probe(env: dict, urls: list[str]) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE % (RARE, urls, RARE)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_worker_starts_without_the_modules_of_rare_paths(tmp_path):
    env = _production_env(tmp_path)
    # The `flask` command still has Flask-Migrate: it builds the app in its click context.
    migrated = subprocess.run(
        [FLASK, "db", "upgrade"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    result = _probe(env, ["/login", "/healthz"])
    assert result["statuses"] == [200, 200]
    assert not any(result["loaded"].values()), result["loaded"]
    assert not any(result["after"].values()), result["after"]


def test_rare_modules_load_when_their_page_is_served(tmp_path):
    env = _production_env(tmp_path)
    subprocess.run([FLASK, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    result = _probe(env, ["/privacy"])
    assert result["statuses"] == [200]
    assert result["after"]["markdown_it"] and result["after"]["nh3"]
    assert not result["after"]["segno"] and not result["after"]["alembic"]
