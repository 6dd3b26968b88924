"""The withdrawal queue: list, review, complete through the shared service, reject."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from portal.admin.models import StaffSession
from portal.billing.invoices import add_invoice, record_payment
from portal.customers.errors import ValidationFailed
from portal.customers.models import Customer, LoginId
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.retention.models import RetainedRecord
from portal.retention.store import payload_of
from portal.withdrawal.errors import NoOpenRequest
from portal.withdrawal.models import WithdrawalRequest
from portal.withdrawal.services import (
    complete_request,
    last_rejection_of,
    reject_request,
)
from tests.admin.conftest import StaffActions
from tests.admin.queue_helpers import assert_no_values, fields_of, post_from, records
from tests.conftest import AuthActions, csrf_from

NAME = "김탈퇴"
PHONE = "010-5555-7777"
LOGIN = "leave_me"


@pytest.fixture
def leaver(make_customer):
    """A customer with a settled invoice (history) and an open request in the queue."""
    demo = make_customer(login_id=LOGIN, name=NAME, phone=PHONE)
    customer = db.session.get(Customer, demo.id)
    invoice = add_invoice(customer, amount=11000, due=date.today())
    record_payment(invoice.id, amount=11000)
    row = WithdrawalRequest(customer_id=demo.id, open_customer_id=demo.id)
    db.session.add(row)
    db.session.commit()
    demo.extra["request_id"] = row.id
    return demo


@pytest.fixture
def billing(make_staff, staff_auth):
    staff = make_staff("billing", login_id="bill_kim")
    staff_auth.login(staff)
    return staff


def _page(leaver) -> str:
    return f"/admin/withdrawals/{leaver.extra['request_id']}"


def _complete(client, leaver, typed: str):
    return post_from(
        client, _page(leaver), _page(leaver) + "/complete", {"confirm_login_id": typed}
    )


def _customer_gone(customer_id: int) -> bool:
    db.session.expire_all()
    return db.session.get(Customer, customer_id) is None


def test_queue_lists_open_requests_masked_with_a_link_to_the_record(client, billing, leaver):
    html = client.get("/admin/withdrawals").get_data(as_text=True)
    assert f'href="/admin/withdrawals/{leaver.extra["request_id"]}"' in html
    assert f'href="/admin/customers/{leaver.id}"' in html
    assert LOGIN not in html and "****" + LOGIN[-4:] in html
    assert NAME not in html
    [row] = records("bill_kim", "list")
    assert row.customer_id is None and fields_of(row) == {"login_id", "withdrawal_request"}


def test_menu_shows_the_open_count(client, billing, leaver):
    html = client.get("/admin/").get_data(as_text=True)
    assert "탈퇴 신청 (1)" in html
    assert 'href="/admin/withdrawals"' in html
    # billing does not answer inquiries: no entry for that queue.
    assert 'href="/admin/inquiries"' not in html


def test_detail_shows_balance_retention_and_is_logged(client, billing, leaver):
    response = client.get(_page(leaver))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert LOGIN in html and NAME in html
    assert 'id="withdrawal-balance">0원' in html
    assert "전자상거래법" in html and "invoices</code>: 1" in html
    [row] = records("bill_kim", "view")
    assert row.customer_id == leaver.id
    assert fields_of(row) == {"login_id", "name", "balance", "withdrawal_request"}
    assert_no_values(NAME, LOGIN, "01055557777", PHONE)


def test_complete_needs_the_typed_login_id(client, billing, leaver):
    for typed in ("", "someone_else", LOGIN + "x"):
        response = _complete(client, leaver, typed)
        assert response.status_code == 400
        assert "확인란에 대상 아이디를 정확히 입력해 주세요." in response.get_data(as_text=True)
    assert not _customer_gone(leaver.id)
    assert records("bill_kim", "withdrawal_complete") == []
    # The page shown again with the problem showed the record: each showing is logged,
    # though the request was refused and rolled back (3 form pages + 3 pages with the error).
    assert len(records("bill_kim", "view")) == 6
    row = db.session.get(WithdrawalRequest, leaver.extra["request_id"])
    assert row.status == "open"


def test_complete_destroys_the_customer_through_the_service(client, app, billing, leaver):
    response = _complete(client, leaver, LOGIN.upper())  # case does not matter
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/withdrawals")
    assert "탈퇴를 완료했습니다" in client.get("/admin/withdrawals").get_data(as_text=True)
    assert _customer_gone(leaver.id)
    login = db.session.scalar(select(LoginId).where(LoginId.login_id == LOGIN))
    assert login.retired_at is not None
    contract = db.session.scalars(
        select(RetainedRecord).where(RetainedRecord.category == "contract")
    ).one()
    assert payload_of(contract)["completed_by"] == "bill_kim"
    categories = set(db.session.scalars(select(RetainedRecord.category)))
    assert {"contract", "payment_record", "e_invoice"} <= categories
    # The access record outlives the customer, with the id and the tables, never values.
    [row] = records("bill_kim", "withdrawal_complete")
    assert row.customer_id == leaver.id
    assert {"customers", "invoices", "payments"} <= fields_of(row)
    assert_no_values(NAME, LOGIN, "01055557777")
    # The customer cannot sign in any more.
    assert AuthActions(app.test_client()).step_one(leaver).status_code != 302
    # The detail page of the completed request is gone with it.
    assert client.get(_page(leaver)).status_code == 404


def test_unpaid_fees_refuse_completion_with_the_amount(client, billing, leaver):
    add_invoice(db.session.get(Customer, leaver.id), amount=33000, due=date.today())
    db.session.commit()
    assert "33,000원" in client.get(_page(leaver)).get_data(as_text=True)
    response = _complete(client, leaver, LOGIN)
    assert response.status_code == 409
    assert "미납 요금 33,000원이 있어 탈퇴할 수 없습니다" in response.get_data(as_text=True)
    assert not _customer_gone(leaver.id)
    assert db.session.get(WithdrawalRequest, leaver.extra["request_id"]).status == "open"
    assert records("bill_kim", "withdrawal_complete") == []


def test_complete_needs_a_recent_password(client, billing, leaver):
    db.session.execute(
        update(StaffSession).values(authenticated_at=utcnow() - timedelta(minutes=10))
    )
    db.session.commit()
    response = _complete(client, leaver, LOGIN)
    assert response.status_code == 302
    assert "/admin/reauth" in response.headers["Location"]
    assert not _customer_gone(leaver.id)
    # After the password, the same form works.
    back = post_from(
        client,
        "/admin/reauth",
        "/admin/reauth",
        {"password": billing.password, "next": _page(leaver)},
    )
    assert back.headers["Location"].endswith(_page(leaver))
    assert _complete(client, leaver, LOGIN).status_code == 302
    assert _customer_gone(leaver.id)


def test_second_completion_is_a_message_not_an_error(client, billing, leaver):
    page = client.get(_page(leaver)).get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "confirm_login_id": LOGIN}
    first = client.post(_page(leaver) + "/complete", data=data)
    second = client.post(_page(leaver) + "/complete", data=data)
    assert first.status_code == second.status_code == 302
    assert "진행 중인 탈퇴 신청이 없습니다" in client.get("/admin/withdrawals").get_data(
        as_text=True
    )
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(RetainedRecord)
            .where(RetainedRecord.category == "contract")
        )
        == 1
    )
    assert len(records("bill_kim", "withdrawal_complete")) == 1


def test_parallel_completions_complete_once(app, make_staff, leaver):
    people = [make_staff("billing", login_id=f"bill_{n}") for n in range(2)]
    forms = []
    for staff in people:
        browser = app.test_client()
        StaffActions(browser).login(staff)
        token = csrf_from(browser.get(_page(leaver)).get_data(as_text=True))
        forms.append((browser, {"csrf_token": token, "confirm_login_id": LOGIN}))
    barrier = threading.Barrier(len(forms))
    statuses: list[int] = []

    def fire(browser, data):
        barrier.wait(timeout=30)
        statuses.append(browser.post(_page(leaver) + "/complete", data=data).status_code)

    threads = [threading.Thread(target=fire, args=item) for item in forms]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [302, 302]
    assert _customer_gone(leaver.id)
    contracts = select(func.count()).select_from(RetainedRecord)
    assert db.session.scalar(contracts.where(RetainedRecord.category == "contract")) == 1
    done = [r for s in people for r in records(s.login_id, "withdrawal_complete")]
    assert len(done) == 1


def test_reject_keeps_the_reason_and_the_customer_reads_it(client, app, billing, leaver):
    empty = post_from(client, _page(leaver), _page(leaver) + "/reject", {"reason": "  "})
    assert empty.status_code == 400
    assert "반려 사유를 입력해 주세요." in empty.get_data(as_text=True)
    reason = "분쟁 중인 요금 정산이 끝나지 않았습니다."
    response = post_from(client, _page(leaver), _page(leaver) + "/reject", {"reason": reason})
    assert response.status_code == 302
    db.session.expire_all()
    row = db.session.get(WithdrawalRequest, leaver.extra["request_id"])
    assert (row.status, row.rejection_reason, row.open_customer_id) == ("rejected", reason, None)
    assert row.closed_at is not None
    assert not _customer_gone(leaver.id)
    # Off the queue; completing it now is refused.
    assert f'/admin/withdrawals/{row.id}"' not in client.get("/admin/withdrawals").get_data(
        as_text=True
    )
    assert _complete(client, leaver, LOGIN).status_code == 302
    assert not _customer_gone(leaver.id)
    [log] = records("bill_kim", "withdrawal_reject")
    assert log.customer_id == leaver.id
    assert_no_values(reason, NAME, LOGIN)
    # The customer sees it on their withdrawal page, and may ask again.
    customer = app.test_client()
    AuthActions(customer).login(leaver)
    html = customer.get("/account/withdraw").get_data(as_text=True)
    assert "탈퇴 신청이 반려되었습니다" in html and reason in html
    assert 'id="withdraw-submit"' in html


def test_reject_service_rules(app, leaver):
    request_id = leaver.extra["request_id"]
    with pytest.raises(ValidationFailed) as info:
        reject_request(request_id, reason="")
    assert "reason" in info.value.errors
    with pytest.raises(ValidationFailed):
        reject_request(request_id, reason="x" * 1001)
    row = reject_request(request_id, reason="사유")
    db.session.commit()
    assert row.status == "rejected"
    assert last_rejection_of(leaver.id).rejection_reason == "사유"
    with pytest.raises(NoOpenRequest):
        reject_request(request_id, reason="다시")
    with pytest.raises(NoOpenRequest):
        complete_request(request_id, actor="test")
    # A new request hides the old rejection (the latest request is what the customer sees).
    db.session.add(WithdrawalRequest(customer_id=leaver.id, open_customer_id=leaver.id))
    db.session.commit()
    assert last_rejection_of(leaver.id) is None


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("get", ""), ("post", "/complete"), ("post", "/reject")],
)
def test_support_is_refused_and_logged(client, make_staff, staff_auth, leaver, method, suffix):
    support = make_staff("support", login_id="help_lee")
    staff_auth.login(support)
    if method == "get":
        response = client.get(_page(leaver))
    else:
        response = post_from(
            client, "/admin/", _page(leaver) + suffix, {"confirm_login_id": LOGIN, "reason": "x"}
        )
    assert response.status_code == 403
    assert client.get("/admin/withdrawals").status_code == 403
    denied = records("help_lee", "denied")
    assert denied and all(r.customer_id is None for r in denied)
    assert not _customer_gone(leaver.id)
    assert db.session.get(WithdrawalRequest, leaver.extra["request_id"]).status == "open"


@pytest.mark.parametrize("suffix", ["/complete", "/reject"])
def test_posts_without_csrf_token_change_nothing(client, billing, leaver, suffix):
    response = client.post(_page(leaver) + suffix, data={"confirm_login_id": LOGIN, "reason": "x"})
    assert response.status_code == 400
    assert not _customer_gone(leaver.id)
    assert db.session.get(WithdrawalRequest, leaver.extra["request_id"]).status == "open"


def test_unknown_request_is_404(client, billing):
    assert client.get("/admin/withdrawals/999999").status_code == 404
