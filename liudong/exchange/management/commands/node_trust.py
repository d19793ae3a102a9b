"""`liudong node trust --region CODE --url URL --key KEY`: trust a peer for a region prefix."""

from __future__ import annotations

from liudong.commands import LiudongCommand
from liudong.exchange import services


class Command(LiudongCommand):
    help = (
        "Trust the node at URL, with the public key it printed at `node init`, for the "
        "regions under CODE; messages for a region go to the peer with the longest prefix."
    )

    def add_arguments(self, parser):
        parser.add_argument("--region", required=True)
        parser.add_argument("--url", required=True)
        parser.add_argument("--key", required=True)

    def run(self, **options):
        peer = services.trust_peer(
            region_code=options["region"], url=options["url"], key=options["key"]
        )
        self.stdout.write(f"trusted {peer.region_prefix} at {peer.url} (key {peer.key_id})")
