"""The exchange tests' node: 西湖区 (330106), trusting 河南's node (41) whose private key
the tests hold to sign what 河南 sends."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from liudong.actors import OPERATOR
from liudong.exchange.messaging import services as messaging


def public_text(private: Ed25519PrivateKey) -> str:
    """The base64 public key `liudong node init` prints, of ``private``."""
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return base64.b64encode(raw).decode()


@pytest.fixture
def henan():
    """The peer node of 河南 (41): its own key, trusted here."""
    return Ed25519PrivateKey.generate()


@pytest.fixture
def node(node_keys, villages, henan):
    """This node serves 西湖区 (330106) and trusts 河南's node for 41."""
    messaging.init_node(region_code="330106", url="https://xihu.example/")
    messaging.trust_peer(
        acting_user=OPERATOR, region_code="41", url="https://henan.example/", key=public_text(henan)
    )
    return messaging.identity()
