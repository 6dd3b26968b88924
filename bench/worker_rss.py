"""Memory of each gunicorn worker after a short load, with and without ``--preload``.

Serves the portal as production does (``PORTAL_ENV=production``, the documented gunicorn
command) on a scratch database with the demo data, signs the demo card customers in
through the real forms, loads public and signed-in pages from a few parallel clients, then
reads each worker's ``/proc/<pid>/status`` (VmRSS) and ``smaps_rollup`` (Pss, and USS =
private pages: what stopping that worker would free).

    .venv/bin/python bench/worker_rss.py [--workers 2] [--requests 400] [--preload]
        [--database postgresql://postgres@127.0.0.1:5432/bench_rss]
        [--redis redis://127.0.0.1:6379/2] [--json]

Without ``--database`` a scratch SQLite file is used. A PostgreSQL database given is
emptied first (every table dropped): use a scratch one.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
CHALLENGE_RE = re.compile(r'id="card-challenge" data-first-index="(\d+)" data-last-index="(\d+)"')
COOKIE_RE = re.compile(r"(__Host-portal_session)=([^;]+)")
# /login is loaded by each sign-in (a signed-in browser is sent on from it).
PUBLIC = ["/", "/privacy", "/privacy/versions", "/terms", "/notices", "/healthz"]
SIGNED_IN = ["/account", "/account/profile", "/account/security", "/billing"]

LOAD_DEMO = """
import json
from portal import create_app
from portal.demo import load_demo
from portal.extensions import db
app = create_app("development")
with app.app_context():
    sign_ins = load_demo()
    db.session.commit()
print(json.dumps([s for s in sign_ins if s.get("card") and "첫 로그인" not in s["who"]]))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Client:
    """One browser over plain HTTP (the Secure cookie is sent back by hand)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookie = ""

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Host": "127.0.0.1"}
        if self.cookie:
            headers["Cookie"] = f"__Host-portal_session={self.cookie}"
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            match = COOKIE_RE.search(response.getheader("Set-Cookie") or "")
            if match:
                self.cookie = match[2]
            return response.status, text
        finally:
            conn.close()

    def sign_in(self, login_id: str, password: str, codes: list[str]) -> None:
        _, html = self.request("GET", "/login")
        token = CSRF_RE.search(html)[1]
        status, _ = self.request(
            "POST", "/login", {"csrf_token": token, "login_id": login_id, "password": password}
        )
        assert status == 302, f"sign-in step one for {login_id}: {status}"
        status, html = self.request("GET", "/login/verify")
        challenge = CHALLENGE_RE.search(html)
        assert challenge, f"no card challenge for {login_id}: {status} {html[:300]}"
        first, last = (int(n) for n in challenge.groups())
        form = {
            "csrf_token": CSRF_RE.search(html)[1],
            "code_first": codes[first - 1][:2],
            "code_last": codes[last - 1][2:],
        }
        status, _ = self.request("POST", "/login/verify", form)
        assert status == 302, f"card answer for {login_id}: {status}"


def memory(pid: int) -> dict:
    status = Path(f"/proc/{pid}/status").read_text()
    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()

    def field(text: str, name: str) -> int:
        return int(re.search(rf"^{name}:\s+(\d+) kB", text, re.M)[1])

    return {
        "pid": pid,
        "rss_mb": round(field(status, "VmRSS") / 1024, 1),
        "pss_mb": round(field(rollup, "Pss") / 1024, 1),
        "uss_mb": round(
            (field(rollup, "Private_Clean") + field(rollup, "Private_Dirty")) / 1024, 1
        ),
    }


def workers_of(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return sorted(int(pid) for pid in children)


def prepare(env: dict) -> list[dict]:
    url = env["DATABASE_URL"]
    if url.startswith("postgresql"):
        import sqlalchemy

        engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        engine.dispose()
    subprocess.run(
        [BIN / "flask", "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    dev = {**env, "PORTAL_ENV": "development"}
    done = subprocess.run(
        [sys.executable, "-c", LOAD_DEMO],
        cwd=ROOT,
        env=dev,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def load(port: int, customers: list[dict], requests: int, clients: int) -> int:
    errors: list[str] = []

    def browse(index: int) -> None:
        try:
            _browse(index)
        except Exception as exc:  # reported with the others, after every thread ends
            errors.append(repr(exc))

    def _browse(index: int) -> None:
        client = Client(port)
        # One browser per customer: a second sign-in of the same customer at the same
        # moment would share its pending card challenge.
        who = customers[index % len(customers)]
        client.sign_in(who["login_id"], who["password"], who["card"]["codes"])
        pages = PUBLIC + SIGNED_IN
        for n in range(requests // clients):
            path = pages[(n + index) % len(pages)]
            status, _ = client.request("GET", path)
            if status != 200:
                errors.append(f"{path}: {status}")

    clients = min(clients, len(customers))
    threads = [threading.Thread(target=browse, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit(f"non-200 responses: {errors[:5]}")
    return requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--preload", action="store_true")
    parser.add_argument("--database", default="")
    parser.add_argument("--redis", default="")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="portal-rss-"))
    env = {
        **os.environ,
        "PORTAL_ENV": "production",
        "SECRET_KEY": "r" * 48,
        "PORTAL_DATA_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": args.database or f"sqlite:///{tmp / 'rss.sqlite3'}",
        "PORTAL_INSTANCE_PATH": str(tmp / "instance"),
        "PORTAL_TRUSTED_HOSTS": "127.0.0.1",
        "FLASK_APP": "wsgi",
    }
    if args.redis:
        env["RATELIMIT_STORAGE_URI"] = args.redis
    else:
        # One process counts exactly; several count per worker (the limits are not measured).
        env.update(RATELIMIT_STORAGE_URI="memory://", PORTAL_SINGLE_PROCESS="1")
    customers = prepare(env)

    port = free_port()
    command = (
        [
            BIN / "gunicorn",
            "-w",
            str(args.workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ]
        + (["--preload"] if args.preload else [])
        + ["wsgi:app"]
    )
    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        for _ in range(300):
            try:
                if Client(port).request("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit("gunicorn did not start")
        time.sleep(1)
        started = [memory(pid) for pid in workers_of(proc.pid)]
        load(port, customers, args.requests, args.clients)
        loaded = [memory(pid) for pid in workers_of(proc.pid)]
        master = memory(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    result = {
        "preload": args.preload,
        "database": "postgresql" if args.database else "sqlite",
        "workers_started": started,
        "workers_after_load": loaded,
        "master": master,
        "requests": args.requests,
    }
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"gunicorn {'--preload ' if args.preload else ''}-w {args.workers} "
        f"({result['database']}), after {args.requests} requests:"
    )
    print("| process | RSS MB (started) | RSS MB | PSS MB | USS MB |")
    print("| --- | --- | --- | --- | --- |")
    for before, after in zip(started, loaded, strict=False):
        print(
            f"| worker {after['pid']} | {before['rss_mb']} | {after['rss_mb']} | "
            f"{after['pss_mb']} | {after['uss_mb']} |"
        )
    print(
        f"| master {master['pid']} | | {master['rss_mb']} | {master['pss_mb']} | "
        f"{master['uss_mb']} |"
    )


if __name__ == "__main__":
    main()
