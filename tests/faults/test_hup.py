"""A gunicorn HUP (graceful reload: new workers start, the old ones finish what they hold)
during the load run loses no request: every request of bench/load.py's clients gets an
answer, none a 5xx, none a reset connection, and the rows still hold exactly the accepted
edits. Twice, a few seconds apart, on each database.

Without ``--preload`` gunicorn stops the old workers as soon as it has forked the new ones,
which then import the app before they accept: requests wait in the listen backlog for that
long (1 to 20 s on a loaded 2-core machine). Waiting is not losing, so this test counts
answers, not latency.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT, TEST_REDIS_URL


def test_a_hup_during_load_loses_no_request(database_url, tmp_path):
    command = [
        sys.executable,
        str(ROOT / "bench" / "load.py"),
        "--seconds",
        "20",
        "--clients",
        "20",
        "--database",
        database_url,
        "--workdir",
        str(tmp_path),
        "--hup-after",
        "6",
        "--hup-after",
        "13",
        "--json",
    ]
    if TEST_REDIS_URL:
        command += ["--redis", TEST_REDIS_URL]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.stdout.strip(), done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    print(json.dumps({k: v for k, v in summary.items() if k != "problems"}, ensure_ascii=False))
    # "no answer" (a reset or refused connection, a timeout) and any 5xx are problems.
    assert summary["problems"] == [], summary["problems"][:20]
    assert summary["hangups"] == 2
    assert "no answer" not in summary["statuses"]
    assert summary["requests"] >= 20
