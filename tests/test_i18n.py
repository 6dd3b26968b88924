"""English catalog: complete, placeholders intact, and used by the pages."""

from __future__ import annotations

import re

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from tests.conftest import ROOT

PO = ROOT / "portal" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def _catalog():
    with PO.open("rb") as fh:
        return read_po(fh)


def _source_ids() -> set[str]:
    ids: set[str] = set()
    for folder, method in (("portal", "python"), ("templates", "jinja2")):
        for _file, _line, message, _comments, _ctx in extract_from_dir(
            ROOT / folder,
            method_map=[("**.py", "python")] if method == "python" else [("**.html", "jinja2")],
            keywords={"_": None, "gettext": None, "_l": None, "lazy_gettext": None},
        ):
            if isinstance(message, str) and message:
                ids.add(message)
    return ids


def test_every_message_in_the_code_has_an_english_translation():
    catalog = _catalog()
    translated = {m.id: m.string for m in catalog if m.id}
    missing = sorted(i for i in _source_ids() if not translated.get(i))
    assert missing == [], "run `make translations-extract` and translate: " + repr(missing[:10])


def test_placeholders_survive_translation():
    for message in _catalog():
        if message.id and message.string:
            assert set(PLACEHOLDER.findall(message.id)) == set(
                PLACEHOLDER.findall(message.string)
            ), message.id


def test_login_page_in_english(client):
    client.get("/language/en")
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in html
    body = re.sub(r'lang="ko"[^>]*>[^<]*<', "", html)  # the "한국어" switch is Korean on purpose
    body = body.replace("아리온통신(주)", "")
    assert HANGUL.findall(body) == []


def test_template_gettext_escapes_values_and_follows_the_rendering_language(app):
    """_() in templates is bound per rendering (portal.templating): the values put into a
    message are escaped, and a rendering under force_locale (mail) uses that language."""
    from flask import render_template_string
    from flask_babel import force_locale

    source = '{{ _("%(name)s님, 안녕하세요.", name=who) }}|{{ _("로그인") }}'
    with app.test_request_context("/"), force_locale("en"):
        english = render_template_string(source, who="<b>김</b>")
        with force_locale("ko"):
            korean = render_template_string(source, who="<b>김</b>")
        again = render_template_string(source, who="x")
    assert english == "Hello, &lt;b&gt;김&lt;/b&gt;.|Sign in"
    assert korean == "&lt;b&gt;김&lt;/b&gt;님, 안녕하세요.|로그인"
    assert again.endswith("|Sign in")


# Each expression is rendered by the app's environment (run-time gettext) and by the copy
# compiled for the language (portal.templating.FoldedGettext): they must agree, escaping
# included, with autoescape on (pages) and off (the text mail).
FOLD_CASES = [
    '{{ _("로그인") }}',
    '{{ gettext("로그인") }}',
    '{{ _("로그인") ~ "<b>" }}',
    '{{ _("로그인") + "<b>" }}',
    '{{ _("로그인")|upper }}',
    '{{ _("로그인").lower() }}',
    '{{ (_("로그인"), 1)[0] }}',
    '{{ _("%(name)s님, 안녕하세요.", name="<i>") }}',
    '{{ _("100%%") }}',
    '{{ obj._("로그인") }}',
    '{{ "<s>" if false else _("로그인") }}',
    '{% set label = _("로그인") %}{{ label ~ "&" }}',
]


def _fold_cases_rendered(env) -> list[str]:
    class Obj:
        def _(self, text):
            return f"attr:{text}<"

    out = []
    for case in FOLD_CASES:
        for source in (case, "{% autoescape false %}" + case + "{% endautoescape %}"):
            out.append(env.from_string(source).render(obj=Obj()))
    return out


def test_templates_compiled_per_language_render_messages_as_run_time_gettext(app):
    from flask_babel import force_locale

    with app.test_request_context("/"):
        for language in ("ko", "en"):
            with force_locale(language):
                copy = app.jinja_env._for_locale()
                assert copy is not app.jinja_env and copy.locale == language
                assert _fold_cases_rendered(copy) == _fold_cases_rendered(app.jinja_env)
                code = copy.compile('{{ _("로그인") }}', raw=True)
                # Folded into the compiled template: text, not a gettext call.
                assert "context.call" not in code
                assert ("yield 'Sign in'" if language == "en" else "yield '로그인'") in code
        assert _fold_cases_rendered(app.jinja_env._for_locale())[0] == "로그인"


def test_pages_are_rendered_from_the_copy_of_their_language(app, client):
    client.get("/language/en")
    english = client.get("/login").get_data(as_text=True)
    client.get("/language/ko")
    korean = client.get("/login").get_data(as_text=True)
    assert "<h1>Sign in</h1>" in english and "<h1>로그인</h1>" in korean
    copies = app.jinja_env._locale_copies
    assert {"ko", "en"} <= set(copies)
    assert "auth/login.html" in {key[1] for key in copies["en"].cache}
