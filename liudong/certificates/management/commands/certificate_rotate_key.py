from typing import Any

from django.core.management.base import CommandParser

from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.certificates import keys
from liudong.commands import LiudongCommand


class Command(LiudongCommand):
    help = (
        "Make a new signing key the node's current one (in the LIUDONG_NODE_KEY folder; SM2 "
        "under LIUDONG_CRYPTO=sm, else Ed25519). Old keys are kept: what they signed keeps "
        "verifying. Run by the server operator; give the printed public key to the peers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def run(self, **options: Any) -> None:
        try:
            key = keys.rotate()
        except keys.KeyFolderError as exc:
            self.fail(str(exc), code="key_folder")
        audit.record(
            Action.CREATE,
            object_type="certificates.signingkey",
            object_id=key.key_id,
            object_repr=f"signing key {key.key_id}",
            detail={
                "action": "rotate-key",
                "folder": str(keys.key_folder()),
                "algorithm": key.algorithm,
            },
        )
        public = key.public.text()
        if self.format == "json":
            self.print_json(
                {
                    "key_id": key.key_id,
                    "algorithm": key.algorithm,
                    "public_key": public,
                    "folder": str(keys.key_folder()),
                }
            )
        else:
            self.stdout.write(
                f"new signing key {key.key_id} ({key.algorithm}) in {keys.key_folder()}\n"
                f"public key: {public}"
            )
