"""Settings for a `liudong serve` subprocess under test: production's, plus the test-only
routes of tests/serve_urls.py."""

from liudong.settings import *  # noqa: F403

ROOT_URLCONF = "tests.serve_urls"
