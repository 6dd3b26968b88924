"""Back-office customer screens: search (masked results), the record (unmasked, logged),
registration from a paper application form, and the security card reissue.

Each view parses, calls one service of the lower packages and renders; every touch of a
customer's personal data writes an access record (portal.admin.signin.note) in the same
transaction. Card codes, OTP secrets and temporary passwords are rendered once, in the
response to the POST that made them: never in a URL, the cookie session or a later GET.
"""

from __future__ import annotations

from flask import abort, g, render_template, request
from flask_babel import lazy_gettext as _l

from portal.admin import bp
from portal.admin import messages as m
from portal.admin.forms import IssueCardForm, RegisterCustomerForm
from portal.admin.guards import recent_password, typed_confirmation
from portal.admin.menu import menu_item
from portal.admin.permissions import requires
from portal.admin.records import CustomerRecord, customer_record
from portal.admin.signin import note
from portal.auth import messages as am
from portal.auth.errors import CardChanged
from portal.auth.otp import provisioning_uri, qr_svg
from portal.auth.registration import register_with_temporary_password
from portal.auth.services import reissue_card
from portal.billing.documents import format_business_number
from portal.customers import messages as cm
from portal.customers.errors import LoginIdTaken, ValidationFailed
from portal.customers.search import QUERY_MAX, normalise_query
from portal.customers.search import search_customers as search_customers_service
from portal.customers.services import APPLICATION_FIELDS, NewCustomer
from portal.pagination import parse_page

menu_item("admin.search_customers", "customers.search", _l("고객 조회"), order=10)
menu_item("admin.register_customer", "customers.register", _l("고객 등록"), order=20)


@bp.get("/customers")
@requires("customers.search")
def search_customers():
    query = normalise_query(request.args.get("q"))
    results = None
    if query:
        results = search_customers_service(query, page=parse_page(request.args.get("page")))
        # The query's text is personal data too (a name, a phone number): named, not kept.
        note(g.staff, "search", fields=["q"])
    return render_template("admin/customers/search.html", q=query, results=results, q_max=QUERY_MAX)


@bp.get("/customers/<int:customer_id>")
@requires("customers.view")
def view_customer(customer_id: int):
    record = customer_record(customer_id)
    if record is None:
        abort(404)
    note(g.staff, "view", customer_id=record.customer.id, fields=record.fields_shown)
    return _record_page(record, errors={})


def _record_page(record: CustomerRecord, *, errors: dict):
    return render_template(
        "admin/customers/record.html",
        record=record,
        c=record.customer,
        errors=errors,
        field_labels=cm.FIELD_LABELS,
        business_number=format_business_number,
    )


def _application(form: RegisterCustomerForm) -> NewCustomer:
    data = form.data
    return NewCustomer(
        login_id=data["login_id"] or "",
        name=data["name"] or "",
        email=data["email"] or "",
        phone=data["phone"] or "",
        password="",  # drawn by the service
        member_type=data["member_type"] or "general",
        customer_type=data["customer_type"] or "individual",
        birth_date=data["birth_date"] or None,
        business_number=data["business_number"] or None,
        postal_code=data["postal_code"] or None,
        address=data["address"] or None,
        country=data["country"] or None,
        username=data["username"] or None,
        second_factor=data["second_factor"] or "card",
    )


@bp.route("/customers/new", methods=["GET", "POST"])
@requires("customers.register")
def register_customer():
    form = RegisterCustomerForm(request.form)
    errors: dict[str, object] = {}
    if request.method == "POST":
        if not form.validate():
            errors = {name: m.FIELD_TOO_LONG for name in form.errors}
        else:
            try:
                result = register_with_temporary_password(_application(form))
            except ValidationFailed as exc:
                errors = dict(exc.errors)
            except LoginIdTaken:
                errors = {"login_id": cm.LOGIN_ID_TAKEN}
            else:
                customer = result.customer
                credential = "security_card" if result.card_codes is not None else "otp"
                note(
                    g.staff,
                    "register",
                    customer_id=customer.id,
                    fields=[*APPLICATION_FIELDS, "password", credential],
                )
                qr = None
                if result.otp_secret is not None:
                    qr = qr_svg(provisioning_uri(result.otp_secret, customer.login_id))
                return render_template(
                    "admin/customers/issued.html",
                    c=customer,
                    heading=_l("고객 등록 완료"),
                    notice=m.CUSTOMER_REGISTERED,
                    serial=result.card_serial,
                    codes=result.card_codes,
                    otp_secret=result.otp_secret,
                    otp_qr=qr,
                    temporary_password=result.temporary_password,
                )
    values = {name: (value or "") for name, value in form.data.items()}
    status = 400 if errors else 200
    return (
        render_template("admin/customers/register.html", values=values, errors=errors),
        status,
    )


@bp.post("/customers/<int:customer_id>/card")
@requires("cards.issue")
@recent_password(return_to="admin.view_customer")
def issue_card(customer_id: int):
    record = customer_record(customer_id)
    if record is None:
        abort(404)
    customer = record.customer
    form = IssueCardForm(request.form)
    error = None
    if not form.validate() or not typed_confirmation(customer.login_id):
        error = m.CONFIRM_MISMATCH
    else:
        try:
            card, codes = reissue_card(customer, replacing=form.replacing.data or None)
        except CardChanged as exc:
            error = am.message_for(exc)
        else:
            note(g.staff, "card_issue", customer_id=customer.id, fields=["security_card"])
            return render_template(
                "admin/customers/issued.html",
                c=customer,
                heading=_l("보안카드 재발급"),
                notice=m.CARD_REISSUED,
                serial=card.serial,
                codes=codes,
                otp_secret=None,
                otp_qr=None,
                temporary_password=None,
            )
    # The record is shown again (unmasked), so it is a view as well; 200, not 400, so that
    # the request commits and that access record is kept (nothing else was changed).
    note(g.staff, "view", customer_id=customer.id, fields=record.fields_shown)
    return _record_page(record, errors={"confirm_login_id": error})
