"""`liudong node list [--format json]`: this node and the peers it trusts."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from liudong.commands import LiudongCommand
from liudong.exchange.models import NodeIdentity, Peer


class Command(LiudongCommand):
    help = (
        "This node's region and URL, and each trusted peer: region prefix, URL, key id and "
        "algorithm, and the previous key still accepted during its changeover."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def run(self, **options: Any) -> None:
        me = NodeIdentity.objects.first()
        # The previous key is shown while a peer's changeover lasts (still accepted).
        peers = [
            {
                "region": p.region_prefix,
                "url": p.url,
                "key_id": p.key_id,
                "algorithm": p.algorithm,
                "previous_key_id": p.previous_key_id or None,
                "active": p.active,
            }
            for p in Peer.objects.order_by("region_prefix")
        ]
        node = None if me is None else {"region": me.region_id, "url": me.url, "key_id": me.key_id}
        if options["format"] == "json":
            self.print_json({"node": node, "peers": peers})
            return
        self.stdout.write(
            "this node: not set up (liudong node init)"
            if node is None
            else f"this node: {node['region']} {node['url']} (key {node['key_id']})"
        )
        for peer in peers:
            state = "" if peer["active"] else " (inactive)"
            previous = (
                f", still accepting {peer['previous_key_id']}" if peer["previous_key_id"] else ""
            )
            self.stdout.write(
                f"peer {peer['region']} {peer['url']} "
                f"(key {peer['key_id']}, {peer['algorithm']}{previous}){state}"
            )
