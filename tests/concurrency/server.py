"""The WSGI app the race tests serve with gunicorn: the testing configuration, whose secrets
and database come from the environment the test sets, so the test process and every worker
share them.

The per-IP sign-in limit is raised: firing many requests from one address is the point of
these tests, and the limit is tested elsewhere (tests/auth/test_guards.py).
"""

from portal import create_app
from portal.config import TestingConfig


class RaceConfig(TestingConfig):
    RATELIMIT_LOGIN = "100000 per minute"
    # Exceptions become 500 responses, as in production, instead of escaping to gunicorn.
    PROPAGATE_EXCEPTIONS = False


app = create_app(RaceConfig())
