"""gunicorn on the test's database, started and stopped by the fault tests themselves
(they need its master's pid, their own environment, or a database on a small disk)."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.concurrency.conftest import GUNICORN, _free_port
from tests.conftest import ROOT


class Gunicorn:
    """gunicorn serving tests.concurrency.server:app (testing config, production limits)."""

    def __init__(self, config, tmp_path: Path, *, workers: int = 2, **env: str) -> None:
        if not GUNICORN.exists():
            pytest.fail("gunicorn is not installed in the environment")
        self.port = _free_port()
        self.log_path = tmp_path / f"gunicorn-{self.port}.log"
        environ = {
            **os.environ,
            "DATABASE_URL": config.SQLALCHEMY_DATABASE_URI,
            "SECRET_KEY": config.SECRET_KEY,
            "PORTAL_DATA_KEYS": ",".join(config.PORTAL_DATA_KEYS),
            "PORTAL_INSTANCE_PATH": str(tmp_path / "instance"),
            "BCRYPT_ROUNDS": str(config.BCRYPT_ROUNDS),
            **env,
        }
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [
                GUNICORN,
                "--workers",
                str(workers),
                "--threads",
                "4",
                "--worker-class",
                "gthread",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "60",
                "tests.concurrency.server:app",
            ],
            cwd=ROOT,
            env=environ,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while self.get("/healthz")[0] != 200:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail("gunicorn did not start: " + self.log())
            time.sleep(0.2)
        time.sleep(0.5)

    def get(self, path: str) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read().decode("utf-8", "replace")
        except OSError:
            return 0, ""
        finally:
            conn.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
