"""Back-office forms: shape only; every rule is in the services."""

from __future__ import annotations

from wtforms import StringField
from wtforms.validators import InputRequired, Length

from portal.forms import ShapeForm, strip


class ConfirmForm(ShapeForm):
    """A destructive action: the target's login ID typed again."""

    confirm_login_id = StringField(filters=[strip], validators=[InputRequired(), Length(max=40)])
