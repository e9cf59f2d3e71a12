"""Runs the notification service: `python -m sanpi.notification` serves, `... migrate` upgrades its
database, `... recover-deliveries POSITIONS.json` records what was delivered since a backup."""

from sanpi.kit.serve import main
from sanpi.notification.app import create_app
from sanpi.notification.delivery import recovery
from sanpi.notification.migrations import MIGRATIONS
from sanpi.notification.settings import NotificationSettings

if __name__ == "__main__":
    main(
        create_app,
        NotificationSettings(),
        MIGRATIONS,
        commands={"recover-deliveries": recovery.command},
    )
