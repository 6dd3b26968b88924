"""A large PostgreSQL dataset for the scale run and the EXPLAIN check (``make bench-dataset``).

    .venv/bin/python bench/dataset.py [--scale 100k|1k|N] [--url postgresql://…/bench_100k]

Recreates the database (never ``test``), migrates it (``flask db upgrade``), loads the demo
data (the customers the bench signs in), then adds per 100 k customers: 100 k login IDs and
customers, 1 M security events, 1 M invoices with one item each, and 10 k notices (at
least 100). Rows are generated
by PostgreSQL itself (``INSERT … SELECT … FROM generate_series``) in chunks, with a progress
bar; about a minute at 100 k on two cores.

Every generated security event is within the last five months, so a retention purge leaves
the dataset as it was (bench/purge.py adds its own expired rows).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

CHUNK = 50_000
# A bcrypt hash nobody can sign in with (the password is not known): the generated
# customers are only rows to search, page and sort through.
NO_PASSWORD = "$2b$12$" + "C" * 53

SCALES = {"1k": 1_000, "10k": 10_000, "100k": 100_000}


def parse_scale(text: str) -> int:
    if text in SCALES:
        return SCALES[text]
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--scale takes {sorted(SCALES)} or a number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("--scale must be positive")
    return value


def default_url(customers: int) -> str:
    base = common.DEFAULT_PG.rsplit("/", 1)[0]
    label = next((k for k, v in SCALES.items() if v == customers), str(customers))
    return f"{base}/bench_{label}"


# (table, rows per customer, SQL with :lo, :hi (1-based row numbers) and :base (id offset))
LOGIN_IDS = """
INSERT INTO login_ids (id, login_id, issued_at)
SELECT {base} + g, 'gen' || lpad(g::text, 7, '0'), now() - (g % 1000) * interval '1 day'
FROM generate_series({lo}, {hi}) AS g
"""
CUSTOMERS = """
INSERT INTO customers (id, login_id_id, name, member_type, customer_type, birth_date, email,
    phone, postal_code, address, address_detail, representative, username, field_sources,
    password_hash, password_changed_at, must_activate, second_factor, failed_logins,
    created_at, updated_at, version)
SELECT {base} + g, {login_base} + g,
    (ARRAY['김','이','박','최','정','강','조','윤','장','임'])[1 + g % 10]
      || (ARRAY['민','서','지','현','수','예','도','하','준','유','시','은'])[1 + (g / 10) % 12]
      || (ARRAY['수','연','우','진','아','호','빈','윤','원','린','훈','영'])[1 + (g / 120) % 12],
    'general', 'individual', date '1960-01-01' + (g % 15000),
    'gen' || g || '@example.kr', '+8210' || lpad((10000000 + g)::text, 8, '0'),
    lpad((g % 63000 + 1000)::text, 5, '0'), '서울특별시 중구 세종대로 ' || (g % 200 + 1),
    '', '', '', '', '{password}', now(), false, 'card', 0,
    now() - (g % 1000) * interval '1 day', now(), 1
FROM generate_series({lo}, {hi}) AS g
"""
EVENTS = """
INSERT INTO security_events (customer_id, kind, detail, ip, user_agent, created_at)
SELECT {base} + 1 + (g % {customers}),
    (ARRAY['login_success','login_failure','password_changed','card_failure'])[1 + g % 4],
    'card', '203.0.113.' || (g % 250 + 1), 'Mozilla/5.0 (bench)',
    now() - ((g::bigint * 7919) % (150 * 86400)) * interval '1 second'
FROM generate_series({lo}, {hi}) AS g
"""
INVOICES = """
INSERT INTO invoices (id, customer_id, period, issued_on, due_on, total, retention_category,
    created_at)
SELECT {invoice_base} + g, {base} + 1 + (g % {customers}),
    to_char(date_trunc('month', now()) - ((g / {customers}) % 36) * interval '1 month',
            'YYYY-MM'),
    (date_trunc('month', now()) - ((g / {customers}) % 36) * interval '1 month')::date,
    (date_trunc('month', now()) - ((g / {customers}) % 36) * interval '1 month'
        + interval '24 days')::date,
    11000 + (g % 7) * 5500, 'e_invoice', now()
FROM generate_series({lo}, {hi}) AS g
"""
ITEMS = """
INSERT INTO invoice_items (invoice_id, description, quantity, amount)
SELECT {invoice_base} + g, '애니트랙 베이직', 1, 11000 + (g % 7) * 5500
FROM generate_series({lo}, {hi}) AS g
"""
NOTICES = """
INSERT INTO notices (title, body_md, published_at, popup, popup_until, author, updated_at)
SELECT '공지 ' || g || ': 서비스 안내', '점검 및 서비스 변경을 알려 드립니다. (' || g || ')',
    now() - (g::bigint * 3571 % (1000 * 86400)) * interval '1 second' - interval '1 day',
    g % 500 = 0, CASE WHEN g % 500 = 0 THEN (now() - interval '1 day')::date END,
    '고객센터', now()
FROM generate_series({lo}, {hi}) AS g
"""


def progress(label: str, done: int, total: int, started: float) -> None:
    width = 30
    filled = int(width * done / total) if total else width
    rate = done / max(time.monotonic() - started, 1e-6)
    sys.stderr.write(
        f"\r{label:<16} [{'#' * filled}{'.' * (width - filled)}] {done:>9,}/{total:,}"
        f"  {rate:,.0f} rows/s"
    )
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def fill(conn, label: str, sql: str, total: int, **values) -> None:
    started = time.monotonic()
    for lo in range(1, total + 1, CHUNK):
        hi = min(lo + CHUNK - 1, total)
        conn.execute(sql.format(lo=lo, hi=hi, **values))
        conn.commit()
        progress(label, hi, total, started)


def notices_for(customers: int) -> int:
    """One notice per 10 customers, at least 100."""
    return max(customers // 10, 100)


def generate(url: str, customers: int) -> dict:
    """Add the generated rows to the migrated database at ``url``; return the counts."""
    import psycopg

    counts = {
        "customers": customers,
        "security_events": customers * 10,
        "invoices": customers * 10,
        "invoice_items": customers * 10,
        "notices": notices_for(customers),
    }
    with psycopg.connect(common.libpq_url(url)) as conn:
        conn.execute("SET synchronous_commit = off")
        base = conn.execute("SELECT coalesce(max(id), 0) FROM customers").fetchone()[0]
        login_base = conn.execute("SELECT coalesce(max(id), 0) FROM login_ids").fetchone()[0]
        invoice_base = conn.execute("SELECT coalesce(max(id), 0) FROM invoices").fetchone()[0]
        # Customer ids follow the login ids one to one from here on.
        base = max(base, login_base)
        login_base = base
        fill(conn, "login IDs", LOGIN_IDS, customers, base=login_base)
        fill(
            conn,
            "customers",
            CUSTOMERS,
            customers,
            base=base,
            login_base=login_base,
            password=NO_PASSWORD,
        )
        fill(
            conn,
            "security events",
            EVENTS,
            counts["security_events"],
            base=base,
            customers=customers,
        )
        fill(
            conn,
            "invoices",
            INVOICES,
            counts["invoices"],
            base=base,
            customers=customers,
            invoice_base=invoice_base,
        )
        fill(conn, "invoice items", ITEMS, counts["invoice_items"], invoice_base=invoice_base)
        fill(conn, "notices", NOTICES, counts["notices"])
        for table in (
            "login_ids",
            "customers",
            "invoices",
            "security_events",
            "invoice_items",
            "notices",
        ):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT max(id) FROM {table}))"
            )
        # The content version moves, as after any change to notices: workers re-render.
        conn.execute("UPDATE content_version SET version = version + 1")
        conn.commit()
        conn.autocommit = True
        sys.stderr.write("ANALYZE…\n")
        conn.execute("VACUUM ANALYZE")
        # Write the new pages out now rather than during the measurement that follows.
        conn.execute("CHECKPOINT")
    return counts


def make_dataset(url: str, customers: int) -> dict:
    """Recreate, migrate, load the demo data, generate; the demo sign-ins and counts."""
    common.check_bench_database(url)
    started = time.monotonic()
    common.recreate_database(url)
    with tempfile.TemporaryDirectory(prefix="portal-dataset-") as tmp:
        env = common.portal_env(common.sqlalchemy_url(url), Path(tmp))
        common.flask(env, "db", "upgrade")
        demo = common.inprocess(env, "demo")
    counts = generate(url, customers)
    return {"demo": demo, "counts": counts, "seconds": time.monotonic() - started}


def exists(url: str, customers: int) -> bool:
    """Whether the dataset at ``url`` is complete: at least ``customers`` customers and the
    notices, which :func:`generate` writes last (each batch commits, so an interrupted build
    leaves fewer; the demo data alone is not a dataset)."""
    import psycopg

    with psycopg.connect(common.admin_url(url)) as conn:
        name = common.database_name(url)
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return False
    with psycopg.connect(common.libpq_url(url)) as conn:
        if not conn.execute("SELECT to_regclass('notices') IS NOT NULL").fetchone()[0]:
            return False
        have_customers, have_notices = conn.execute(
            "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM notices)"
        ).fetchone()
    return have_customers >= customers and have_notices >= notices_for(customers)


def ensure(url: str, customers: int) -> None:
    """Build the dataset when it is missing, so each bench command is one command on a fresh
    clone; an existing one is reused as it is (``make bench-dataset`` rebuilds it)."""
    common.check_bench_database(url)
    if exists(url, customers):
        return
    common.log(f"{common.database_name(url)} is missing: building it ({customers:,} customers)")
    made = make_dataset(url, customers)
    common.log(f"{common.database_name(url)} built in {made['seconds']:.0f} s")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=parse_scale, default=100_000, help="1k, 100k or N")
    parser.add_argument("--url", help="PostgreSQL database (default …/bench_<scale>)")
    args = parser.parse_args(argv)
    url = args.url or default_url(args.scale)
    made = make_dataset(url, args.scale)
    print(
        f"{common.database_name(url)}: "
        + ", ".join(f"{n:,} {table}" for table, n in made["counts"].items())
        + f" in {made['seconds']:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
