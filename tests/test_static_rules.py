"""Static rules ruff cannot express: what must never appear in the portal's code or templates.

ruff's ``S`` (bandit) rules cover much of the Python side; these add the web layer's own:
no ``|safe`` and no ``autoescape false`` in templates, no ``render_template_string``, no
redirect straight to request input, ``Markup`` only where sanitised output is documented, no
``eval``/``exec``/``pickle``/``yaml.load``. Python is read with ``ast`` (a word in a string or
comment is no hit); templates with regular expressions. Each rule is also run on a bad
example, so a rule that stopped matching fails here rather than passing everything.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PORTAL = ROOT / "portal"
TEMPLATES = ROOT / "templates"

# The only places HTML is marked safe, and why it is safe there.
MARKUP_ALLOWED = {
    "portal/auth/otp.py": "the OTP QR code: SVG drawn by segno from the key, no user text",
    "portal/policy/markdown.py": "staff-written policy and notices, sanitised by nh3 first",
    "portal/templating.py": "_() in templates: the catalogues' own text, as Jinja's i18n does; "
    "the values %-formatted into it are escaped by Markup; the same text folded in at compile "
    "time (FoldedGettext); the menu and footer fragments, Jinja's own autoescaped output",
}
# Template uses of |safe, by file, with the reason; none today.
SAFE_FILTER_ALLOWED: dict[str, str] = {}

REQUEST_INPUT = ("args", "form", "values", "referrer", "headers", "cookies", "url", "full_path")
BANNED_CALLS = {"eval", "exec", "compile", "render_template_string", "__import__"}
BANNED_MODULES = {"pickle", "cPickle", "marshal", "shelve", "dill"}


def _python_files() -> list[Path]:
    return sorted(PORTAL.rglob("*.py"))


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _reads_request_input(node: ast.AST) -> bool:
    """``request.args…``, ``request.form.get(…)``, ``request.referrer``… anywhere directly in
    ``node``, not passed through a function first (``safe_next_url(request.args…)`` is fine)."""
    if isinstance(node, ast.Call):
        return _reads_request_input(node.func)
    if isinstance(node, ast.Subscript):
        return _reads_request_input(node.value)
    if isinstance(node, ast.BoolOp):
        return any(_reads_request_input(value) for value in node.values)
    if isinstance(node, ast.IfExp):
        return _reads_request_input(node.body) or _reads_request_input(node.orelse)
    if isinstance(node, ast.JoinedStr | ast.BinOp):
        return any(_reads_request_input(child) for child in ast.iter_child_nodes(node))
    if isinstance(node, ast.FormattedValue):
        return _reads_request_input(node.value)
    dotted = _dotted(node)
    return any(dotted.startswith(f"request.{name}") for name in REQUEST_INPUT)


def python_violations(source: str, filename: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        where = f"{filename}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            short = name.rsplit(".", 1)[-1]
            if name in BANNED_CALLS or short == "render_template_string":
                found.append(f"{where}: {name}()")
            if name in ("yaml.load", "yaml.unsafe_load", "yaml.full_load"):
                found.append(f"{where}: {name}() (use yaml.safe_load)")
            if short == "Markup" and filename not in MARKUP_ALLOWED:
                found.append(f"{where}: Markup() outside {sorted(MARKUP_ALLOWED)}")
            if short == "redirect" and any(_reads_request_input(arg) for arg in node.args):
                found.append(f"{where}: redirect() to request input (use safe_next_url)")
            if name in ("os.system", "os.popen") or any(
                kw.arg == "shell" and isinstance(kw.value, ast.Constant) and kw.value.value
                for kw in node.keywords
            ):
                found.append(f"{where}: a shell command")
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
            for name in names:
                if name.split(".")[0] in BANNED_MODULES:
                    found.append(f"{where}: import {name}")
    return found


SAFE_RE = re.compile(r"\|\s*safe\b")
AUTOESCAPE_OFF_RE = re.compile(r"{%-?\s*autoescape\s+(false|False)\b")
MARKUP_RE = re.compile(r"\bMarkup\b|\|\s*mark_safe\b")


def template_violations(text: str, filename: str) -> list[str]:
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        where = f"{filename}:{number}"
        if SAFE_RE.search(line) and filename not in SAFE_FILTER_ALLOWED:
            found.append(f"{where}: |safe")
        if AUTOESCAPE_OFF_RE.search(line):
            found.append(f"{where}: autoescape false")
        if MARKUP_RE.search(line):
            found.append(f"{where}: Markup in a template")
    return found


def test_portal_python_breaks_no_rule():
    found = [v for path in _python_files() for v in python_violations(path.read_text(), _rel(path))]
    assert not found, "\n".join(found)


def test_templates_break_no_rule():
    paths = sorted(TEMPLATES.rglob("*.html")) + sorted(TEMPLATES.rglob("*.txt"))
    assert len(paths) > 20, "looking in the wrong place for templates"
    found = [v for path in paths for v in template_violations(path.read_text(), _rel(path))]
    assert not found, "\n".join(found)


def test_allowed_markup_files_exist_and_still_need_it():
    # An allow-list entry for a file that no longer uses Markup is a hole waiting to be used.
    for name in MARKUP_ALLOWED:
        assert "Markup(" in (ROOT / name).read_text(), f"{name} no longer needs its exception"


def test_autoescape_is_on():
    from portal import create_app

    app = create_app("testing")
    assert app.jinja_env.autoescape is True or app.jinja_env.autoescape("x.html")
    assert not app.jinja_env.globals.get("Markup"), "Markup as a template global"


def test_ruff_selects_the_bandit_rules_for_the_portal():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    assert "S" in config["select"]
    ignored = [rule for rule in config.get("ignore", []) if rule.startswith("S")]
    assert ignored == ["S101"], f"bandit rules switched off for the portal: {ignored}"
    for pattern, rules in config.get("per-file-ignores", {}).items():
        if "S" in rules or any(rule.startswith("S") for rule in rules):
            assert not pattern.startswith("portal"), f"bandit rules off for {pattern}"


# --- the rules catch what they should (else the tests above prove nothing) -----------------


@pytest.mark.parametrize(
    "bad",
    [
        "return redirect(request.args.get('next'))",
        "return redirect(request.form['next'])",
        "return redirect(request.values.get('next') or '/')",
        "return redirect(request.referrer)",
        "return redirect(f\"{request.args['next']}\")",
        "flask.redirect(request.args.get('to', '/'))",
        "render_template_string(template)",
        "flask.render_template_string('x')",
        "eval(text)",
        "exec(code)",
        "yaml.load(stream)",
        "import pickle",
        "from pickle import loads",
        "Markup(user_text)",
        "markupsafe.Markup(value)",
        "subprocess.run(cmd, shell=True)",
    ],
)
def test_python_rules_catch(bad):
    assert python_violations(bad, "portal/example.py"), bad


@pytest.mark.parametrize(
    "good",
    [
        "return redirect(safe_next_url(request.args.get('next')))",
        "return redirect(url_for('auth.login', next=request.full_path))",
        "conn.executemany(sql, rows)",
        "yaml.safe_load(stream)",
        "message = 'do not eval(this)'",
    ],
)
def test_python_rules_leave_safe_code_alone(good):
    assert not python_violations(good, "portal/example.py"), good


@pytest.mark.parametrize(
    "bad",
    [
        "{{ customer.name|safe }}",
        "{{ notice.body | safe }}",
        "{% autoescape false %}{{ x }}{% endautoescape %}",
        "{{ Markup(x) }}",
    ],
)
def test_template_rules_catch(bad):
    assert template_violations(bad, "templates/example.html"), bad


def test_template_rules_leave_safe_markup_alone():
    assert not template_violations(
        "{{ policy.html }} {{ name|e }} {{ items|safe_join }}", "templates/x.html"
    )
