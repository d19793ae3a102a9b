import pytest

from .fakes import keep_the_test_connection


@pytest.fixture(autouse=True)
def worker_in_the_test_transaction(monkeypatch):
    keep_the_test_connection(monkeypatch)
