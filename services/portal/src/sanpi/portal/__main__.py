"""Runs the portal: `python -m sanpi.portal` serves, `... migrate` upgrades its database,
`... create-admin` makes the `admin` account once and writes its password to a file."""

from __future__ import annotations

import asyncio
import secrets
import sys

from sanpi.kit import Database, utcnow
from sanpi.kit.logs import configure_logging
from sanpi.kit.migrations import upgrade
from sanpi.kit.serve import main
from sanpi.portal.accounts import service as accounts
from sanpi.portal.app import create_app
from sanpi.portal.migrations import MIGRATIONS
from sanpi.portal.settings import PortalSettings


async def create_admin(settings: PortalSettings) -> str:
    """Creates `admin` with a random password written to settings.admin_password_file (mode
    600); an existing admin keeps the password the file already holds."""
    path = settings.admin_password_file
    db = Database(settings.effective_database_url)
    try:
        await upgrade(db, MIGRATIONS)
        password = secrets.token_urlsafe(12)
        async with db.transaction() as session:
            created = await accounts.ensure_admin(session, password=password, now=utcnow())
        if created:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(password + "\n")
            path.chmod(0o600)
            return f"created user admin; its password is in {path}"
        return f"user admin exists; its first password was written to {path}"
    finally:
        await db.dispose()


if __name__ == "__main__":
    settings = PortalSettings()
    if sys.argv[1:] == ["create-admin"]:
        configure_logging(settings.log_level)
        print(asyncio.run(create_admin(settings)))  # noqa: T201 - the command's answer
    else:
        main(create_app, settings, MIGRATIONS)
