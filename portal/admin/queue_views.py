"""Back-office queues: withdrawal requests, correction requests, inquiries (SPEC §7; the
disclosures ledger is ``disclosure_views``). Each action calls the same service as its
``flask`` command; the rules (unpaid fees, one completion, reasons, items under correction)
are the services'.

Every page that shows a customer's data, and every decision, writes an access-log record
naming the customer and the fields (never their values). Completing a withdrawal destroys
the customer, so its record is queued before the service runs: the access log has no
foreign key to customers and keeps the id of a customer who no longer exists.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    abort,
    flash,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from werkzeug.routing import BuildError

from portal.account import messages as am
from portal.account.corrections import (
    QUEUE_VIEWS,
    approve_correction,
    correction_for_staff,
    correction_queue_page,
    current_value,
    mark_notified,
    open_correction_count,
    reject_correction,
)
from portal.account.errors import (
    AccountError,
    CorrectionNotFound,
    InquiryNotFound,
)
from portal.account.inquiries import (
    answer_inquiry,
    inquiry_for_staff,
    inquiry_queue_page,
    unanswered_count,
)
from portal.admin import bp
from portal.admin import messages as m
from portal.admin.guards import recent_password, typed_confirmation
from portal.admin.menu import menu_item
from portal.admin.permissions import requires
from portal.admin.signin import note
from portal.customers.errors import ValidationFailed
from portal.customers.messages import FIELD_LABELS
from portal.extensions import db
from portal.pagination import parse_page
from portal.policy.retention import PERIODS
from portal.security import mask
from portal.withdrawal import messages as wm
from portal.withdrawal.errors import NoOpenRequest, WithdrawalError, WithdrawalRefused
from portal.withdrawal.services import (
    DESTROYED_TABLES,
    RETAINED_TABLES,
    complete_request,
    open_request_count,
    open_requests_page,
    queued_request,
    reject_request,
)

PER_PAGE = 20
# What a completed withdrawal touches: every table of the customer's data (names only).
WITHDRAWAL_FIELDS = sorted(set(RETAINED_TABLES) | set(DESTROYED_TABLES))
WITHDRAWAL_VIEW_FIELDS = ["login_id", "name", "balance", "withdrawal_request"]
INQUIRY_FIELDS = ["subject", "body", "answer"]


class CountedLabel:
    """A menu label followed by its queue's open count, e.g. "탈퇴 신청 (3)".

    The count is one COUNT query, run only when the label is shown (the menu shows it only
    to a role that holds the permission) and at most once per request (nav and home tiles
    share it through ``g``).
    """

    def __init__(self, label: object, count: Callable[[], int]) -> None:
        self.label = label
        self.count = count

    def __str__(self) -> str:
        if not has_request_context():
            return str(self.label)
        counts = g.setdefault("queue_counts", {})
        if id(self) not in counts:
            counts[id(self)] = self.count()
        n = counts[id(self)]
        return f"{self.label} ({n})" if n else str(self.label)


menu_item(
    "admin.withdrawal_queue",
    "withdrawals.process",
    CountedLabel(_l("탈퇴 신청"), open_request_count),
    order=30,
)
menu_item(
    "admin.correction_queue",
    "corrections.process",
    CountedLabel(_l("정정 신청"), open_correction_count),
    order=31,
)
menu_item(
    "admin.inquiry_queue",
    "inquiries.answer",
    CountedLabel(_l("문의·민원"), unanswered_count),
    order=32,
)

CORRECTION_VIEW_LABELS = {
    "open": _l("처리 대기"),
    "notify": _l("통지 작업 남음"),
    "all": _l("전체"),
}
INQUIRY_VIEW_LABELS = {"open": _l("답변 대기"), "answered": _l("답변 완료")}


def customer_url(customer_id: int) -> str:
    """The customer's record page (built by the customers screens; a plain URL until then)."""
    try:
        return url_for("admin.show_customer", customer_id=customer_id)
    except BuildError:
        return f"/admin/customers/{customer_id}"


def render_queue_page(template: str, status: int = 200, **context):
    """A back-office page that links and masks customers (the queues and the ledger)."""
    return (
        render_template(
            template,
            customer_url=customer_url,
            mask=mask,
            field_labels=FIELD_LABELS,
            **context,
        ),
        status,
    )


# --- withdrawal requests ------------------------------------------------------------------


@bp.get("/withdrawals")
@requires("withdrawals.process")
def withdrawal_queue():
    page = open_requests_page(page=parse_page(request.args.get("page")), per_page=PER_PAGE)
    note(g.staff, "list", fields=["login_id", "withdrawal_request"])
    return render_queue_page("admin/queues/withdrawals.html", page=page)


def _withdrawal_page(
    request_id: int, *, error=None, confirm_error=None, errors=None, values=None, status=200
):
    try:
        queued = queued_request(request_id)
    except NoOpenRequest:
        abort(404)
    note(g.staff, "view", customer_id=queued.customer.id, fields=WITHDRAWAL_VIEW_FIELDS)
    return render_queue_page(
        "admin/queues/withdrawal.html",
        status,
        queued=queued,
        periods=list(PERIODS.values()),
        error=error,
        confirm_error=confirm_error,
        errors=errors or {},
        values=values or {},
    )


@bp.get("/withdrawals/<int:request_id>")
@requires("withdrawals.process")
def show_withdrawal(request_id: int):
    return _withdrawal_page(request_id)


@bp.post("/withdrawals/<int:request_id>/complete")
@requires("withdrawals.process")
@recent_password(return_to="admin.show_withdrawal")
def complete_withdrawal(request_id: int):
    try:
        queued = queued_request(request_id)
    except NoOpenRequest as exc:
        flash(wm.message_for(exc), "error")
        return redirect(url_for("admin.withdrawal_queue"))
    if queued.request.status != "open":
        flash(wm.message_for(NoOpenRequest()), "error")
        return redirect(url_for("admin.withdrawal_queue"))
    if not typed_confirmation(queued.customer.login_id):
        return _withdrawal_page(
            request_id,
            confirm_error=m.CONFIRM_MISMATCH,
            values={"confirm_login_id": request.form.get("confirm_login_id", "")},
            status=400,
        )
    customer_id = queued.customer.id
    # Before the service: afterwards the customer is gone (the record keeps the id only).
    note(g.staff, "withdrawal_complete", customer_id=customer_id, fields=WITHDRAWAL_FIELDS)
    try:
        complete_request(request_id, actor=g.staff.login_id)
        db.session.flush()
    except WithdrawalRefused as exc:
        db.session.rollback()
        return _withdrawal_page(request_id, error=wm.message_for(exc), status=409)
    except (WithdrawalError, IntegrityError):
        # Another staff member (or the customer's cancel) got there first.
        db.session.rollback()
        flash(wm.message_for(NoOpenRequest()), "error")
        return redirect(url_for("admin.withdrawal_queue"))
    flash(m.WITHDRAWAL_COMPLETED, "success")
    return redirect(url_for("admin.withdrawal_queue"))


@bp.post("/withdrawals/<int:request_id>/reject")
@requires("withdrawals.process")
def reject_withdrawal(request_id: int):
    try:
        queued = queued_request(request_id)
    except NoOpenRequest:
        abort(404)
    reason = request.form.get("reason", "")
    try:
        reject_request(request_id, reason=reason)
    except ValidationFailed as exc:
        db.session.rollback()
        return _withdrawal_page(
            request_id, errors=exc.errors, values={"reason": reason}, status=400
        )
    except NoOpenRequest as exc:
        db.session.rollback()
        flash(wm.message_for(exc), "error")
        return redirect(url_for("admin.withdrawal_queue"))
    note(
        g.staff,
        "withdrawal_reject",
        customer_id=queued.customer.id,
        fields=["withdrawal_request", "rejection_reason"],
    )
    flash(m.WITHDRAWAL_REJECTED, "success")
    return redirect(url_for("admin.withdrawal_queue"))


# --- correction requests ------------------------------------------------------------------


@bp.get("/corrections")
@requires("corrections.process")
def correction_queue():
    view = request.args.get("view", "open")
    if view not in QUEUE_VIEWS:
        view = "open"
    page = correction_queue_page(
        view=view, page=parse_page(request.args.get("page")), per_page=PER_PAGE
    )
    note(g.staff, "list", fields=["login_id", "correction_request"])
    return render_queue_page(
        "admin/queues/corrections.html", page=page, view=view, views=CORRECTION_VIEW_LABELS
    )


def _correction_page(correction_id: int, *, errors=None, values=None, error=None, status=200):
    try:
        row, customer = correction_for_staff(correction_id)
    except CorrectionNotFound:
        abort(404)
    note(g.staff, "view", customer_id=customer.id, fields=["login_id", row.field])
    return render_queue_page(
        "admin/queues/correction.html",
        status,
        row=row,
        customer=customer,
        current=current_value(customer, row.field),
        errors=errors or {},
        values=values or {},
        error=error,
    )


@bp.get("/corrections/<int:correction_id>")
@requires("corrections.process")
def show_correction(correction_id: int):
    return _correction_page(correction_id)


@bp.post("/corrections/<int:correction_id>/approve")
@requires("corrections.process")
# An approved correction may change the e-mail or phone that password resets go to: the
# password again, as for every action that could hand an account to someone else.
@recent_password(return_to="admin.show_correction")
def approve_correction_request(correction_id: int):
    try:
        row = approve_correction(correction_id)
    except CorrectionNotFound:
        abort(404)
    except AccountError as exc:
        db.session.rollback()
        return _correction_page(correction_id, error=am.message_for(exc), status=409)
    except ValidationFailed as exc:
        db.session.rollback()
        return _correction_page(correction_id, error=exc.one_line(), status=409)
    note(g.staff, "correction_approve", customer_id=row.customer_id, fields=[row.field])
    flash(m.CORRECTION_APPROVED, "success")
    return redirect(url_for("admin.show_correction", correction_id=correction_id))


@bp.post("/corrections/<int:correction_id>/reject")
@requires("corrections.process")
def reject_correction_request(correction_id: int):
    reason = request.form.get("reason", "")
    try:
        row = reject_correction(correction_id, reason=reason)
    except CorrectionNotFound:
        abort(404)
    except ValidationFailed as exc:
        db.session.rollback()
        return _correction_page(
            correction_id, errors=exc.errors, values={"reason": reason}, status=400
        )
    except AccountError as exc:
        db.session.rollback()
        return _correction_page(correction_id, error=am.message_for(exc), status=409)
    note(g.staff, "correction_reject", customer_id=row.customer_id, fields=[row.field])
    flash(m.CORRECTION_REJECTED, "success")
    return redirect(url_for("admin.correction_queue"))


@bp.post("/corrections/notices/<int:notice_id>/done")
@requires("corrections.process")
def mark_notice_done(notice_id: int):
    try:
        notice = mark_notified(notice_id)
    except AccountError as exc:
        db.session.rollback()
        flash(am.message_for(exc), "error")
        return redirect(url_for("admin.correction_queue", view="notify"))
    note(
        g.staff,
        "correction_notified",
        customer_id=notice.customer_id,
        fields=[notice.correction.field],
    )
    flash(m.NOTICE_MARKED, "success")
    return redirect(url_for("admin.show_correction", correction_id=notice.correction_id))


# --- inquiries ----------------------------------------------------------------------------


@bp.get("/inquiries")
@requires("inquiries.answer")
def inquiry_queue():
    view = "answered" if request.args.get("view") == "answered" else "open"
    page = inquiry_queue_page(
        answered=view == "answered", page=parse_page(request.args.get("page")), per_page=PER_PAGE
    )
    note(g.staff, "list", fields=["login_id", "subject"])
    return render_queue_page(
        "admin/queues/inquiries.html", page=page, view=view, views=INQUIRY_VIEW_LABELS
    )


def _inquiry_page(inquiry_id: int, *, errors=None, values=None, error=None, status=200):
    try:
        row, login_id = inquiry_for_staff(inquiry_id)
    except InquiryNotFound:
        abort(404)
    note(g.staff, "view", customer_id=row.customer_id, fields=["login_id", *INQUIRY_FIELDS])
    return render_queue_page(
        "admin/queues/inquiry.html",
        status,
        row=row,
        login_id=login_id,
        errors=errors or {},
        values=values or {},
        error=error,
    )


@bp.get("/inquiries/<int:inquiry_id>")
@requires("inquiries.answer")
def show_inquiry(inquiry_id: int):
    return _inquiry_page(inquiry_id)


@bp.post("/inquiries/<int:inquiry_id>/answer")
@requires("inquiries.answer")
def answer_inquiry_request(inquiry_id: int):
    body = request.form.get("body", "")
    try:
        row = answer_inquiry(inquiry_id, body=body)
    except InquiryNotFound:
        abort(404)
    except ValidationFailed as exc:
        db.session.rollback()
        return _inquiry_page(inquiry_id, errors=exc.errors, values={"body": body}, status=400)
    except AccountError as exc:
        db.session.rollback()
        return _inquiry_page(inquiry_id, error=am.message_for(exc), status=409)
    note(g.staff, "inquiry_answer", customer_id=row.customer_id, fields=["answer"])
    flash(m.INQUIRY_ANSWERED, "success")
    return redirect(url_for("admin.inquiry_queue"))
