"""Fixtures for the integration tests that need more than tests/conftest.py gives.

The IMAP fixtures (a private Dovecot per session, a fresh mailbox per test) live in
``imap_server.py``; importing them here makes them available to every test module.
"""

from tests.integration.api_client import api  # noqa: F401 (a fixture, found by name)
from tests.integration.imap_server import (  # noqa: F401 (fixtures, found by name)
    dovecot_plain,
    dovecot_tls,
    imap_server,
    imaps_server,
)
from tests.integration.smtp_sink import sink  # noqa: F401 (a fixture, found by name)
