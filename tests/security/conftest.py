"""Fixtures of the black-box security suite (``pytest -m security`` runs it alone).

One live server (gunicorn over HTTPS, production configuration) serves the whole package;
every test takes fresh accounts from a pool, so no test depends on another's leftovers
(a locked account, a used card pair, a spent recovery code).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import TEST_REDIS_URL
from tests.security.live import Browser, LiveServer

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(HERE):
            item.add_marker(pytest.mark.security)


class StaffPool:
    """``pool[role]`` is a staff member of that role no test has used yet.

    A staff member's TOTP step is single use, so the same one signing in twice within 30
    seconds (two tests in a row) is refused the second time; each test takes its own.
    """

    def __init__(self, server: LiveServer, first: dict[str, dict]) -> None:
        self.server = server
        self._pool: dict[str, list[dict]] = {role: [member] for role, member in first.items()}

    def __getitem__(self, role: str) -> dict:
        if not self._pool.get(role):
            for name, member in self.server.seed(0)["staff"].items():
                self._pool.setdefault(name, []).append(member)
        return self._pool[role].pop()


class Accounts:
    """Fresh accounts on demand; a new batch is seeded when the pool runs dry."""

    def __init__(self, server: LiveServer, first: dict) -> None:
        self.server = server
        self.staff = StaffPool(server, first["staff"])
        self._card: list[dict] = first["card"]
        self._otp: list[dict] = first["otp"]

    def _refill(self) -> None:
        more = self.server.seed(10)
        self._card += more["card"]
        self._otp += more["otp"]

    def card(self) -> dict:
        if not self._card:
            self._refill()
        return self._card.pop()

    def otp(self) -> dict:
        if not self._otp:
            self._refill()
        return self._otp.pop()


@pytest.fixture(scope="session")
def live(tmp_path_factory) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("live"), redis_url=TEST_REDIS_URL or None)
    server.first_accounts = server.start(accounts=20)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def accounts(live) -> Accounts:
    return Accounts(live, live.first_accounts)


@pytest.fixture
def browser(live) -> Browser:
    """A new browser (own cookie jar, own source address)."""
    return Browser(live)


@pytest.fixture
def new_browser(live):
    """A factory of further browsers, for tests that need two people or two devices."""
    return lambda: Browser(live)
