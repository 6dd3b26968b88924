"""The load run in CI: bench/load.py for LOAD_SECONDS (60 by default) on each database.

50 clients from 50 loopback addresses, through the real forms, against gunicorn with 4
workers: no 5xx, no request without an answer, no "database is locked" in an answer or in
the log, every stale profile edit answered 409 and the rows holding exactly the accepted
edits (bench/load.py checks all of it; `make load` runs the same for 5 minutes).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT, TEST_REDIS_URL

SECONDS = os.environ.get("LOAD_SECONDS", "60")


def test_fifty_clients_of_mixed_reads_and_writes_hold(database_url, tmp_path):
    command = [
        sys.executable,
        str(ROOT / "bench" / "load.py"),
        "--seconds",
        SECONDS,
        "--clients",
        "50",
        "--database",
        database_url,
        "--workdir",
        str(tmp_path),
        "--json",
    ]
    if TEST_REDIS_URL:
        command += ["--redis", TEST_REDIS_URL]
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=float(SECONDS) + 240
    )
    assert done.stdout.strip(), done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    print(json.dumps({k: v for k, v in summary.items() if k != "problems"}, ensure_ascii=False))
    assert summary["problems"] == [], summary["problems"][:20]
    assert done.returncode == 0, done.stderr[-3000:]
    # The run did what it is for: many requests, real conflicts, stale edits refused.
    assert summary["requests"] >= 500
    assert summary["edits_accepted"] >= 20
    assert summary["stale_edits_sent"] >= 5
    assert summary["edits_conflicted"] >= summary["stale_edits_sent"]
    assert not any(status.startswith("5") for status in summary["statuses"])
