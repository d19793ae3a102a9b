"""`liudong node trust --region CODE --url URL --key KEY`: trust a peer for a region prefix."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from liudong.commands import LiudongCommand
from liudong.exchange.messaging import services as messaging


class Command(LiudongCommand):
    help = (
        "Trust the node at URL, with the public key it printed at `node init`, for the "
        "regions under CODE; messages for a region go to the peer with the longest prefix. "
        "A new key for a trusted prefix replaces its key; the replaced one is still accepted "
        "until --retire-previous (a changeover to SM2, say)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--region", required=True)
        parser.add_argument("--url", required=True)
        parser.add_argument(
            "--key", required=True, help="the key `node init` printed there (sm2:... for SM2)"
        )
        parser.add_argument(
            "--retire-previous",
            action="store_true",
            help="stop accepting the key this one replaces (its changeover is over)",
        )

    def run(self, **options: Any) -> None:
        peer = messaging.trust_peer(
            region_code=options["region"],
            url=options["url"],
            key=options["key"],
            retire_previous=options["retire_previous"],
            acting_user=self.acting_user,
        )
        previous = f", still accepting {peer.previous_key_id}" if peer.previous_key_id else ""
        self.stdout.write(
            f"trusted {peer.region_prefix} at {peer.url} "
            f"(key {peer.key_id}, {peer.algorithm}{previous})"
        )
