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
dropped and created again (``bench/common.py`` refuses the test suite's and the server's
own): use a scratch one. The serving, the demo data and the sign-ins are ``make bench``'s
(``bench/common.py``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

# /login is loaded by each sign-in (a signed-in browser is sent on from it).
PUBLIC = ["/", "/privacy", "/privacy/versions", "/terms", "/notices", "/healthz"]
SIGNED_IN = ["/account", "/account/profile", "/account/security", "/billing"]


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


def prepare(url: str, instance: Path, redis_url: str | None) -> dict:
    """The production environment on ``url``, migrated, with the demo data; the customers."""
    if url.startswith("postgresql"):
        common.check_bench_database(url)
        common.recreate_database(url)
    env = common.portal_env(url, instance, redis_url)
    common.flask(env, "db", "upgrade")
    return env


def load(server: common.Server, customers: list[dict], requests: int, clients: int) -> int:
    errors: list[str] = []

    def browse(index: int) -> None:
        try:
            _browse(index)
        except Exception as exc:  # reported with the others, after every thread ends
            errors.append(repr(exc))

    def _browse(index: int) -> None:
        # One browser per customer: a second sign-in of the same customer at the same
        # moment would share its pending card challenge.
        who = customers[index % len(customers)]
        cookies = common.sign_in(server, who["login_id"], who["password"], who["codes"])
        pages = PUBLIC + SIGNED_IN
        for n in range(requests // clients):
            path = pages[(n + index) % len(pages)]
            status, _, _ = common.http_request(server, "GET", path, cookies=cookies)
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

    with tempfile.TemporaryDirectory(prefix="portal-rss-") as tmp:
        instance = Path(tmp)
        url = args.database or f"sqlite:///{instance / 'rss.sqlite3'}"
        env = prepare(url, instance, args.redis or None)
        customers = common.inprocess(env, "demo")["customers"]
        server = common.serve(
            "wsgi:app",
            env,
            workers=args.workers,
            cwd=common.ROOT,
            extra=["--preload"] if args.preload else [],
            log_file=instance / "portal.log",
        )
        try:
            started = [memory(pid) for pid in sorted(server.worker_pids())]
            load(server, customers, args.requests, args.clients)
            loaded = [memory(pid) for pid in sorted(server.worker_pids())]
            master = memory(server.proc.pid)
        finally:
            server.stop()

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
