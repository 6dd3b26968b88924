"""templates/_macros: the one form macro and the one pager every sign-in and account page uses."""

from __future__ import annotations

import re

import pytest

from portal.account.inquiries import BODY_MAX, SUBJECT_MAX
from portal.auth.forms import LOGIN_ID_MAX
from portal.auth.passwords import MAX_LENGTH as PASSWORD_MAX
from portal.templating import LIMITS
from tests.conftest import ROOT

PAGES = sorted([*ROOT.joinpath("templates", "auth").glob("*.html")]) + sorted(
    ROOT.joinpath("templates", "account").glob("*.html")
)


@pytest.mark.parametrize("path", PAGES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_pages_write_no_form_control_or_pager_by_hand(path):
    source = path.read_text(encoding="utf-8")
    assert re.findall(r"<(?:input|select|textarea|label)\b", source) == []
    assert "?page=" not in source and "page=page" not in source


def _render(app, call: str, **context) -> str:
    template = app.jinja_env.from_string(
        '{% from "_macros/forms.html" import field, hidden %}'
        '{% from "_macros/pager.html" import pager %}' + call
    )
    with app.test_request_context():
        return " ".join(template.render(**context).split())


def test_field_ties_label_hint_and_error_together(app):
    html = _render(
        app,
        "{{ field('code', 'Code', '12', errors={'code': 'Wrong', 'other': 'x'}, hint='Two digits',"
        " inputmode='numeric', maxlength=2, input_class='code-input',"
        " attrs={'autocapitalize': 'none', 'spellcheck': 'false'}) }}",
    )
    assert '<div class="field field-error"> <label for="f-code">Code</label>' in html
    assert (
        '<input id="f-code" class="code-input" name="code" type="text" value="12"'
        ' inputmode="numeric" maxlength="2" autocapitalize="none" spellcheck="false"'
        ' aria-describedby="h-code e-code" aria-invalid="true">'
    ) in html
    assert '<p class="hint" id="h-code">Two digits</p>' in html
    assert '<p class="error" id="e-code">Wrong</p>' in html


def test_field_takes_one_message_as_its_error(app):
    html = _render(app, "{{ field('otp', 'OTP', errors=message) }}", message="Six digits")
    assert 'aria-describedby="e-otp" aria-invalid="true"' in html
    assert '<p class="error" id="e-otp">Six digits</p>' in html
    clean = _render(app, "{{ field('otp', 'OTP', errors={'other': 'x'}) }}")
    assert "aria-invalid" not in clean and "error" not in clean


def test_field_never_writes_a_password_back_and_escapes_values(app):
    html = _render(app, "{{ field('pw', 'PW', 'secret', type='password') }}")
    assert "secret" not in html and 'type="password"' in html
    html = _render(app, "{{ field('q', 'Q', value) }}", value='"><script>')
    assert "<script>" not in html and 'value="&#34;&gt;&lt;script&gt;"' in html


def test_textarea_select_and_hidden(app):
    html = _render(
        app,
        "{{ field('body', 'Body', '<b>', type='textarea', maxlength=5000, required=True) }}"
        "{{ field('f', 'F', 'b', type='select', options=[('a', 'A'), ('b', 'B')]) }}"
        "{{ hidden('version', 3) }}",
    )
    textarea = '<textarea id="f-body" name="body" required maxlength="5000">&lt;b&gt;</textarea>'
    assert textarea in html
    assert '<option value="a">A</option> <option value="b" selected>B</option>' in html
    assert '<input type="hidden" name="version" value="3">' in html


def test_pager_links_with_url_arguments(app):
    assert _render(app, "{{ pager(1, False, 'auth.history') }}") == ""
    html = _render(app, "{{ pager(2, True, 'auth.history', kind='x') }}")
    assert '<nav class="pager" aria-label="페이지">' in html
    assert '<a href="/account/history?page=1&amp;kind=x">이전</a> <span>2쪽</span>' in html
    assert '<a href="/account/history?page=3&amp;kind=x">다음</a>' in html


def test_maxlengths_come_from_the_rules(client, auth, customer):
    html = client.get("/login").get_data(as_text=True)
    assert f'autocomplete="username" required maxlength="{LOGIN_ID_MAX}"' in html
    assert f'autocomplete="current-password" required maxlength="{PASSWORD_MAX}"' in html
    auth.login(customer)
    html = client.get("/account/inquiries").get_data(as_text=True)
    assert f'name="subject" type="text" value="" required maxlength="{SUBJECT_MAX}"' in html
    assert f'name="body" required maxlength="{BODY_MAX}"' in html
    assert LIMITS["inquiry_subject"] == SUBJECT_MAX and LIMITS["password"] == PASSWORD_MAX
