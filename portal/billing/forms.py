"""Billing forms: shape only (generous caps). Rules: portal.billing.methods."""

from __future__ import annotations

from wtforms import StringField
from wtforms.validators import Length

from portal.forms import ShapeForm, strip

_CAP = Length(max=300)


class PaymentMethodForm(ShapeForm):
    """/billing/payment-method. Only these fields are read."""

    kind = StringField(filters=[strip], validators=[Length(max=20)])
    holder_name = StringField(filters=[strip], validators=[_CAP])
    holder_birth_date = StringField(filters=[strip], validators=[Length(max=40)])
    holder_business_number = StringField(filters=[strip], validators=[Length(max=40)])
    bank_code = StringField(filters=[strip], validators=[Length(max=10)])
    account_number = StringField(filters=[strip], validators=[Length(max=60)])
    phone = StringField(filters=[strip], validators=[Length(max=60)])
    email = StringField(filters=[strip], validators=[_CAP])
