"""`liudong node init --region CODE --url URL`: this node's identity; prints its public key."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from liudong import crypto
from liudong.commands import LiudongCommand
from liudong.exchange.messaging import services as messaging


class Command(LiudongCommand):
    help = (
        "Set this node's region and the URL peers reach it at; print its public key "
        "(the certificate signing key: Ed25519, or SM2 under LIUDONG_CRYPTO=sm, created on "
        "first use) for the peers' `liudong node trust`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--region", required=True)
        parser.add_argument("--url", required=True)
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def run(self, **options: Any) -> None:
        me, public = messaging.init_node(region_code=options["region"], url=options["url"])
        algorithm = crypto.public_key_from_text(public).algorithm
        try:
            wanted = crypto.configured_algorithm()
        except crypto.CryptoError as exc:
            self.fail(str(exc), code="crypto")
        # A node that already has a key keeps it (init is run again to change the URL);
        # switching algorithms is a rotation, which peers must be told of.
        if algorithm != wanted:
            self.stderr.write(
                f"liudong: note: the current key is {algorithm}, LIUDONG_CRYPTO asks for "
                f"{wanted}: run `liudong certificate rotate-key` and give peers the new key"
            )
        if options["format"] == "json":
            self.print_json(
                {
                    "region": me.region_id,
                    "url": me.url,
                    "key": public,
                    "key_id": me.key_id,
                    "algorithm": algorithm,
                }
            )
        else:
            self.stdout.write(
                _("node %(region)s at %(url)s\npublic key: %(key)s")
                % {"region": me.region_id, "url": me.url, "key": public}
            )
