"""Account forms: shape only (presence, generous length caps, digits). Rules: services."""

from __future__ import annotations

from wtforms import StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Regexp

from portal.forms import ShapeForm, ascii_digits, strip

# Caps well above every rule's limit: they only bound the work done on absurd input; the
# services give the precise, field-specific messages (e.g. "300자 이하로 입력해 주세요").
_CAP = Length(max=2000)


class ProfileForm(ShapeForm):
    """/account/profile/edit. Only these fields are read: anything else posted is ignored."""

    email = StringField(filters=[strip], validators=[_CAP])
    phone = StringField(filters=[strip], validators=[_CAP])
    postal_code = StringField(filters=[strip], validators=[_CAP])
    address = StringField(filters=[strip], validators=[_CAP])
    address_detail = StringField(filters=[strip], validators=[_CAP])
    representative = StringField(filters=[strip], validators=[_CAP])
    country = StringField(filters=[strip], validators=[_CAP])
    username = StringField(filters=[strip], validators=[_CAP])
    version = StringField(
        filters=[ascii_digits], validators=[InputRequired(), Regexp(r"^[0-9]{1,9}$")]
    )


class CorrectionForm(ShapeForm):
    field = StringField(filters=[strip], validators=[Length(max=40)])
    value = StringField(filters=[strip], validators=[_CAP])
    reason = TextAreaField(filters=[strip], validators=[Length(max=5000)])


class InquiryForm(ShapeForm):
    subject = StringField(filters=[strip], validators=[_CAP])
    body = TextAreaField(filters=[strip], validators=[Length(max=20000)])
