"""Policy tests start from a database holding the seed policy and officers (as after
``flask db upgrade``), at a fixed moment in Seoul unless a test travels elsewhere."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine

from portal.dbtypes import KST

# A Tuesday morning in Seoul, long after the seed policy (2023-09-25) took effect.
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=KST)


@pytest.fixture(autouse=True)
def seeded(app, db):
    from portal.policy.seed.loader import ensure_seed

    ensure_seed()
    db.session.commit()


@pytest.fixture
def frozen():
    """Stop the clock at NOW (KST); yields the traveller so a test can move it."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller
