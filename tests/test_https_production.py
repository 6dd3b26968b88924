"""Production over real HTTPS: gunicorn with a throwaway self-signed certificate.

Python's cookie jar never sends ``Secure`` cookies over plain http://, so the only honest
test of production cookies is a TLS server. This signs a customer in end to end.
"""

from __future__ import annotations

import gc
import http.cookiejar
import json
import os
import re
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.conftest import ROOT, TEST_REDIS_URL
from tests.security.live import free_port, self_signed

GUNICORN = Path(sys.executable).parent / "gunicorn"
FLASK = Path(sys.executable).parent / "flask"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture
def https_server(tmp_path):
    if not GUNICORN.exists():
        pytest.fail("gunicorn is not installed in the environment")
    env = {
        **os.environ,
        "PORTAL_ENV": "production",
        "SECRET_KEY": "p" * 48,
        "PORTAL_DATA_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "PORTAL_INSTANCE_PATH": str(tmp_path / "instance"),
        "BCRYPT_ROUNDS": "4",
        "PORTAL_TRUSTED_HOSTS": "127.0.0.1",
        "FLASK_APP": "wsgi",
    }
    env.pop("PORTAL_SINGLE_PROCESS", None)
    if TEST_REDIS_URL:
        # As production runs: several workers sharing their rate-limit counters in Redis.
        env["RATELIMIT_STORAGE_URI"], workers = TEST_REDIS_URL, "2"
    else:
        env.update(RATELIMIT_STORAGE_URI="memory://", PORTAL_SINGLE_PROCESS="1")
        workers = "1"  # memory:// limits are only honest in a single process
    subprocess.run([FLASK, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    created = subprocess.run(
        [
            FLASK,
            "customers",
            "create",
            "--login-id",
            "tls_user",
            "--name",
            "김보안",
            "--email",
            "tls@example.kr",
            "--phone",
            "010-2345-6789",
            "--birth-date",
            "1991-03-03",
            "--postal-code",
            "04524",
            "--address",
            "서울 중구",
            "--password",
            "Tls-Portal-2026!",
            "--activated",
            "--json",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    codes = json.loads(created.stdout)["security_card"]["codes"]
    cert, key = self_signed(tmp_path)
    port = free_port()
    proc = subprocess.Popen(
        [
            GUNICORN,
            "--certfile",
            str(cert),
            "--keyfile",
            str(key),
            "-w",
            workers,
            "-b",
            f"127.0.0.1:{port}",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"https://127.0.0.1:{port}"
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(base + "/healthz", context=context, timeout=2):
                break
        except (urllib.error.URLError, ConnectionError, OSError):
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("gunicorn did not start: " + proc.stdout.read().decode()[-2000:])
            time.sleep(0.2)
    yield base, context, codes
    proc.terminate()
    proc.wait(timeout=15)
    proc.stdout.close()
    gc.collect()  # close any socket urllib left to the garbage collector, inside this test


def test_production_signs_in_over_https_with_secure_cookies(https_server):
    base, context, codes = https_server
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=context),
        urllib.request.HTTPCookieProcessor(jar),
        _NoRedirect,
    )

    def call(path: str, data: dict | None = None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        # Browsers send a same-origin Referer on HTTPS; Flask-WTF's strict SSL check needs it.
        headers = {"Referer": base + path} if data is not None else {}
        request = urllib.request.Request(base + path, data=body, headers=headers)
        try:
            with opener.open(request, timeout=10) as response:
                return response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, exc.headers, exc.read().decode()

    status, headers, html = call("/login")
    assert status == 200
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    cookie = next(c for c in jar if c.name == "__Host-portal_session")
    assert cookie.secure and cookie.path == "/" and not cookie.domain_specified
    assert cookie.has_nonstandard_attr("HttpOnly")
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    status, headers, _ = call(
        "/login", {"csrf_token": token, "login_id": "tls_user", "password": "Tls-Portal-2026!"}
    )
    assert status == 302 and headers["Location"] == "/login/verify"
    status, _, html = call("/login/verify")
    challenge = re.search(r'data-first-index="(\d+)" data-last-index="(\d+)"', html)
    first, last = map(int, challenge.groups())
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    answer = {
        "csrf_token": token,
        "code_first": codes[first - 1][:2],
        "code_last": codes[last - 1][2:],
    }
    status, headers, _ = call("/login/verify", answer)
    assert status == 302 and headers["Location"] == "/account"
    status, headers, html = call("/account")
    assert status == 200 and "김보안님" in html
    assert headers["Cache-Control"] == "no-store"
    # A forged Host header is refused, never used to build a link.
    request = urllib.request.Request(base + "/", headers={"Host": "evil.example"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(request, timeout=10)
    assert refused.value.code == 400
    refused.value.close()


def test_post_without_referer_over_https_is_refused(https_server):
    # A valid session and CSRF token, so the missing (or foreign) Referer is the only fault.
    base, context, _ = https_server
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=context),
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
        _NoRedirect,
    )

    def post(referer: str | None) -> tuple[int, str]:
        with opener.open(base + "/login", timeout=10) as page:
            html = page.read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        body = urllib.parse.urlencode(
            {"csrf_token": token, "login_id": "tls_user", "password": "Tls-Portal-2026!"}
        ).encode()
        headers = {"Referer": referer} if referer else {}
        request = urllib.request.Request(base + "/login", data=body, headers=headers)
        try:
            with opener.open(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, exc.read().decode()

    for referer in (None, "https://evil.example/login"):
        status, html = post(referer)
        assert status == 400, referer
        assert "보안 확인 정보가 없거나 만료되었습니다" in html  # the CSRF page, not another 400
    # The same request with a same-origin Referer goes through to step 2.
    assert post(base + "/login")[0] == 302


def test_gunicorn_without_secrets_stops_with_one_line(tmp_path):
    secrets_ = ("SECRET_KEY", "PORTAL_DATA_KEYS", "PORTAL_HASH_PEPPERS")
    env = {k: v for k, v in os.environ.items() if k not in secrets_}
    env.update(
        PORTAL_ENV="production",
        DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}",
        PORTAL_INSTANCE_PATH=str(tmp_path),
    )
    result = subprocess.run(
        [GUNICORN, "-b", f"127.0.0.1:{free_port()}", "wsgi:app"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0  # the master halts; it does not respawn workers forever
    ours = [line for line in result.stderr.splitlines() if line.startswith("portal:")]
    assert ours == [
        "portal: configuration error: production needs SECRET_KEY, PORTAL_DATA_KEYS and "
        "PORTAL_HASH_PEPPERS in the environment; refusing to start"
    ]
    assert "Traceback" not in result.stderr


def test_gunicorn_without_trusted_hosts_stops_with_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PORTAL_TRUSTED_HOSTS"}
    env.update(
        PORTAL_ENV="production",
        SECRET_KEY="p" * 48,
        PORTAL_DATA_KEYS=Fernet.generate_key().decode(),
        DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}",
        PORTAL_INSTANCE_PATH=str(tmp_path),
        RATELIMIT_STORAGE_URI="memory://",
        PORTAL_SINGLE_PROCESS="1",
    )
    result = subprocess.run(
        [GUNICORN, "-b", f"127.0.0.1:{free_port()}", "wsgi:app"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0  # the master halts; it does not respawn workers forever
    ours = [line for line in result.stderr.splitlines() if line.startswith("portal:")]
    assert ours == [
        "portal: configuration error: production needs PORTAL_TRUSTED_HOSTS (the site's host "
        "names, comma-separated); refusing to start"
    ]
    assert "Traceback" not in result.stderr
