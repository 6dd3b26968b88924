"""The bench's in-process half (run by bench/common.py in a subprocess, prints one JSON line).

    python bench/inprocess.py demo             # load the demo data, print sign-ins + notice id
    python bench/inprocess.py statements PAGES.json

``demo`` runs the app with the development configuration (``load_demo`` refuses production:
its passwords are public) on the database of ``DATABASE_URL``; the served app then uses the
production configuration on the same database and secrets.

``statements`` signs the first demo card customer in through the real forms with the Flask
test client and counts the SQL statements of the second request of each page at the cursor
(a SQLAlchemy ``before_cursor_execute`` listener), as tests/perf does.
"""

from __future__ import annotations

import contextvars
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask.testing import FlaskClient
from sqlalchemy import event, select

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
CHALLENGE_RE = re.compile(r'id="card-challenge" data-first-index="(\d+)" data-last-index="(\d+)"')


class IsolatedClient(FlaskClient):
    """Each request in a fresh context, as a real server would run it."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


def make_app():
    from portal import create_app

    app = create_app("development")
    app.test_client_class = IsolatedClient
    return app


def demo() -> dict:
    from portal.demo import load_demo
    from portal.extensions import db
    from portal.policy.models import Notice

    app = make_app()
    with app.app_context():
        sign_ins = load_demo()
        db.session.commit()
        notice_id = db.session.scalar(select(Notice.id).order_by(Notice.id.desc()).limit(1))
        db.engine.dispose()
    customers = [
        {"login_id": s["login_id"], "password": s["password"], "codes": s["card"]["codes"]}
        for s in sign_ins
        if not s.get("staff") and "card" in s and "첫 로그인" not in s["who"]
    ]
    return {"customers": customers, "notice_id": notice_id}


def _sign_in(client, customer: dict) -> None:
    html = client.get("/login").get_data(as_text=True)
    form = {
        "csrf_token": CSRF_RE.search(html).group(1),
        "login_id": customer["login_id"],
        "password": customer["password"],
    }
    assert client.post("/login", data=form).status_code == 302
    html = client.get("/login/verify").get_data(as_text=True)
    first, last = (int(x) for x in CHALLENGE_RE.search(html).groups())
    form = {
        "csrf_token": CSRF_RE.search(html).group(1),
        "code_first": customer["codes"][first - 1][:2],
        "code_last": customer["codes"][last - 1][2:],
    }
    assert client.post("/login/verify", data=form).status_code == 302


def statements(pages: list[dict], customer: dict) -> dict:
    """Statements of the warm request of each page: {page name: count}."""
    from portal.extensions import db

    app = make_app()
    counts: dict[str, int] = {}
    with app.app_context():
        engine = db.engine
        seen: list[str] = []

        def before(conn, cursor, statement, parameters, context, executemany):
            seen.append(statement)

        signed_in = app.test_client()
        _sign_in(signed_in, customer)
        anonymous = app.test_client()
        for page in pages:
            client = signed_in if page["signed_in"] else anonymous
            headers = {}
            if page.get("revalidate"):
                headers["If-None-Match"] = client.get(page["path"]).headers["ETag"]
            client.get(page["path"], headers=headers)  # warm-up: templates, page cache
            event.listen(engine, "before_cursor_execute", before)
            try:
                seen.clear()
                response = client.get(page["path"], headers=headers)
            finally:
                event.remove(engine, "before_cursor_execute", before)
            if response.status_code != page["status"]:
                raise SystemExit(f"{page['name']}: {response.status_code} in process")
            counts[page["name"]] = len(seen)
        engine.dispose()
    return counts


def main() -> None:
    command = sys.argv[1]
    if command == "demo":
        print(json.dumps(demo(), ensure_ascii=False))
    elif command == "statements":
        spec = json.loads(Path(sys.argv[2]).read_text())
        print(json.dumps(statements(spec["pages"], spec["customer"])))
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
