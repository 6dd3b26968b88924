"""Time ``flask retention purge`` of 1 M expired rows on PostgreSQL, with readers running
(``make bench-purge``).

    .venv/bin/python bench/purge.py [--url postgresql://…/bench_100k] [--rows 1000000]
        [--batch-size 500]

Adds ``--rows`` security events dated 13 to 24 months ago (past their 6-month period) to
the dataset of ``bench/dataset.py`` (the generated ones are all younger, so the purge takes
exactly the added rows), then runs ``flask retention purge`` under the production
configuration while a reader thread keeps running the security-history query of a customer
(``/account/history``'s SELECT). Prints the purge's duration and the reader's latencies
before and during the purge: a purge that blocked readers shows there as seconds.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, dataset

EXPIRED = """
INSERT INTO security_events (customer_id, kind, detail, ip, user_agent, created_at)
SELECT {first} + (g % {span}), 'login_success', 'card', '198.51.100.7', 'Mozilla/5.0 (purge)',
    now() - interval '395 days' - ((g::bigint * 7919) % (330 * 86400)) * interval '1 second'
FROM generate_series({lo}, {hi}) AS g
"""
READ = (
    "SELECT id, kind, created_at FROM security_events WHERE customer_id = %s"
    " ORDER BY created_at DESC LIMIT 20"
)


class Reader(threading.Thread):
    """Runs the history query in a loop on its own connection, timing each."""

    def __init__(self, url: str, customer_ids: list[int]) -> None:
        super().__init__(daemon=True)
        self.url, self.customer_ids = url, customer_ids
        self.samples: list[tuple[float, float]] = []  # (started, seconds)
        self.stop = threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(common.libpq_url(self.url), autocommit=True) as conn:
            i = 0
            while not self.stop.is_set():
                started = time.monotonic()
                conn.execute(READ, (self.customer_ids[i % len(self.customer_ids)],)).fetchall()
                self.samples.append((started, time.monotonic() - started))
                i += 1
                time.sleep(0.005)


def latency_summary(samples: list[float]) -> dict:
    if not samples:
        return {"count": 0}
    ordered = sorted(samples)
    return {
        "count": len(ordered),
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        "max_ms": ordered[-1] * 1000,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default=dataset.default_url(100_000))
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=None, help="the command's default")
    args = parser.parse_args(argv)
    dataset.ensure(args.url, 100_000)
    import psycopg

    with psycopg.connect(common.libpq_url(args.url)) as conn:
        first, last = conn.execute("SELECT min(id), max(id) FROM customers").fetchone()
        if first is None:
            raise SystemExit("no customers: make bench-dataset first")
        conn.execute("SET synchronous_commit = off")
        dataset.fill(conn, "expired events", EXPIRED, args.rows, first=first, span=last - first + 1)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE security_events")
        customer_ids = [
            r[0] for r in conn.execute("SELECT id FROM customers ORDER BY random() LIMIT 200")
        ]
    reader = Reader(args.url, customer_ids)
    reader.start()
    time.sleep(3)  # readers alone first
    with tempfile.TemporaryDirectory(prefix="portal-purge-") as tmp:
        env = common.portal_env(common.sqlalchemy_url(args.url), Path(tmp))
        command = [str(common.BIN / "flask"), "retention", "purge"]
        if args.batch_size:
            command += ["--batch-size", str(args.batch_size)]
        common.log("flask retention purge …")
        started = time.monotonic()
        done = subprocess.run(command, cwd=common.ROOT, env=env, capture_output=True, text=True)
        seconds = time.monotonic() - started
    time.sleep(1)
    reader.stop.set()
    reader.join()
    if done.returncode:
        raise SystemExit(f"flask retention purge failed:\n{done.stderr[-2000:]}")
    before = [s for t, s in reader.samples if t < started]
    during = [s for t, s in reader.samples if started <= t <= started + seconds]
    result = {
        "rows_added": args.rows,
        "purge_seconds": seconds,
        "purge_output": done.stdout.strip(),
        "reader_before": latency_summary(before),
        "reader_during": latency_summary(during),
        "machine": common.machine_note(),
    }
    print(done.stdout.strip())
    print(f"purge of {args.rows:,} expired security events: {seconds:.1f} s (target ≤ 60 s)")
    for label in ("before", "during"):
        s = result[f"reader_{label}"]
        if s["count"]:
            print(
                f"history query {label} the purge: {s['count']} runs, p50 {s['p50_ms']:.1f} ms,"
                f" p99 {s['p99_ms']:.1f} ms, max {s['max_ms']:.1f} ms"
            )
    path = common.write_results("purge", result)
    print(f"results: {path.relative_to(common.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
