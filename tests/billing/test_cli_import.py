"""`flask billing …` commands and the CSV import: per-row errors, all or nothing, idempotent."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import func, select

from portal.billing.models import Invoice, Payment
from portal.customers.models import ServiceLine

HEADER = (
    "record,invoice_number,login_id,period,due_date,amount,description,quantity,"
    "paid_on,method,payment_number\n"
)


def _count(db, model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def test_add_invoice_and_record_payment(app, db, runner, customer):
    db.session.add(
        ServiceLine(
            customer_id=customer.id,
            service="spot",
            plan="스팟 라이트",
            activated_on=date(2024, 1, 1),
        )
    )
    db.session.commit()
    out = runner.invoke(
        args=[
            "billing",
            "add-invoice",
            "--login-id",
            customer.login_id,
            "--amount",
            "33000",
            "--due",
            "2026-12-25",
            "--period",
            "2026-11",
            "--json",
        ]
    )
    assert out.exit_code == 0, out.output
    invoice_id = json.loads(out.output)["invoice_id"]
    invoice = db.session.get(Invoice, invoice_id)
    assert invoice.period == "2026-11" and invoice.items[0].description == "스팟 라이트"
    paid = runner.invoke(
        args=["billing", "record-payment", "--invoice-id", str(invoice_id), "--amount", "10000"]
    )
    assert paid.exit_code == 0, paid.output
    too_much = runner.invoke(
        args=["billing", "record-payment", "--invoice-id", str(invoice_id), "--amount", "23001"]
    )
    assert too_much.exit_code == 1 and "23,000원" in too_much.output
    assert len(too_much.output.strip().splitlines()) == 1
    missing = runner.invoke(
        args=["billing", "record-payment", "--invoice-id", "99999", "--amount", "1"]
    )
    assert missing.exit_code == 1 and "청구서를 찾을 수 없습니다" in missing.output
    full = runner.invoke(
        args=[
            "billing",
            "add-invoice",
            "--login-id",
            customer.login_id,
            "--amount",
            "5000",
            "--due",
            "2026-12-25",
            "--paid",
            "--json",
        ]
    )
    assert full.exit_code == 0
    assert _count(db, Payment) == 2


def test_add_invoice_refuses_bad_input(app, db, runner, customer):
    for args, text in [
        (["--amount", "0"], "amount"),
        (["--amount", "12.5"], "amount"),
        (["--amount", "-5"], "amount"),
        (["--amount", "1000", "--due", "2026-02-30"], "due"),
        (["--amount", "1000", "--period", "2026-13"], "period"),
    ]:
        base = {"--due": "2026-12-25"}
        argv = ["billing", "add-invoice", "--login-id", customer.login_id, *args]
        if "--due" not in args:
            argv += ["--due", base["--due"]]
        out = runner.invoke(args=argv)
        assert out.exit_code == 1 and text in out.output, (args, out.output)
    unknown = runner.invoke(
        args=[
            "billing",
            "add-invoice",
            "--login-id",
            "nobody_here",
            "--amount",
            "1",
            "--due",
            "2026-12-25",
        ]
    )
    assert unknown.exit_code == 1 and "nobody_here" in unknown.output
    assert _count(db, Invoice) == 0


def test_import_is_all_or_nothing_with_line_numbers(app, db, runner, customer, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        HEADER
        + f"invoice,INV-1,{customer.login_id},2026-10,2026-11-25,33000,애니트랙,1,,,\n"
        + "invoice,INV-2,nobody_here,2026-10,2026-11-25,10000,,,,,\n"  # line 3: unknown login ID
        + f"invoice,INV-3,{customer.login_id},2026-10,2026-11-31,10000,,,,,\n"  # line 4: bad date
        + f"invoice,INV-1,{customer.login_id},2026-10,2026-11-25,33000,,,,,\n"  # line 5: duplicate
        + "payment,INV-1,,,,40000,,,2026-11-20,deposit,PAY-1\n"  # line 6: more than due
        + "payment,INV-9,,,,1000,,,2026-11-20,deposit,PAY-2\n",  # line 7: unknown invoice
        encoding="utf-8",
    )
    out = runner.invoke(args=["billing", "import", str(path)])
    assert out.exit_code == 1
    text = out.output
    for line, words in [
        (3, "nobody_here"),
        (4, "YYYY-MM-DD"),
        (5, "2행"),
        (6, "33,000원"),
        (7, "청구서 번호"),
    ]:
        assert (
            f"line {line}:" in text and words in text.split(f"line {line}:")[1].splitlines()[0]
        ), (line, text)
    assert "line 2:" not in text
    assert _count(db, Invoice) == 0 and _count(db, Payment) == 0


def test_import_then_rerun_is_idempotent(app, db, runner, customer, tmp_path):
    path = tmp_path / "good.csv"
    path.write_text(
        "\ufeff"
        + HEADER
        + f"invoice,INV-10,{customer.login_id},2026-10,2026-11-25,33000,애니트랙 베이직,2,,,\n"
        + "payment,INV-10,,,,13000,,,2026-11-20,auto_debit,PAY-10\n"
        + f"invoice,INV-11,{customer.login_id},,2026-12-25,22000,,,,,\n",
        encoding="utf-8",
    )
    first = runner.invoke(args=["billing", "import", str(path), "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.output) == {
        "invoices_added": 2,
        "invoices_skipped": 0,
        "payments_added": 1,
        "payments_skipped": 0,
    }
    again = runner.invoke(args=["billing", "import", str(path), "--json"])
    assert json.loads(again.output) == {
        "invoices_added": 0,
        "invoices_skipped": 2,
        "payments_added": 0,
        "payments_skipped": 1,
    }
    assert _count(db, Invoice) == 2 and _count(db, Payment) == 1
    invoice = db.session.scalars(select(Invoice).where(Invoice.external_number == "INV-11")).one()
    assert invoice.period == "2026-12"
    changed = tmp_path / "changed.csv"
    changed.write_text(
        HEADER + f"invoice,INV-10,{customer.login_id},2026-10,2026-11-25,34000,,,,,\n",
        encoding="utf-8",
    )
    conflict = runner.invoke(args=["billing", "import", str(changed)])
    assert conflict.exit_code == 1 and "line 2:" in conflict.output


def test_import_refuses_a_file_without_the_columns(app, db, runner, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    out = runner.invoke(args=["billing", "import", str(path)])
    assert out.exit_code == 1 and "line 1:" in out.output


def test_demo_customers_have_billing(app, db, runner):
    from portal.billing.invoices import billing_page
    from portal.billing.methods import summarise
    from portal.customers.services import customer_by_login_id

    out = runner.invoke(args=["demo", "load"])
    assert out.exit_code == 0, out.output
    minsu = customer_by_login_id("kim_minsu")
    page = billing_page(minsu.id, page=1, per_page=20, summarise=summarise)
    assert [i.status for i in page.invoices] == ["issued", "overdue", "paid", "paid"]
    assert 0 < page.invoices[1].paid < page.invoices[1].total
    assert page.method.kind == "auto_debit" and page.method.account_masked == "***-****-7654"
    seoyeon = customer_by_login_id("lee_seoyeon")
    assert (
        billing_page(seoyeon.id, page=1, per_page=20, summarise=summarise).method.kind == "deposit"
    )
    biz = customer_by_login_id("arion_logis")
    assert biz.customer_type == "business"
    assert billing_page(biz.id, page=1, per_page=20, summarise=summarise).invoices
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 0
    assert len(billing_page(minsu.id, page=1, per_page=20, summarise=summarise).invoices) == 4
