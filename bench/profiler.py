"""Where a page's time goes: cProfile of N requests in process (``make bench-profile``).

    .venv/bin/python bench/profiler.py [--database sqlite|postgresql] [--requests 500]
        [--sort tottime|cumulative] [--top 40] PAGE [PAGE ...]

The app runs with the **production configuration** (as ``make bench`` serves it) on a fresh
database with the demo data; a demo card customer signs in through the real forms with the
Flask test client over ``https://`` (the session cookie is ``__Host-``, Secure). For each
page it prints the mean time of a request without the profiler (the best of three
runs), then the profile of
``--requests`` more. The test client skips the WSGI server and the socket, so the figures
show the portal's own cost per request, the part a change to the portal can shrink.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

FILTER = [a for a in os.environ.get("BENCH_PROFILE_FILTER", "").split(",") if a]


def _timed(client, page: str, requests: int) -> float:
    """Milliseconds per request over ``requests`` requests."""
    start = time.perf_counter()
    for _ in range(requests):
        client.get(page)
    return (time.perf_counter() - start) / requests * 1000


def profile_pages(
    pages: list[str],
    requests: int,
    sort: str,
    top: int,
    customer: dict | None,
    callees: str | None = None,
) -> None:
    from bench.inprocess import IsolatedClient, _sign_in
    from portal import create_app

    app = create_app("production")
    app.test_client_class = IsolatedClient
    # Anonymous: no cookie jar, as wrk loads the public pages (every request a first visit).
    client = app.test_client(use_cookies=customer is not None)
    client.environ_base["wsgi.url_scheme"] = "https"
    client.environ_base["HTTP_HOST"] = "localhost"
    client.environ_base["HTTP_REFERER"] = "https://localhost/login"  # CSRF's referrer check
    if customer is not None:
        _sign_in(client, customer)
    for page in pages:
        for _ in range(20):  # warm: templates, page cache, pool
            status = client.get(page).status_code
        if status != 200:
            raise SystemExit(f"{page}: {status}")
        plain = min(_timed(client, page, requests) for _ in range(3))
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(requests):
            client.get(page)
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats(sort).print_stats(*(FILTER or []), top)
        print(f"\n### {page}: {plain:.2f} ms per request without the profiler\n")
        if callees:
            stats.print_callees(callees)
        print(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pages", nargs="+", metavar="PAGE")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--postgresql-url", default=common.DEFAULT_PG)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--sort", choices=["tottime", "cumulative"], default="tottime")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--anonymous", action="store_true", help="do not sign in")
    parser.add_argument(
        "--callees", metavar="FUNCTION", help="also print what FUNCTION (a name) spends on"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        instance = Path(tmp)
        if args.database == "sqlite":
            url = f"sqlite:///{instance / 'bench.sqlite3'}"
        else:
            url = args.postgresql_url
            common.check_bench_database(url)
            common.recreate_database(url)
        env = common.portal_env(url, instance)
        common.flask(env, "db", "upgrade")
        demo = common.inprocess(env, "demo")
        os.environ.clear()
        os.environ.update(env)
        # The JSON request log goes to a file, as under gunicorn in `make bench`.
        log = os.open(instance / "portal.log", os.O_WRONLY | os.O_CREAT)
        os.dup2(log, 2)
        customer = None if args.anonymous else demo["customers"][0]
        profile_pages(args.pages, args.requests, args.sort, args.top, customer, args.callees)


if __name__ == "__main__":
    main()
