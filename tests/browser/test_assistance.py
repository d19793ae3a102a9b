"""Assistance requests (协查) in Chromium: a township worker asks the other place from a
person's file and finds the request under "asked by us"; then answers a request that
arrived from 河南, overdue and marked red, and it leaves the overdue count."""

from __future__ import annotations

import datetime
import re

import pytest
from playwright.sync_api import expect

from liudong.actors import OPERATOR
from tests.browser.pages import shot, sign_in


@pytest.fixture
def node_with_requests(township_a, node_keys):
    """This node serves 西湖区 and trusts 河南's node; 王芳 (registered in 淅川县) lives in
    北山社区, and 河南 asked about 李娜, who lives there too (due 30 November 2026)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from liudong.exchange.assistance import services as assistance
    from liudong.exchange.messaging import services as messaging
    from liudong.exchange.tests.conftest import public_text
    from liudong.exchange.tests.test_assistance import _request_from_henan, person
    from liudong.regions.services import load_divisions

    load_divisions(prefixes=("41",))
    henan = Ed25519PrivateKey.generate()
    messaging.init_node(region_code="330106", url="https://xihu.example/")
    messaging.trust_peer(
        acting_user=OPERATOR, region_code="41", url="https://henan.example/", key=public_text(henan)
    )
    her = person(name="王芳")
    asked_about = person(name="李娜")
    incoming = assistance.on_request(
        _request_from_henan(henan, asked_about.id_number, deadline=datetime.date(2026, 11, 30))
    )
    return her, incoming


def test_ask_from_a_file_then_answer_an_incoming_request(page, node_with_requests):
    her, incoming = node_with_requests
    sign_in(page, "township_a")
    page.goto(f"/people/{her.pk}/")
    page.get_by_test_id("ask-assistance").click()
    expect(page.get_by_test_id("ask-place")).to_contain_text("411326")
    page.locator("input[name=question][value=children]").check()
    page.locator("input[name=urgency][value=urgent]").check()
    page.get_by_test_id("send-request").click()
    expect(page).to_have_url(re.compile(r"/assistance/\?tab=outgoing$"))
    asked = page.get_by_test_id("assistance-table")
    expect(asked).to_contain_text("王芳")
    expect(asked).to_contain_text("411326")

    page.get_by_test_id("tab-incoming").click()
    expect(page.get_by_test_id("overdue-incoming")).to_be_visible()
    row = page.get_by_test_id("overdue-row")
    expect(row).to_contain_text("李娜")
    shot(page, "assistance-worklist.png")
    row.get_by_test_id("open-request").click()
    expect(page.get_by_test_id("request-id-number")).to_have_text(incoming.id_number)
    page.locator("input[name=finding][value=confirmed]").check()
    page.locator("textarea[name=answer]").fill("户籍地登记为已婚,与档案一致")
    page.get_by_test_id("send-answer").click()
    expect(page).to_have_url(re.compile(r"/assistance/\?tab=incoming$"))
    expect(page.get_by_test_id("overdue-row")).to_have_count(0)
    expect(page.get_by_test_id("overdue-incoming")).to_have_count(0)
    expect(page.get_by_test_id("assistance-table")).to_contain_text("李娜")
    shot(page, "assistance-answered.png")
