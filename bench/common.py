"""What the bench scripts share: databases, gunicorn, wrk, sign-in over HTTP, validation.

Everything here runs real parts on this machine: gunicorn serving ``wsgi:app`` with the
production configuration, wrk on loopback, PostgreSQL or SQLite.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
LUA = BENCH / "status.lua"
_venv = ROOT / ".venv" / "bin"
BIN = _venv if (_venv / "gunicorn").exists() else Path(sys.executable).parent
PYTHON = BIN / "python" if (BIN / "python").exists() else Path(sys.executable)

# Bench-only secrets: the bench databases hold generated people, and a dataset made by
# bench/dataset.py must stay readable by later runs (the security cards are encrypted).
SECRET_KEY = "bench-only-secret-key-not-for-any-real-deployment-0123456789"
DATA_KEY = "YmVuY2gtb25seS1kYXRhLWtleS0zMi1ieXRlcy0hISE="  # base64 of 32 bytes, public
DEFAULT_PG = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/bench")
DEFAULT_REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/1")
# Databases the bench must never drop: the test suite's and the server's own.
PROTECTED_DATABASES = {"test", "postgres", "template0", "template1"}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- tools -------------------------------------------------------------------------------


def ensure_wrk() -> str:
    """The path of wrk, installed with apt-get when missing."""
    found = shutil.which("wrk")
    if found:
        return found
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    log("wrk is missing: installing it with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "wrk"], env=env).returncode:
        subprocess.run([*sudo, "apt-get", "update", "-qq"], env=env, check=True)
        subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "wrk"], env=env, check=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk could not be installed (apt-get install wrk)")
    return found


def redis_answers(url: str) -> bool:
    parsed = urllib.parse.urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 6379), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


# --- databases ---------------------------------------------------------------------------


def sqlalchemy_url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def database_name(url: str) -> str:
    return urllib.parse.urlparse(libpq_url(url)).path.lstrip("/")


def check_bench_database(url: str) -> None:
    name = database_name(url)
    if not name or name in PROTECTED_DATABASES:
        raise SystemExit(f"refusing to use the database {name!r} for the bench")


def admin_url(url: str) -> str:
    """The server's ``postgres`` database, beside the one named in ``url``."""
    return urllib.parse.urlparse(libpq_url(url))._replace(path="/postgres").geturl()


def recreate_database(url: str) -> None:
    """Drop and create the PostgreSQL database named in ``url`` (never a protected one)."""
    import psycopg

    check_bench_database(url)
    name = database_name(url)
    admin = admin_url(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def portal_env(database_url: str, instance: Path, redis_url: str | None = None) -> dict:
    """The environment of a production deployment, on ``database_url``."""
    env = {
        **os.environ,
        "PORTAL_ENV": "production",
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "PORTAL_DATA_KEYS": DATA_KEY,
        # Throwaway, like the keys above: production refuses to start without a pepper.
        "PORTAL_HASH_PEPPERS": "bench1:" + "p" * 40,
        "PORTAL_TRUSTED_HOSTS": "127.0.0.1,localhost",
        "PORTAL_INSTANCE_PATH": str(instance),
        "FLASK_APP": "wsgi",
        "PYTHONPATH": str(ROOT),
    }
    for name in ("PORTAL_SINGLE_PROCESS", "BCRYPT_ROUNDS", "TEST_DATABASE_URL"):
        env.pop(name, None)
    redis_url = redis_url or DEFAULT_REDIS
    if redis_answers(redis_url):
        env["RATELIMIT_STORAGE_URI"] = redis_url
    else:  # only the sign-in POSTs are limited; the measured GETs are not
        env.update(RATELIMIT_STORAGE_URI="memory://", PORTAL_SINGLE_PROCESS="1")
    return env


def flask(env: dict, *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "flask"), *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def inprocess(env: dict, command: str, *args: str) -> dict:
    """Run bench/inprocess.py (demo data, statement counts) and return its JSON."""
    done = subprocess.run(
        [str(PYTHON), str(BENCH / "inprocess.py"), command, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"bench/inprocess.py {command} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- gunicorn ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    proc: subprocess.Popen
    base: str
    host: str
    port: int

    def worker_pids(self) -> list[int]:
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        try:
            return [int(p) for p in path.read_text().split()]
        except OSError:
            return []

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def serve(
    app: str, env: dict, *, workers: int, cwd: Path, extra: list[str] = (), log_file: Path
) -> Server:
    """Start gunicorn; its stderr (the portal's JSON request log in production) goes to
    ``log_file``: a pipe nobody reads would fill and block the workers."""
    port = free_port()
    errors = open(log_file, "a")  # noqa: SIM115 - kept open for the server's lifetime
    proc = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "-w",
            str(workers),
            "-k",
            "sync",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            # gunicorn 27 opens a control socket at one path per user: servers started side
            # by side would take it from each other, and nothing here uses it.
            "--no-control-socket",
            *extra,
            app,
        ],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=errors,
    )
    errors.close()
    server = Server(proc, f"http://127.0.0.1:{port}", "127.0.0.1", port)
    for _ in range(300):
        if proc.poll() is not None:
            raise SystemExit(f"{app} exited at start:\n{log_file.read_text()[-2000:]}")
        try:
            status, _, _ = http_request(server, "GET", "/healthz")
            if status == 200 and len(server.worker_pids()) >= workers:
                return server
        except OSError:
            pass
        time.sleep(0.1)
    server.stop()
    raise SystemExit(f"{app} did not start")


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


# --- HTTP with cookies, without redirects (sign-in through the real forms) ---------------

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
CHALLENGE_RE = re.compile(r'id="card-challenge" data-first-index="(\d+)" data-last-index="(\d+)"')


def http_request(
    server: Server,
    method: str,
    path: str,
    *,
    cookies: dict | None = None,
    form: dict | None = None,
    headers: dict | None = None,
) -> tuple[int, dict, str]:
    """One request; Set-Cookie values go into ``cookies`` (Secure ones too: this is the
    client, and production cookies are Secure while the bench speaks plain HTTP)."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        sent = dict(headers or {})
        if cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        if cookies is not None:
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                value = rest.split(";", 1)[0]
                if "expires=thu, 01 jan 1970" in header.lower() or not value:
                    cookies.pop(name.strip(), None)
                else:
                    cookies[name.strip()] = value
        return response.status, dict(response.headers), text
    finally:
        conn.close()


def sign_in(server: Server, login_id: str, password: str, codes: list[str]) -> dict:
    """Sign a card customer in through /login and /login/verify; return the cookies."""
    cookies: dict = {}
    status, _, html = http_request(server, "GET", "/login", cookies=cookies)
    token = CSRF_RE.search(html)
    if status != 200 or not token:
        raise SystemExit(f"GET /login answered {status} without a CSRF token")
    form = {"csrf_token": token.group(1), "login_id": login_id, "password": password}
    status, headers, _ = http_request(server, "POST", "/login", cookies=cookies, form=form)
    if status != 302 or "/login/verify" not in headers.get("Location", ""):
        raise SystemExit(f"sign-in of {login_id}: POST /login answered {status}")
    status, _, html = http_request(server, "GET", "/login/verify", cookies=cookies)
    challenge, token = CHALLENGE_RE.search(html), CSRF_RE.search(html)
    if status != 200 or not challenge or not token:
        raise SystemExit(f"sign-in of {login_id}: no card challenge ({status})")
    first, last = int(challenge.group(1)), int(challenge.group(2))
    form = {
        "csrf_token": token.group(1),
        "code_first": codes[first - 1][:2],
        "code_last": codes[last - 1][2:],
    }
    status, headers, _ = http_request(server, "POST", "/login/verify", cookies=cookies, form=form)
    if status != 302:
        raise SystemExit(f"sign-in of {login_id}: POST /login/verify answered {status}")
    status, _, _ = http_request(server, "GET", "/account", cookies=cookies)
    if status != 200:
        raise SystemExit(f"sign-in of {login_id}: /account answered {status} afterwards")
    return cookies


def cookie_header(cookies: dict) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


# --- wrk ---------------------------------------------------------------------------------

RESULT_RE = re.compile(r"^BENCH-RESULT (\{.*\})$", re.M)


class RunRejected(Exception):
    """A wrk run whose responses were not all what the page should answer."""


def validate_run(result: dict, expected_status: int, *, need_requests: bool = True) -> list[str]:
    """Why a wrk run cannot be reported (empty when it can).

    Every response must carry ``expected_status`` (a 304 page answers 304, not 200), wrk
    must report no socket errors, and no "Non-2xx or 3xx responses".
    """
    problems = []
    statuses = {int(k): v for k, v in result.get("statuses", {}).items()}
    if need_requests and not result.get("requests"):
        problems.append("no request completed")
    wrong = {s: n for s, n in statuses.items() if s != expected_status}
    if wrong:
        problems.append(f"expected only {expected_status}, got {wrong}")
    errors = result.get("errors", {})
    if errors.get("status"):
        problems.append(f"{errors['status']} non-2xx or 3xx responses")
    sockets = {k: v for k, v in errors.items() if k != "status" and v}
    if sockets:
        problems.append(f"socket errors {sockets}")
    if result.get("non_2xx_line"):
        problems.append(result["non_2xx_line"])
    counted = sum(statuses.values())
    if result.get("requests") and counted < result["requests"]:
        problems.append(f"{result['requests'] - counted} responses not counted")
    return problems


def parse_wrk(output: str) -> dict:
    match = RESULT_RE.search(output)
    if not match:
        raise RunRejected(f"wrk printed no result:\n{output[-1000:]}")
    result = json.loads(match.group(1))
    non = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", output)
    if non:
        result["non_2xx_line"] = f"Non-2xx or 3xx responses: {non.group(1)}"
    seconds = result["duration_us"] / 1e6
    result["rps"] = result["requests"] / seconds if seconds else 0.0
    return result


def wrk(
    base: str,
    path: str,
    *,
    seconds: float,
    connections: int,
    headers: dict | None = None,
    expected_status: int = 200,
    warmup: bool = False,
) -> dict:
    """One wrk run (-t1); raises RunRejected when the answers were not all as expected
    (a warm-up may complete no request: the first ones compile templates)."""
    args = [f"{k}: {v}" for k, v in (headers or {}).items()]
    done = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",  # wrk takes whole seconds
            "--timeout",
            "10s",
            "-s",
            str(LUA),
            base + path,
            "--",
            *args,
        ],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RunRejected(f"wrk failed: {(done.stderr + done.stdout).strip()[-500:]}")
    result = parse_wrk(done.stdout)
    problems = validate_run(result, expected_status, need_requests=not warmup)
    if problems:
        raise RunRejected(f"{path}: " + "; ".join(problems))
    return result


# --- reporting ---------------------------------------------------------------------------


@dataclass
class PageResult:
    page: str
    rounds: list[dict] = field(default_factory=list)  # {"rps", "p50_us", "p99_us", "bare_rps"}
    statements: int | None = None

    def summary(self) -> dict:
        def median(key):
            return statistics.median(r[key] for r in self.rounds) if self.rounds else None

        ratios = [r["rps"] / r["bare_rps"] for r in self.rounds if r["bare_rps"]]
        return {
            "page": self.page,
            "rps": median("rps"),
            "p50_ms": median("p50_us") / 1000 if self.rounds else None,
            "p99_ms": median("p99_us") / 1000 if self.rounds else None,
            "bare_rps": median("bare_rps"),
            "ratio": statistics.median(ratios) if ratios else None,
            "ratio_min": min(ratios) if ratios else None,
            "ratio_max": max(ratios) if ratios else None,
            "statements": self.statements,
            "rounds": self.rounds,
        }


def format_table(rows: list[dict]) -> str:
    lines = [
        "| page | req/s | p50 ms | p99 ms | ratio to bare (min–max) | statements |",
        "| --- | ---: | ---: | ---: | --- | ---: |",
    ]
    for row in rows:
        ratio = (
            f"{row['ratio']:.3f} ({row['ratio_min']:.3f}–{row['ratio_max']:.3f})"
            if row.get("ratio") is not None
            else "–"
        )
        lines.append(
            f"| `{row['page']}` | {row['rps']:,.0f} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f}"
            f" | {ratio} | {row['statements'] if row['statements'] is not None else '–'} |"
        )
    return "\n".join(lines)


def machine_note() -> dict:
    load = os.getloadavg()
    return {"cpus": os.cpu_count(), "loadavg": [round(x, 2) for x in load]}


def write_results(kind: str, payload: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    path = RESULTS / f"{kind}-{stamp}.json"
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    return path
