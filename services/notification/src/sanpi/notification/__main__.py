"""Runs the notification service: `python -m sanpi.notification` serves, `... migrate` upgrades its
database, `... secrets new-key|reseal` manages the keys that seal stored signing secrets, and
`... recover-deliveries POSITIONS.json` records what was delivered since a backup."""

import asyncio
import sys

from sanpi.kit.db import Database
from sanpi.kit.sealing import new_key
from sanpi.kit.serve import main
from sanpi.notification.app import create_app
from sanpi.notification.delivery import recovery
from sanpi.notification.migrations import MIGRATIONS
from sanpi.notification.settings import NotificationSettings
from sanpi.notification.subscriptions.service import reseal_secrets

SECRETS_USAGE = "secrets new-key | secrets reseal"


def secrets_command(settings: NotificationSettings, args: list[str]) -> None:
    """new-key: print a fresh sealing key. reseal: seal every stored signing secret that is in
    plaintext or under an older key with the newest key of SANPI_NOTIFICATION_SECRET_KEYS."""
    if args == ["new-key"]:
        sys.stdout.write(new_key() + "\n")
        return
    if args != ["reseal"]:
        sys.exit(f"usage: python -m sanpi.notification {SECRETS_USAGE}")

    async def reseal() -> int:
        db = Database(settings.effective_database_url)
        try:
            report = await reseal_secrets(db, settings.secret_box)
        finally:
            await db.dispose()
        newest = settings.secret_box.newest
        sys.stdout.write(f"resealed {report.resealed} secret(s) with key {newest}\n")
        for problem in report.unavailable:
            sys.stderr.write(f"cannot open: {problem}\n")
        return 1 if report.unavailable else 0

    sys.exit(asyncio.run(reseal()))


if __name__ == "__main__":
    main(
        create_app,
        NotificationSettings(),
        MIGRATIONS,
        commands={"secrets": secrets_command, "recover-deliveries": recovery.command},
    )
