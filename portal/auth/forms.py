"""Sign-in forms: shape only (lengths, digits); every rule is in the services."""

from __future__ import annotations

from wtforms import IntegerField, PasswordField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from portal.auth import messages as m
from portal.auth.passwords import MAX_LENGTH as PASSWORD_MAX
from portal.forms import ShapeForm, ascii_digits, strip

_REQUIRED = "필수 항목입니다."
# What the sign-in forms take (the pages' maxlength too). Login IDs are 4-20 characters
# (customers.validation); a longer one typed by mistake still gets the usual answer.
LOGIN_ID_MAX = 40
RECOVERY_CODE_MAX = 20


class LoginForm(ShapeForm):
    login_id = StringField(
        filters=[strip], validators=[DataRequired(_REQUIRED), Length(max=LOGIN_ID_MAX)]
    )
    # Long passwords are accepted up to 128 characters; longer input is refused in shape.
    password = PasswordField(validators=[InputRequired(_REQUIRED), Length(max=PASSWORD_MAX)])


class CardForm(ShapeForm):
    code_first = StringField(
        filters=[ascii_digits], validators=[InputRequired(), Regexp(r"^[0-9]{2}$")]
    )
    code_last = StringField(
        filters=[ascii_digits], validators=[InputRequired(), Regexp(r"^[0-9]{2}$")]
    )

    # The pair the page showed (optional): lets the server spot an answer from a stale tab.
    challenge_first = IntegerField(validators=[Optional(), NumberRange(1, 999)])
    challenge_last = IntegerField(validators=[Optional(), NumberRange(1, 999)])

    format_message = m.CARD_FORMAT

    def shown(self) -> tuple[int, int] | None:
        if self.challenge_first.data is None or self.challenge_last.data is None:
            return None
        return self.challenge_first.data, self.challenge_last.data

    def answer(self) -> dict:
        """The keyword arguments of :func:`portal.auth.signin.answer_step_two`."""
        return {
            "code_first": self.code_first.data,
            "code_last": self.code_last.data,
            "shown": self.shown(),
        }


class OtpForm(ShapeForm):
    otp = StringField(filters=[ascii_digits], validators=[InputRequired(), Regexp(r"^[0-9]{6}$")])

    format_message = m.OTP_FORMAT

    def answer(self) -> dict:
        """The keyword arguments of :func:`portal.auth.signin.answer_step_two`."""
        return {"otp_code": self.otp.data}


class RecoveryForm(ShapeForm):
    recovery_code = StringField(
        filters=[strip],
        validators=[InputRequired(_REQUIRED), Length(min=10, max=RECOVERY_CODE_MAX)],
    )


class NewPasswordForm(ShapeForm):
    password = PasswordField(validators=[InputRequired(_REQUIRED), Length(max=200)])
    password_confirm = PasswordField(validators=[InputRequired(_REQUIRED), Length(max=200)])


class ChangePasswordForm(ShapeForm):
    current_password = PasswordField(validators=[InputRequired(_REQUIRED), Length(max=200)])
    new_password = PasswordField(validators=[InputRequired(_REQUIRED), Length(max=200)])
    new_password_confirm = PasswordField(validators=[InputRequired(_REQUIRED), Length(max=200)])


class ReauthForm(ShapeForm):
    password = PasswordField(validators=[InputRequired(_REQUIRED), Length(max=200)])


# A login ID or an email address (forgotten password); an address (forgotten login ID).
IDENTIFIER_MAX = 254


class ForgotPasswordForm(ShapeForm):
    login_id = StringField(
        filters=[strip], validators=[DataRequired(_REQUIRED), Length(max=IDENTIFIER_MAX)]
    )


class ForgotIdForm(ShapeForm):
    email = StringField(
        filters=[strip], validators=[DataRequired(_REQUIRED), Length(max=IDENTIFIER_MAX)]
    )
