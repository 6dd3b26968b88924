"""/account/withdraw: explain, take the password and the confirmation, call one service."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, logout_user

from portal.auth import messages as auth_messages
from portal.auth.errors import AccountLocked, ReauthFailed
from portal.auth.guards import reauth_required
from portal.auth.sessions import loads_customer, signed_in_customer
from portal.billing.banks import issuer
from portal.customers.errors import ValidationFailed
from portal.extensions import db, limiter
from portal.policy.retention import PERIODS
from portal.withdrawal import bp
from portal.withdrawal import messages as m
from portal.withdrawal.errors import (
    AlreadyWithdrawn,
    ConfirmationMissing,
    NoOpenRequest,
    RightsRequestNotFound,
    RightsRequestNotOpen,
    WithdrawalError,
    WithdrawalRefused,
)
from portal.withdrawal.rights import (
    cancel_rights_request,
    rights_requests_of,
    submit_rights_request,
)
from portal.withdrawal.services import (
    DESTROYED_TABLES,
    OUTCOME_COMPLETED,
    cancel_request,
    last_rejection_of,
    open_request_of,
    request_withdrawal,
)

SUBMIT_LIMIT = "30 per hour"


def _page(*, error=None, refused_amount=None, status=200):
    return (
        render_template(
            "withdrawal/withdraw.html",
            periods=list(PERIODS.values()),
            destroyed=DESTROYED_TABLES,
            open_request=open_request_of(current_user.id),
            rejected_request=last_rejection_of(current_user.id),
            error=error,
            refused_amount=refused_amount,
            contact=issuer().get("contact", ""),
        ),
        status,
    )


def _signed_out(message) -> None:
    logout_user()
    session.clear()
    if message is not None:
        flash(message, "info")


@bp.get("/account/withdraw")
@reauth_required
@loads_customer
def withdraw():
    return _page()


@bp.post("/account/withdraw")
@limiter.limit(SUBMIT_LIMIT)
@reauth_required(return_to="/account/withdraw")
@loads_customer
def withdraw_submit():
    try:
        outcome = request_withdrawal(
            signed_in_customer(),
            password=request.form.get("password", ""),
            confirm=request.form.get("confirm", ""),
        )
    except ReauthFailed as exc:
        if exc.signed_out:
            _signed_out(
                auth_messages.message_for(
                    AccountLocked(current_app.config["PORTAL_LOCKOUT_SECONDS"])
                )
            )
            return redirect(url_for("auth.login"))
        # 200, not 400: the failure (charged attempt, event) must be committed.
        return _page(error=auth_messages.message_for(exc))
    except AlreadyWithdrawn:
        db.session.rollback()
        _signed_out(m.message_for(AlreadyWithdrawn()))
        return redirect(url_for("withdrawal.done"))
    except WithdrawalRefused as exc:
        return _page(error=m.message_for(exc), refused_amount=exc.amount, status=409)
    except ConfirmationMissing as exc:
        return _page(error=m.message_for(exc), status=400)
    except WithdrawalError as exc:
        return _page(error=m.message_for(exc), status=409)
    if outcome.kind == OUTCOME_COMPLETED:
        _signed_out(None)
        return redirect(url_for("withdrawal.done"))
    flash(m.REQUEST_RECEIVED, "success")
    return redirect(url_for("withdrawal.withdraw"))


@bp.post("/account/withdraw/cancel")
@login_required
@loads_customer
def cancel():
    try:
        cancel_request(signed_in_customer())
    except NoOpenRequest as exc:
        flash(m.message_for(exc), "error")
    else:
        flash(m.REQUEST_CANCELLED, "success")
    return redirect(url_for("withdrawal.withdraw"))


@bp.get("/account/withdraw/done")
def done():
    return render_template("withdrawal/done.html")


@bp.route("/account/rights", methods=["GET", "POST"])
@limiter.limit(SUBMIT_LIMIT, methods=["POST"])
@login_required
@loads_customer
def rights():
    errors: dict[str, object] = {}
    values = {"kind": "", "detail": ""}
    status = 200
    if request.method == "POST":
        values = {name: request.form.get(name, "") for name in values}
        try:
            submit_rights_request(
                signed_in_customer(), kind=values["kind"], detail=values["detail"]
            )
        except ValidationFailed as exc:
            errors, status = exc.errors, 400
        else:
            flash(m.RIGHTS_SUBMITTED, "success")
            return redirect(url_for("withdrawal.rights"))
    return (
        render_template(
            "withdrawal/rights.html",
            rows=rights_requests_of(current_user.id),
            kinds=m.RIGHTS_KIND_LABELS,
            statuses=m.RIGHTS_STATUS_LABELS,
            values=values,
            errors=errors,
        ),
        status,
    )


@bp.post("/account/rights/<int:request_id>/cancel")
@login_required
@loads_customer
def cancel_rights(request_id: int):
    try:
        cancel_rights_request(signed_in_customer(), request_id)
    except RightsRequestNotFound:
        abort(404)
    except RightsRequestNotOpen as exc:
        flash(m.message_for(exc), "error")
    else:
        flash(m.RIGHTS_CANCELLED, "success")
    return redirect(url_for("withdrawal.rights"))
