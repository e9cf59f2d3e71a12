"""Runs the notification service: `python -m sanpi.notification` serves, `... migrate` upgrades its database."""

from sanpi.kit.serve import main
from sanpi.notification.app import create_app
from sanpi.notification.migrations import MIGRATIONS
from sanpi.notification.settings import NotificationSettings

if __name__ == "__main__":
    main(create_app, NotificationSettings(), MIGRATIONS)
