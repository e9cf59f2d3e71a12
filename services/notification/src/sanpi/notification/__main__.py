"""Runs the notification service: `python -m sanpi.notification`."""

from sanpi.kit.serve import serve
from sanpi.notification.app import create_app
from sanpi.notification.settings import NotificationSettings

if __name__ == "__main__":
    serve(create_app, NotificationSettings())
