"""The exchange mailbox: a township specialist sees the notice that could not be applied,
and applies it again once its cause is fixed; the arrival it reports then shows on the
file (she lives in 河南 now)."""

from __future__ import annotations

import datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.utils import timezone
from playwright.sync_api import expect

from liudong.actors import OPERATOR
from tests.browser.pages import shot, sign_in


@pytest.fixture
def stuck_notice(township_a, tmp_path, monkeypatch):
    from liudong.certificates import keys
    from liudong.exchange.messaging import messages
    from liudong.exchange.messaging import services as messaging
    from liudong.exchange.models import InboxMessage
    from liudong.exchange.tests.conftest import public_text
    from liudong.exchange.tests.test_effects import arrival_of
    from liudong.regions.services import load_divisions

    load_divisions(prefixes=("41",))
    monkeypatch.setenv("LIUDONG_NODE_KEY", str(tmp_path / "keys"))
    keys.forget_cache()
    henan = Ed25519PrivateKey.generate()
    messaging.init_node(region_code="330106", url="https://xihu.example/")
    messaging.trust_peer(
        acting_user=OPERATOR, region_code="41", url="https://henan.example/", key=public_text(henan)
    )
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    envelope = messages.build(
        "arrival",
        sender="41",
        to="330106002001",
        payload=arrival_of(arrived=tomorrow),
        sign=henan.sign,
        now=timezone.now(),
    )
    message, _new = messaging.receive(envelope)
    fixed = dict(message.envelope)
    fixed["payload"] = {**fixed["payload"], "arrival_date": timezone.localdate().isoformat()}
    InboxMessage.objects.filter(pk=message.pk).update(envelope=fixed)  # corrected meanwhile
    yield message
    keys.forget_cache()


def test_a_specialist_applies_a_stuck_notice_again(page, stuck_notice):
    sign_in(page, "township_a")
    page.get_by_test_id("nav-exchange").click()
    expect(page.get_by_test_id("problem-count")).to_be_visible()
    row = page.get_by_test_id("message-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("330106********")
    shot(page, "exchange-mailbox-problem.png")
    with page.expect_navigation():
        row.get_by_test_id("apply-again").click()
    expect(page.get_by_test_id("problem-count")).to_have_count(0)
    expect(page.get_by_test_id("state")).not_to_have_class("badge overdue")
    shot(page, "exchange-mailbox-applied.png")
    page.get_by_test_id("message-row").get_by_role("link").click()
    expect(page.locator("body")).to_contain_text("经八路街道")
    page.get_by_test_id("nav-exchange").click()
    page.get_by_test_id("tab-outbox").click()
    expect(page.get_by_test_id("message-table")).to_be_visible()
