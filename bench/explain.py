"""EXPLAIN every list query the portal issues, on the large dataset (``make bench-explain``).

    .venv/bin/python bench/explain.py [--url postgresql://…/bench_100k] [--large 10000]

Requests each list page with the Flask test client against the dataset database (made by
``bench/dataset.py``, built first when missing), signed in through the real forms: as a customer
(security history, billing invoices, notices board and its last page, home popups, sessions,
inquiries, disclosures) and as each demo staff role (customer search by name, phone and login
ID, the withdrawal, correction and inquiry queues, the access log). Every SELECT sent is
recorded with its parameters (SQLAlchemy ``before_cursor_execute``) and explained with ``EXPLAIN
(FORMAT JSON)``; the command exits 1 when a plan reads a large table (more than ``--large``
rows, from ``pg_class.reltuples``) with a sequential scan.
"""

from __future__ import annotations

import argparse
import contextvars
import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, dataset

CUSTOMER_PAGES = [
    "/account/history",
    "/billing",
    "/notices",
    "/notices?page=400",
    "/",
    "/account/security",
    "/account/inquiries",
    "/account/disclosures",
]
STAFF_PAGES = [
    "/admin/customers?q=민수",  # a name: contains
    "/admin/customers?q=010-1000-0042",  # a phone number
    "/admin/customers?q=gen00001",  # a login-ID prefix
    "/admin/customers?q=민수&page=3",
    "/admin/withdrawals",
    "/admin/corrections",
    "/admin/inquiries",
    "/admin/disclosures",
    "/admin/access-log",
    "/admin/access-log/records",
    "/admin/notices",
]
LARGE_ROWS = 10_000
# Statements allowed a sequential scan, each with the reason it is not paid per request.
# Matched on the start of the SQL as sent.
ALLOWED = {
    "SELECT count(*) AS count_1 FROM notices WHERE notices.published_at <=": (
        "the board's page count reads every published notice by nature; it is counted once "
        "per content version and worker (portal.pagecache.remembered), not per request"
    ),
}


def allowed_reason(sql: str) -> str | None:
    """Why ``sql`` may scan a large table, or None."""
    flat = " ".join(sql.split())
    return next((why for start, why in ALLOWED.items() if flat.startswith(start)), None)


def seq_scans(plan: dict | list, sizes: dict[str, float], large: int = LARGE_ROWS) -> list[dict]:
    """The sequential scans of tables larger than ``large`` rows in an EXPLAIN JSON plan.

    ``plan`` is what ``EXPLAIN (FORMAT JSON)`` returns (a list holding {"Plan": …}) or any
    node of it; ``sizes`` maps table names to their row counts.
    """
    found: list[dict] = []

    def walk(node: dict) -> None:
        if node.get("Node Type") in ("Seq Scan", "Parallel Seq Scan"):
            table = node.get("Relation Name", "?")
            rows = sizes.get(table, 0)
            if rows > large:
                found.append(
                    {"table": table, "table_rows": int(rows), "filter": node.get("Filter", "")}
                )
        for child in node.get("Plans", []):
            walk(child)

    if isinstance(plan, list):
        for entry in plan:
            walk(entry.get("Plan", entry))
    elif "Plan" in plan:
        walk(plan["Plan"])
    else:
        walk(plan)
    return found


def node_summary(plan: list) -> str:
    """The plan's node types, depth-first, e.g. "Limit > Index Scan(notices)"."""
    parts: list[str] = []

    def walk(node: dict) -> None:
        name = node["Node Type"]
        if "Relation Name" in node:
            name += f"({node['Relation Name']})"
        if "Index Name" in node:
            name += f"[{node['Index Name']}]"
        parts.append(name)
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return " > ".join(parts)


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def _post(client, url: str, data: dict, page: str | None = None):
    html = client.get(page or url).get_data(as_text=True)
    return client.post(url, data={"csrf_token": CSRF_RE.search(html).group(1), **data})


def capture(url: str) -> list[dict]:
    """Request every list page; the SELECT statements sent, with page and parameters."""
    import pyotp
    from flask.testing import FlaskClient
    from sqlalchemy import event

    from bench.inprocess import _sign_in
    from portal import create_app
    from portal.demo import load_demo
    from portal.extensions import db

    class IsolatedClient(FlaskClient):
        def open(self, *args, **kwargs):
            return contextvars.Context().run(super().open, *args, **kwargs)

    app = create_app("development")
    app.logger.setLevel("WARNING")
    app.test_client_class = IsolatedClient
    captured: list[dict] = []
    current = {"page": None}

    def before(conn, cursor, statement, parameters, context, executemany):
        if current["page"] and statement.lstrip().upper().startswith("SELECT"):
            captured.append({"page": current["page"], "sql": statement, "params": parameters})

    with app.app_context():
        sign_ins = load_demo()
        db.session.commit()
        db.session.remove()
        engine = db.engine
        customer = next(s for s in sign_ins if s["login_id"] == "kim_minsu")
        client = app.test_client()
        _sign_in(
            client,
            {
                "login_id": customer["login_id"],
                "password": customer["password"],
                "codes": customer["card"]["codes"],
            },
        )
        staff_clients = []
        for staff in (s for s in sign_ins if s.get("staff")):
            staff_client = app.test_client()
            _post(
                staff_client,
                "/admin/login",
                {"login_id": staff["login_id"], "password": staff["password"]},
            )
            totp = pyotp.TOTP(staff["otp_secret"])
            answer = _post(staff_client, "/admin/login/verify", {"otp": totp.now()})
            if answer.status_code != 302:
                # A code is accepted once: a run within 30 s of the last one waits for the next.
                time.sleep(totp.interval - time.time() % totp.interval + 1)
                answer = _post(staff_client, "/admin/login/verify", {"otp": totp.now()})
            if answer.status_code == 302:
                staff_clients.append(staff_client)
        event.listen(engine, "before_cursor_execute", before)
        try:
            for page in CUSTOMER_PAGES:
                current["page"] = page
                status = client.get(page).status_code
                # A deep page past the end (a small dataset) answers 404 after its query.
                if status != 200 and not (status == 404 and "page=" in page):
                    raise SystemExit(f"{page} answered {status}")
            for page in STAFF_PAGES:
                current["page"] = page
                answers = []
                for staff_client in staff_clients:
                    answer = staff_client.get(page)
                    answers.append((answer.status_code, answer.headers.get("Location")))
                    if answer.status_code == 200:
                        break
                else:
                    raise SystemExit(f"no demo staff role may open {page}: {answers}")
        finally:
            current["page"] = None
            event.remove(engine, "before_cursor_execute", before)
        engine.dispose()
    return captured


def explain_all(url: str, captured: list[dict], large: int) -> tuple[list[dict], dict]:
    import psycopg

    results: list[dict] = []
    seen: set[str] = set()
    with psycopg.connect(common.libpq_url(url)) as conn:
        sizes = dict(
            conn.execute(
                "SELECT relname, reltuples FROM pg_class c JOIN pg_namespace n"
                " ON n.oid = c.relnamespace WHERE relkind = 'r' AND nspname = 'public'"
            ).fetchall()
        )
        for entry in captured:
            if entry["sql"] in seen:
                continue
            seen.add(entry["sql"])
            with conn.cursor() as cur:
                cur.execute("EXPLAIN (FORMAT JSON) " + entry["sql"], entry["params"])
                plan = cur.fetchone()[0]
            conn.rollback()
            results.append(
                {
                    "page": entry["page"],
                    "sql": " ".join(entry["sql"].split()),
                    "nodes": node_summary(plan),
                    "seq_scans": seq_scans(plan, sizes, large),
                    "cost": plan[0]["Plan"]["Total Cost"],
                }
            )
    return results, sizes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default=dataset.default_url(100_000))
    parser.add_argument("--large", type=int, default=LARGE_ROWS, help="rows (10000)")
    parser.add_argument("--verbose", action="store_true", help="print every statement")
    args = parser.parse_args(argv)
    dataset.ensure(args.url, 100_000)
    with tempfile.TemporaryDirectory(prefix="portal-explain-") as tmp:
        env = common.portal_env(common.sqlalchemy_url(args.url), Path(tmp))
        os.environ.update(
            {k: v for k, v in env.items() if k.startswith(("PORTAL_", "DATABASE", "SECRET"))}
        )
        os.environ["PORTAL_ENV"] = "development"
        captured = capture(common.sqlalchemy_url(args.url))
    results, sizes = explain_all(args.url, captured, args.large)
    bad = [r for r in results if r["seq_scans"] and not allowed_reason(r["sql"])]
    for r in results:
        if r["seq_scans"] and allowed_reason(r["sql"]):
            print(f"{r['page']}: allowed: {allowed_reason(r['sql'])}")
            continue
        if args.verbose or r["seq_scans"]:
            print(f"{r['page']}: {r['nodes']}  (cost {r['cost']:.0f})")
            print(f"    {r['sql'][:300]}")
            for scan in r["seq_scans"]:
                print(
                    f"    SEQ SCAN {scan['table']} ({scan['table_rows']:,} rows) {scan['filter']}"
                )
    pages = sorted({r["page"] for r in results})
    print(
        f"{len(results)} distinct SELECTs from {len(pages)} pages explained;"
        f" {len(bad)} with a sequential scan of a table over {args.large:,} rows"
    )
    path = common.write_results(
        "explain", {"url": common.database_name(args.url), "results": results, "sizes": sizes}
    )
    print(f"results: {path.relative_to(common.ROOT)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
