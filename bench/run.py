"""Throughput of the portal's hot pages as a ratio of a bare Flask app, measured in one run.

Both apps are served by gunicorn with the same worker count on loopback and loaded with wrk;
ratios (portal ÷ bare) are comparable across machines, absolute numbers are not.

    .venv/bin/python bench/run.py [--seconds 10] [--workers 2] [--connections 16]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PAGES = ["/", "/healthz", "/login", "/privacy", "/notices"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(app: str, env: dict, workers: int, cwd: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [BIN / "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level",
         "warning", app],
        cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1):
                return proc, base
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{app} did not start")


def wrk(url: str, seconds: int, connections: int) -> float:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", url],
        capture_output=True, text=True, check=True,
    ).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "PORTAL_ENV": "development",
            "PORTAL_INSTANCE_PATH": tmp,
            "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3",
            "FLASK_APP": "wsgi",
        }
        subprocess.run([BIN / "flask", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        subprocess.run([BIN / "flask", "demo", "load"], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        portal, portal_url = serve("wsgi:app", env, args.workers, ROOT)
        bare, bare_url = serve("bare_app:app", env, args.workers, ROOT / "bench")
        try:
            baseline = wrk(bare_url + "/", args.seconds, args.connections)
            print(f"bare Flask /            {baseline:10.0f} req/s")
            for page in PAGES:
                rate = wrk(portal_url + page, args.seconds, args.connections)
                print(f"portal {page:<16} {rate:10.0f} req/s   ratio {rate / baseline:5.2f}")
        finally:
            for proc in (portal, bare):
                proc.terminate()
                proc.wait(timeout=10)


if __name__ == "__main__":
    main()
