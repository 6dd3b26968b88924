"""Jinja filters and globals: Seoul times, won amounts, phone numbers, the language switch,
and the longest input of each form field."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from flask import (
    Flask,
    current_app,
    g,
    has_app_context,
    has_request_context,
    render_template,
    request,
    url_for,
)
from flask.templating import Environment as FlaskEnvironment
from flask_babel import get_locale, get_translations
from flask_login import current_user
from jinja2 import pass_context, pass_eval_context
from jinja2.ext import Extension
from jinja2.lexer import (
    TOKEN_DOT,
    TOKEN_LPAREN,
    TOKEN_NAME,
    TOKEN_PIPE,
    TOKEN_RPAREN,
    TOKEN_STRING,
    Token,
)
from markupsafe import Markup

from portal.account import corrections, inquiries
from portal.audit.devices import device_label
from portal.audit.messages import event_label
from portal.auth import forms as auth_forms
from portal.auth import passwords
from portal.customers import validation as v
from portal.customers.validation import display_phone
from portal.dbtypes import KST, utcnow

# maxlength= of the form fields, taken from the rules that check them: {{ limits.email }}.
LIMITS = {
    "login_id": auth_forms.LOGIN_ID_MAX,
    "password": passwords.MAX_LENGTH,
    "recovery_code": auth_forms.RECOVERY_CODE_MAX,
    "email": v.EMAIL_MAX,
    "phone": v.PHONE_MAX,
    "postal_code": v.POSTAL_CODE_LENGTH,
    "country": v.COUNTRY_LENGTH,
    "address": v.ADDRESS_MAX,
    "address_detail": v.ADDRESS_DETAIL_MAX,
    "representative": v.REPRESENTATIVE_MAX,
    "username": v.USERNAME_MAX,
    "inquiry_subject": inquiries.SUBJECT_MAX,
    "inquiry_body": inquiries.BODY_MAX,
    # The corrected value: a name is the longest (a birth date or business number is ~10).
    "correction_value": v.NAME_MAX,
    "correction_reason": corrections.REASON_MAX,
}


def kst(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Show a stored UTC time in Asia/Seoul."""
    if value is None:
        return ""
    return value.astimezone(KST).strftime(fmt)


def won(amount: int | None) -> str:
    """Integer won with thousands separators: ``12,000원``."""
    return f"{amount or 0:,}원"


def kst_iso(value: str | None) -> str:
    """An ISO-8601 UTC timestamp (the data download's) shown in Asia/Seoul."""
    if not value:
        return ""
    return datetime.fromisoformat(value).astimezone(KST).strftime("%Y-%m-%d %H:%M:%S KST")


def iso_date(value: date | None) -> str:
    """A date as ``2026-12-01``; a stored time (UTC) as its date in Seoul, never UTC's."""
    if isinstance(value, datetime):
        return kst(value, "%Y-%m-%d")
    return value.isoformat() if value else ""


def device(user_agent: str | None) -> str:
    """The browser and system of a user agent ("Chrome · Windows"); the raw string, cut short,
    only when the parser knows neither (a script, an unknown client)."""
    label = device_label(user_agent)
    if label:
        return label
    raw = (user_agent or "").strip()
    return raw[:40] + ("…" if len(raw) > 40 else "") if raw else "-"


def customer_centre() -> dict[str, str]:
    """The customer-centre number and hours: the business details' (portal/business.py;
    settings PORTAL_CS_PHONE, PORTAL_CS_HOURS), the one place they are kept."""
    business = current_app.config["PORTAL_BUSINESS"]
    return {"phone": business.cs_phone, "hours": business.cs_hours}


def idle_warning(idle_seconds: int, warning_seconds: int) -> int:
    """Seconds before the idle timeout at which the page warns: at most half the timeout."""
    return max(1, min(warning_seconds, idle_seconds // 2))


def idle_timer() -> dict[str, int] | None:
    """For a signed-in page: the idle timeout, the seconds left of it now (the server touches
    "last seen" at most once a minute, so the page counts from that, not from its own load),
    and when to warn. None when nobody is signed in."""
    if request.blueprint == "admin" or not current_user or not current_user.is_authenticated:
        return None  # staff pages have their own session, and their own timeout
    # The session lookup's own reading (SignedIn): no ORM row is loaded for the timer.
    last_seen_at = getattr(current_user, "last_seen_at", None)
    if last_seen_at is None:
        return None
    cfg = current_app.config
    seconds = cfg["PORTAL_SESSION_IDLE_SECONDS"]
    remaining = seconds - int((utcnow() - last_seen_at).total_seconds())
    return {
        "seconds": seconds,
        "remaining": max(0, remaining),
        "warning": idle_warning(seconds, cfg["PORTAL_IDLE_WARNING_SECONDS"]),
    }


def country_name(code: str | None) -> str:
    """A country code as its name in the page's language: ``US`` → 미국 / United States."""
    if not code:
        return ""
    return dict(v.country_options(str(get_locale() or "ko"))).get(code, code)


def _translations():
    # The environment-wide _() serves only what renders without the page's context (macros
    # imported without context, such as _macros/forms.html); pages use _bound_gettext.
    # Flask-Babel resolves the domain, the locale and its cache on every call: resolve once
    # per request and locale instead. Keyed by the locale object, so force_locale() (mail
    # rendered in Korean) still gets its own catalogue.
    locale = get_locale()
    cached = g.get("_portal_translations")
    if cached is not None and cached[0] is locale:
        return cached[1]
    translations = get_translations()
    g._portal_translations = (locale, translations)
    return translations


def _bound_gettext(translations) -> Callable[..., str]:
    """``_()`` bound to one catalogue, put in each rendering's context by ``inject_globals``.

    Jinja's i18n ``_`` looks the catalogue up on every call (through Flask-Babel: the
    context, the domain, the locale); a page makes 15–90 calls. Resolved once per rendering
    instead, a call is one dictionary lookup. Same contract as Jinja's new-style gettext:
    autoescaped, and always %-formatted with the keyword arguments. Kept on the catalogue, so
    it is made once per language and process.
    """
    bound = getattr(translations, "_portal_jinja_gettext", None)
    if bound is not None:
        return bound
    ugettext = translations.ugettext

    @pass_context
    def gettext(context, message: str, /, **variables) -> str:
        text = ugettext(message)
        if context.eval_ctx.autoescape:
            # The catalogue's own text (msgids and msgstrs are ours); %-formatting a Markup
            # escapes each value put into it.
            text = Markup(text)  # noqa: S704
        return text % variables

    translations._portal_jinja_gettext = gettext
    return gettext


# The names templates call gettext by; "_" is the usual one.
_GETTEXT_NAMES = frozenset({"_", "gettext"})
# The filter a folded message goes through (see _folded_message).
_FOLDED = "portal_folded_message"


@pass_eval_context
def _folded_message(eval_ctx, text: str) -> str:
    # What new-style gettext returns for a message without values: Markup where the
    # template autoescapes (the catalogue's own text is trusted), the plain text elsewhere.
    # On a constant, Jinja's optimiser runs this once, when the template is compiled.
    return Markup(text) if eval_ctx.autoescape else text  # noqa: S704


class FoldedGettext(Extension):
    """Translates ``_("a literal")`` while a template compiles, for one language.

    Most of a page's 15–90 messages have no values. At run time each is a call through the
    context, a catalogue lookup, a Markup and a ``%`` with no arguments, on every rendering;
    compiled per language they are text in the template's code, like its HTML. A call with
    values (``_("%(n)s건", n=3)``), an attribute called ``_`` or anything that is not a lone
    string literal is left to run-time gettext, which gives the same text.

    Only :class:`LocaleEnvironment`'s per-language copies load this extension; it reads the
    catalogue they were made for (``portal_translations``).
    """

    def filter_stream(self, stream):
        translations = getattr(self.environment, "portal_translations", None)
        tokens = list(stream)
        if translations is None:
            yield from tokens
            return
        i = 0
        while i < len(tokens):
            token = tokens[i]
            text = None
            if (
                token.type == TOKEN_NAME
                and token.value in _GETTEXT_NAMES
                and [t.type for t in tokens[i + 1 : i + 4]]
                == [TOKEN_LPAREN, TOKEN_STRING, TOKEN_RPAREN]
                and (i == 0 or tokens[i - 1].type not in (TOKEN_DOT, TOKEN_PIPE))
            ):
                text = _translated(translations, tokens[i + 2].value)
            if text is None:
                yield token
                i += 1
                continue
            line = token.lineno
            # ("text"|portal_folded_message): parenthesised, so that a filter or an
            # attribute after the call applies to the message as before.
            yield Token(line, TOKEN_LPAREN, "(")
            yield Token(line, TOKEN_STRING, text)
            yield Token(line, TOKEN_PIPE, "|")
            yield Token(line, TOKEN_NAME, _FOLDED)
            yield Token(line, TOKEN_RPAREN, ")")
            i += 4


def _translated(translations, message: str) -> str | None:
    """The text new-style gettext would give for ``message`` without values (it always
    %-formats: "%%" becomes "%"); None when that would fail, so the call stays as it was
    and fails, or not, at run time exactly as before."""
    try:
        return translations.ugettext(message) % {}
    except (TypeError, ValueError, KeyError):
        return None


class LocaleEnvironment(FlaskEnvironment):
    """The app's Jinja environment, which renders each template from a copy compiled for
    the language of the rendering (``get_locale()``, so ``force_locale`` too).

    The copies are Jinja overlays: they share the loader, filters, globals and settings of
    this environment, and have their own template cache and :class:`FoldedGettext`. They
    are made on first use, one per language, inside an app context (the catalogue comes
    from Flask-Babel). Without an app context, and for ``from_string``, this environment
    compiles templates itself, with run-time gettext.
    """

    locale: str | None = None  # the copies' language; None on the app's environment
    portal_translations = None

    def _for_locale(self) -> LocaleEnvironment:
        if self.locale is not None or not has_app_context():
            return self
        locale = str(get_locale() or "ko")
        copies = self.__dict__.setdefault("_locale_copies", {})
        env = copies.get(locale)
        if env is None:
            env = self.overlay(extensions=[FoldedGettext], cache_size=400)
            env.locale = locale
            env.portal_translations = get_translations()
            copies[locale] = env
        return env

    def get_template(self, name, parent=None, globals=None):
        env = self._for_locale()
        if env is self:
            return super().get_template(name, parent, globals)
        return env.get_template(name, parent, globals)

    def select_template(self, names, parent=None, globals=None):
        env = self._for_locale()
        if env is self:
            return super().select_template(names, parent, globals)
        return env.select_template(names, parent, globals)


def fragment(name: str, **variables) -> Markup:
    """A part of every page (the menu, the footer) rendered once per language and
    ``variables``, then kept for the process's life.

    The template may depend on nothing else: no request, no user, no CSRF token, no data
    that changes (a fragment that needs one of those is not a fragment). Its output is
    Jinja's own autoescaped rendering, hence the Markup. With templates reloading (the
    development server) nothing is kept, so an edited template shows at once.
    """
    app = current_app._get_current_object()
    key = (name, str(get_locale() or "ko"), *sorted(variables.items()))
    cache = app.extensions.setdefault("portal_fragments", {})
    html = cache.get(key)
    if html is None:
        html = Markup(render_template(name, **variables))  # noqa: S704 - autoescaped output
        if not app.jinja_env.auto_reload:
            cache[key] = html
    return html


def template_url_for(endpoint: str, **values) -> str:
    """``url_for`` for templates, kept per process for the URLs that never change: an
    endpoint without arguments, and static files.

    A page builds 20–40 URLs and werkzeug builds each from its rule (~15 µs); most are the
    same menu and form targets on every page. The key includes the script root, so a portal
    mounted under a prefix gets its own. URLs with other arguments (ids, pages, next=) are
    built every time, and so is everything outside a request (mail, error pages without a
    URL adapter).
    """
    fixed = not values or (endpoint == "static" and values.keys() == {"filename"})
    if not fixed or not has_request_context():
        return url_for(endpoint, **values)
    key = (endpoint, request.script_root, values.get("filename"))
    cache = current_app.extensions.setdefault("portal_urls", {})
    url = cache.get(key)
    if url is None:
        url = cache[key] = url_for(endpoint, **values)
    return url


def register(app: Flask) -> None:
    app.add_template_filter(_folded_message, _FOLDED)
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )
    app.add_template_filter(kst, "kst")
    app.add_template_filter(won, "won")
    app.add_template_filter(iso_date, "isodate")
    app.add_template_filter(kst_iso, "kst_iso")
    # {{ c.phone|phone(c.member_type) }}: stored E.164, shown national or international.
    app.add_template_filter(display_phone, "phone")
    # {{ s.user_agent|device }}: "Chrome · Windows" instead of the raw user-agent string.
    app.add_template_filter(device, "device")

    app.add_template_global(event_label, "event_label")
    app.add_template_global(LIMITS, "limits")
    app.add_template_global(idle_timer, "idle_timer")
    app.add_template_global(country_name, "country_name")
    app.add_template_global(fragment, "fragment")
    app.add_template_global(template_url_for, "url_for")

    @app.context_processor
    def inject_globals() -> dict:
        # Under force_locale (mail in Korean) this is the forced language's catalogue.
        gettext = _bound_gettext(get_translations())
        return {
            "_": gettext,
            "gettext": gettext,
            "current_locale": str(get_locale() or "ko"),
            "request_id": g.get("request_id", ""),
            "current_path": request.full_path.rstrip("?") if request else "/",
            "customer_centre": customer_centre(),
            # The company's details (portal/business.py): footer, error pages, documents.
            "business": current_app.config["PORTAL_BUSINESS"],
        }
