"""Throughput of the portal's pages as a ratio of a bare Flask app (``make bench``).

The portal (production configuration, demo data) and a bare Flask "hello" app
(``bench/bare_app.py``) are served side by side by gunicorn with the same sync workers on
loopback. After a warm-up, each round loads, for every page, first the bare app and then the
portal with ``wrk -t1 -c16``; each portal run is divided by the bare run just before it, so
the ratios hold while the machine's speed or load drifts. Signed-in pages are loaded with the
cookies of demo customers signed in through the real forms (GET /login for the CSRF token,
the password, then the security card answer at /login/verify).

A run in which any response is not the page's expected status (200, or 304 for a
revalidation) is refused: the page is reported as rejected and the command exits non-zero.

    .venv/bin/python bench/run.py [--database sqlite|postgresql|both] [--rounds 6]
        [--seconds 5] [--warmup 3] [--workers 2] [--connections 16] [--page /billing ...]

Results go to bench/results/bench-<time>.json (git-ignored).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.common import RunRejected, log

# name, path, signed in, expected status, revalidation (If-None-Match from a first GET)
PAGES = [
    {"name": "/account", "path": "/account", "signed_in": True, "status": 200},
    {"name": "/account/profile", "path": "/account/profile", "signed_in": True, "status": 200},
    {"name": "/account/security", "path": "/account/security", "signed_in": True, "status": 200},
    {"name": "/billing", "path": "/billing", "signed_in": True, "status": 200},
    {"name": "/", "path": "/", "signed_in": False, "status": 200},
    {"name": "/privacy", "path": "/privacy", "signed_in": False, "status": 200},
    {"name": "/notices", "path": "/notices", "signed_in": False, "status": 200},
    {"name": "/notices/<id>", "path": "/notices/{notice_id}", "signed_in": False, "status": 200},
    {"name": "/login", "path": "/login", "signed_in": False, "status": 200},
    {
        "name": "/privacy 304",
        "path": "/privacy",
        "signed_in": False,
        "status": 304,
        "revalidate": True,
    },
    {"name": "/healthz", "path": "/healthz", "signed_in": False, "status": 200},
]


def add_load_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rounds", type=int, default=6, help="alternating rounds (6)")
    parser.add_argument("--seconds", type=int, default=5, help="length of each run (5)")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up per page, s (3)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (2)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    parser.add_argument(
        "--gunicorn-arg",
        action="append",
        default=[],
        help="extra gunicorn option for the portal, e.g. --gunicorn-arg=--preload",
    )
    parser.add_argument(
        "--page", action="append", help="only these pages (names as in the table; repeat)"
    )


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database", choices=["sqlite", "postgresql", "both"], default="both", help="(both)"
    )
    parser.add_argument("--postgresql-url", default=common.DEFAULT_PG, help="(%(default)s)")
    add_load_options(parser)
    return parser.parse_args(argv)


def selected_pages(names: list[str] | None) -> list[dict]:
    if not names:
        return PAGES
    unknown = set(names) - {p["name"] for p in PAGES}
    if unknown:
        raise SystemExit(f"unknown pages {sorted(unknown)}; known: {[p['name'] for p in PAGES]}")
    return [p for p in PAGES if p["name"] in names]


def prepare(kind: str, url: str, env: dict, *, recreate: bool) -> dict:
    """Migrate, load the demo data; return the demo sign-ins and a notice id."""
    if kind == "postgresql" and recreate:
        log(f"recreating {common.database_name(url)} on PostgreSQL")
        common.recreate_database(url)
    common.flask(env, "db", "upgrade")
    log("loading the demo data")
    return common.inprocess(env, "demo")


@dataclass
class Served:
    """One portal served by gunicorn on its database, its demo customers signed in."""

    kind: str
    env: dict
    instance: Path
    server: common.Server
    pages: dict[str, dict]  # by name, paths filled in for this database's demo data
    headers: dict[str, dict]  # by page name: the cookies or If-None-Match to send
    statements: dict

    def run(self, name: str, args, seconds: int, warmup: bool = False) -> dict:
        page = self.pages[name]
        return common.wrk(
            self.server.base,
            page["path"],
            seconds=seconds,
            connections=args.connections,
            headers=self.headers[name],
            expected_status=page["status"],
            warmup=warmup,
        )


@contextlib.contextmanager
def serving(kind: str, url: str, args, instance: Path, *, recreate: bool) -> Iterator[Served]:
    """Prepare ``url``, count each page's statements in process, serve the portal on it and
    sign the demo customers in through the real forms."""
    env = common.portal_env(url, instance)
    demo = prepare(kind, url, env, recreate=recreate)
    pages = [
        {**p, "path": p["path"].format(notice_id=demo["notice_id"])}
        for p in selected_pages(args.page)
    ]
    spec = instance / "statements.json"
    spec.write_text(json.dumps({"pages": pages, "customer": demo["customers"][0]}))
    log("counting statements in process")
    statements = common.inprocess(env, "statements", str(spec))
    log(f"serving the portal on {kind} ({args.workers} sync workers)")
    portal = common.serve(
        "wsgi:app",
        env,
        workers=args.workers,
        cwd=common.ROOT,
        extra=args.gunicorn_arg,
        log_file=instance / "portal.log",
    )
    try:
        cookies = [
            common.cookie_header(common.sign_in(portal, c["login_id"], c["password"], c["codes"]))
            for c in demo["customers"]
        ]
        log(f"signed in {len(cookies)} demo customers through /login and /login/verify")
        headers_of = {}
        for page in pages:
            headers = {}
            if page["signed_in"]:
                headers["Cookie"] = "|||".join(cookies)
            if page.get("revalidate"):
                _, got, _ = common.http_request(portal, "GET", page["path"])
                headers["If-None-Match"] = got["ETag"]
            headers_of[page["name"]] = headers
        yield Served(
            kind, env, instance, portal, {p["name"]: p for p in pages}, headers_of, statements
        )
    finally:
        portal.stop()


def alternate(served: list[Served], args) -> list[dict]:
    """Load every page of every served portal, each run paired with a bare run just before it.

    With several portals (``make bench-scale`` serves two datasets at once) the order among
    them turns round each round, so neither always runs right after the bare app.
    """
    names = list(served[0].pages)
    log(f"serving the bare app ({args.workers} sync workers)")
    bare = common.serve(
        "bare_app:app",
        served[0].env,
        workers=args.workers,
        cwd=common.BENCH,
        log_file=served[0].instance / "bare.log",
    )
    results = [{n: common.PageResult(n) for n in names} for _ in served]
    rejected: list[dict[str, str]] = [{} for _ in served]

    def bare_run(seconds):
        return common.wrk(bare.base, "/", seconds=seconds, connections=args.connections)

    try:
        if args.warmup:
            log("warming up")
            bare_run(args.warmup)
            for i, target in enumerate(served):
                for name in names:
                    try:
                        target.run(name, args, args.warmup, warmup=True)
                    except RunRejected as exc:
                        rejected[i][name] = str(exc)
        for round_no in range(1, args.rounds + 1):
            log(f"round {round_no}/{args.rounds}")
            order = list(enumerate(served))
            if round_no % 2 == 0:
                order.reverse()
            for name in names:
                for i, target in order:
                    if name in rejected[i]:
                        continue
                    baseline = bare_run(args.seconds)
                    try:
                        got = target.run(name, args, args.seconds)
                    except RunRejected as exc:
                        rejected[i][name] = str(exc)
                        continue
                    results[i][name].rounds.append(
                        {
                            "rps": got["rps"],
                            "p50_us": got["p50_us"],
                            "p99_us": got["p99_us"],
                            "bare_rps": baseline["rps"],
                            "bare_p50_us": baseline["p50_us"],
                            "statuses": got["statuses"],
                        }
                    )
        bare_rss = {pid: common.rss_kib(pid) for pid in bare.worker_pids()}
        rss = [
            {
                "portal": {pid: common.rss_kib(pid) for pid in t.server.worker_pids()},
                "bare": bare_rss,
            }
            for t in served
        ]
    finally:
        bare.stop()
    measured = []
    for target, found, failed, memory in zip(served, results, rejected, rss, strict=True):
        if failed:  # keep the server's own account of what went wrong
            errors = [
                line
                for line in (target.instance / "portal.log").read_text().splitlines()
                if '"level": "ERROR"' in line or "Traceback" in line or "Error" in line
            ]
            failed["portal log"] = "\n".join(errors[-20:]) or "(no error logged)"
        rows = []
        for name in names:
            found[name].statements = target.statements.get(name)
            if name not in failed:
                rows.append(found[name].summary())
        measured.append(
            {"database": target.kind, "pages": rows, "rejected": failed, "rss_kib": memory}
        )
    return measured


def measure(kind: str, url: str, args, instance: Path, *, recreate: bool = True) -> dict:
    """Serve the portal on ``url`` and the bare app; return the measured pages."""
    with serving(kind, url, args, instance, recreate=recreate) as served:
        return alternate([served], args)[0]


def report(measured: dict) -> None:
    print(f"\n## {measured['database']}\n")
    if measured["pages"]:
        print(common.format_table(measured["pages"]))
    for name, why in measured["rejected"].items():
        print(f"REJECTED {name}: {why}")
    for app, workers in measured["rss_kib"].items():
        figures = ", ".join(f"{(kib or 0) / 1024:.1f} MB" for kib in workers.values())
        print(f"RSS after load, {app} workers: {figures}")


def main(argv=None) -> int:
    args = parse_args(argv)
    common.ensure_wrk()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    if "postgresql" in kinds:
        common.check_bench_database(args.postgresql_url)
    runs = []
    with tempfile.TemporaryDirectory(prefix="portal-bench-") as tmp:
        for kind in kinds:
            instance = Path(tmp) / kind
            instance.mkdir()
            url = (
                f"sqlite:///{instance / 'bench.sqlite3'}"
                if kind == "sqlite"
                else common.sqlalchemy_url(args.postgresql_url)
            )
            measured = measure(kind, url, args, instance)
            report(measured)
            runs.append(measured)
    settings = {k: v for k, v in vars(args).items()}
    path = common.write_results(
        "bench",
        {
            "command": "bench/run.py " + " ".join(argv if argv is not None else sys.argv[1:]),
            "settings": settings,
            "machine": common.machine_note(),
            "runs": runs,
        },
    )
    print(f"\nresults: {path.relative_to(common.ROOT)}; load average {common.machine_note()}")
    return 1 if any(r["rejected"] for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
