"""The WSGI app the race tests serve with gunicorn: the testing configuration, whose secrets
and database come from the environment the test sets, so the test process and every worker
share them.

The per-IP sign-in limit is the production one (10 POSTs a minute): each request of a burst
comes from its own address (tests/concurrency/conftest.py), so that limit never stops one,
and what the tests see is the per-account counters alone — which is the point: a per-IP
limit must not be what hides a per-account bug.
"""

from portal import create_app
from portal.config import TestingConfig


class RaceConfig(TestingConfig):
    # Exceptions become 500 responses, as in production, instead of escaping to gunicorn.
    PROPAGATE_EXCEPTIONS = False


app = create_app(RaceConfig())
