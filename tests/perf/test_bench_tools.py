"""The measuring tools under bench/ (issue #15): the parts that can be checked exactly.

No timings are asserted: the EXPLAIN checker's plan walker on canned plans, the refusal of
wrk runs whose responses were not the page's status (parsed output, and a real wrk run
against a local server when wrk is installed), and the dataset generator at a tiny scale
on the test PostgreSQL database; and the profiler runs end to end.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from bench import common, dataset
from bench.explain import allowed_reason, node_summary, seq_scans
from tests.conftest import ROOT

SIZES = {"customers": 100_000, "security_events": 1_000_000, "content_version": 1}


def _plan(root: dict) -> list:
    return [{"Plan": root}]


def test_seq_scan_of_a_large_table_is_found_deep_in_the_plan():
    plan = _plan(
        {
            "Node Type": "Limit",
            "Plans": [
                {
                    "Node Type": "Nested Loop",
                    "Plans": [
                        {
                            "Node Type": "Seq Scan",
                            "Relation Name": "customers",
                            "Filter": "(lower((name)::text) ~~ '%민수%'::text)",
                        },
                        {
                            "Node Type": "Index Scan",
                            "Relation Name": "login_ids",
                            "Index Name": "pk_login_ids",
                        },
                    ],
                }
            ],
        }
    )
    found = seq_scans(plan, SIZES)
    assert found == [
        {
            "table": "customers",
            "table_rows": 100_000,
            "filter": "(lower((name)::text) ~~ '%민수%'::text)",
        }
    ]
    assert node_summary(plan) == (
        "Limit > Nested Loop > Seq Scan(customers) > Index Scan(login_ids)[pk_login_ids]"
    )


def test_small_tables_and_index_scans_pass():
    plan = _plan(
        {
            "Node Type": "Nested Loop",
            "Plans": [
                {"Node Type": "Seq Scan", "Relation Name": "content_version"},
                {"Node Type": "Parallel Seq Scan", "Relation Name": "unknown_table"},
                {
                    "Node Type": "Bitmap Heap Scan",
                    "Relation Name": "security_events",
                    "Plans": [{"Node Type": "Bitmap Index Scan", "Index Name": "ix"}],
                },
            ],
        }
    )
    assert seq_scans(plan, SIZES) == []


def test_parallel_seq_scan_counts_and_the_threshold_is_a_parameter():
    plan = _plan({"Node Type": "Parallel Seq Scan", "Relation Name": "customers"})
    assert [f["table"] for f in seq_scans(plan, SIZES)] == ["customers"]
    assert seq_scans(plan, SIZES, large=200_000) == []


# --- wrk runs that cannot be reported ------------------------------------------------------


def _result(statuses: dict, **errors) -> dict:
    return {
        "requests": sum(statuses.values()),
        "statuses": {str(k): v for k, v in statuses.items()},
        "errors": {"connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 0, **errors},
    }


def test_only_the_listed_statements_may_scan():
    count = "SELECT count(*) AS count_1 FROM notices\n  WHERE notices.published_at <= %(p)s"
    assert "content version" in allowed_reason(count)
    assert allowed_reason("SELECT notices.id FROM notices WHERE notices.published_at <= 1") is None
    assert allowed_reason("SELECT count(*) AS count_1 FROM customers") is None


def test_a_clean_run_is_accepted():
    assert common.validate_run(_result({200: 1000}), 200) == []
    assert common.validate_run(_result({304: 1000}), 304) == []


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (_result({200: 990, 500: 10}, status=10), 200),  # errors among the 200s
        (_result({302: 1000}), 200),  # a signed-in page answering with the sign-in redirect
        (_result({200: 1000}), 304),  # a revalidation that got full pages
        (_result({429: 1000}, status=1000), 200),
        (_result({200: 1000}, timeout=3), 200),
        (_result({}), 200),  # nothing completed
    ],
)
def test_a_run_with_unexpected_answers_is_refused(result, expected):
    assert common.validate_run(result, expected)


def test_wrks_non_2xx_line_refuses_the_run():
    output = (
        "Running 1s test @ http://127.0.0.1:1/\n"
        "  Non-2xx or 3xx responses: 7\n"
        'BENCH-RESULT {"requests": 100, "duration_us": 1000000, "p50_us": 1, "p90_us": 1,'
        ' "p99_us": 1, "max_us": 1, "errors": {"connect": 0, "read": 0, "write": 0,'
        ' "status": 0, "timeout": 0}, "statuses": {"200": 100}}\n'
    )
    parsed = common.parse_wrk(output)
    assert parsed["rps"] == 100
    assert common.validate_run(parsed, 200) == ["Non-2xx or 3xx responses: 7"]


class _Answers(BaseHTTPRequestHandler):
    """200 "ok", 500 at /bad, 304 when If-None-Match is "v1"; keep-alive, as wrk expects."""

    protocol_version = "HTTP/1.1"

    def do_GET(self):
        status = 500 if self.path == "/bad" else 200
        if self.headers.get("If-None-Match") == '"v1"':
            status = 304
        body = b"" if status == 304 else b"ok"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def local_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.mark.skipif(not shutil.which("wrk"), reason="wrk is not installed")
def test_real_wrk_run_counts_statuses_through_the_lua_script(local_server):
    good = common.wrk(local_server, "/ok", seconds=1, connections=2)
    assert set(good["statuses"]) == {"200"} and good["requests"] > 0
    revalidated = common.wrk(
        local_server,
        "/ok",
        seconds=1,
        connections=2,
        headers={"If-None-Match": '"v1"'},
        expected_status=304,
    )
    assert set(revalidated["statuses"]) == {"304"}
    with pytest.raises(common.RunRejected, match="500"):
        common.wrk(local_server, "/bad", seconds=1, connections=2)
    with pytest.raises(common.RunRejected, match="expected only 304"):
        common.wrk(local_server, "/ok", seconds=1, connections=2, expected_status=304)


# --- the bench never touches the test suite's database -------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres@127.0.0.1:5432/test",
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        "postgresql://postgres@127.0.0.1:5432/",
    ],
)
def test_bench_refuses_protected_databases(url):
    with pytest.raises(SystemExit):
        common.check_bench_database(url)


def test_bench_database_names():
    common.check_bench_database("postgresql://postgres@127.0.0.1:5432/bench_100k")
    assert dataset.default_url(1_000).endswith("/bench_1k")
    assert dataset.parse_scale("100k") == 100_000 and dataset.parse_scale("250") == 250


# --- the dataset at a tiny scale -------------------------------------------------------------


def test_dataset_generates_its_rows_and_nothing_is_past_retention(app, db, database):
    if database[0] != "postgresql":
        pytest.skip("the generator speaks PostgreSQL")
    from portal.audit.models import SecurityEvent
    from portal.billing.models import Invoice
    from portal.customers.models import Customer
    from portal.customers.search import search_customers
    from portal.policy.models import Notice
    from portal.retention.store import purge

    db.session.remove()
    url = db.engine.url.render_as_string(hide_password=False)
    # The bench commands build a dataset when it is missing: no database, or no customers.
    assert not dataset.exists(url.rsplit("/", 1)[0] + "/bench_never_made", 40)
    assert not dataset.exists(url, 40)
    counts = dataset.generate(url, 40)
    assert dataset.exists(url, 40)
    assert not dataset.exists(url, 41)  # a smaller dataset is not the one asked for
    assert counts == {
        "customers": 40,
        "security_events": 400,
        "invoices": 400,
        "invoice_items": 400,
        "notices": 100,
    }

    def count(model):
        return db.session.scalar(select(func.count()).select_from(model))

    assert count(Customer) == 40
    assert count(SecurityEvent) == 400
    assert count(Invoice) == 400
    assert count(Notice) == 100
    # Each customer has ten invoices in ten different months, and the login ID join holds.
    per_customer = db.session.execute(
        select(Invoice.customer_id, func.count(func.distinct(Invoice.period))).group_by(
            Invoice.customer_id
        )
    ).all()
    assert {n for _, n in per_customer} == {10}
    assert search_customers("gen0000001").items[0].login_id == "gen0000001"
    # The purge measurement adds its own expired rows: the generated ones are all kept.
    assert purge(date.today(), dry_run=True)["security_events"] == 0


def test_profiler_profiles_a_signed_in_page_under_the_production_configuration():
    """bench/profiler.py (make bench-profile) runs end to end: a fresh SQLite database, the
    demo data, a real sign-in, then a timing and a profile of the page."""
    done = subprocess.run(
        [sys.executable, "bench/profiler.py", "--requests", "5", "--top", "5", "/account"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.search(r"### /account: \d+\.\d\d ms per request", done.stdout), done.stdout
    assert "function calls" in done.stdout  # the pstats table follows the timing
