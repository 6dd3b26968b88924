"""gunicorn on the test's database, started and stopped by the fault tests themselves
(they need its master's pid, their own environment, or a database on a small disk)."""

from __future__ import annotations

from pathlib import Path

from tests.concurrency.conftest import server_env
from tests.livehost import Gunicorn as LiveGunicorn


class Gunicorn(LiveGunicorn):
    """gunicorn serving tests.concurrency.server:app (testing config, production limits) on
    the test's database and secrets, plus ``env``."""

    def __init__(self, config, tmp_path: Path, *, workers: int = 2, **env: str) -> None:
        super().__init__(
            {**server_env(config, tmp_path), **env},
            tmp_path / f"gunicorn-{id(self)}.log",
            workers=workers,
            timeout=60,
            warm=0.5,
        )
