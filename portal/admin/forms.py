"""Back-office forms: shape only; every rule is in the services."""

from __future__ import annotations

from wtforms import StringField
from wtforms.validators import InputRequired, Length

from portal.forms import ShapeForm, strip


class ConfirmForm(ShapeForm):
    """A destructive action: the target's login ID typed again."""

    confirm_login_id = StringField(filters=[strip], validators=[InputRequired(), Length(max=40)])


# Caps well above every rule's limit: they only bound the work done on absurd input; the
# customers package's rules give the precise, per-field messages.
_CAP = Length(max=2000)


class RegisterCustomerForm(ShapeForm):
    """A paper application form typed in (PRODUCT.md §1). No password field: the system
    draws a temporary one (portal.auth.registration.register_with_temporary_password)."""

    login_id = StringField(filters=[strip], validators=[_CAP])
    name = StringField(filters=[strip], validators=[_CAP])
    email = StringField(filters=[strip], validators=[_CAP])
    phone = StringField(filters=[strip], validators=[_CAP])
    member_type = StringField(filters=[strip], validators=[_CAP])
    customer_type = StringField(filters=[strip], validators=[_CAP])
    birth_date = StringField(filters=[strip], validators=[_CAP])
    business_number = StringField(filters=[strip], validators=[_CAP])
    postal_code = StringField(filters=[strip], validators=[_CAP])
    address = StringField(filters=[strip], validators=[_CAP])
    country = StringField(filters=[strip], validators=[_CAP])
    username = StringField(filters=[strip], validators=[_CAP])
    second_factor = StringField(filters=[strip], validators=[_CAP])


class IssueCardForm(ConfirmForm):
    """Reissue a card: the login ID typed again, and the serial of the card being replaced
    (empty when the customer has none), so a form sent twice replaces nothing."""

    replacing = StringField(filters=[strip], validators=[Length(max=20)])
