"""Runs the portal: `python -m sanpi.portal` serves, `... migrate` upgrades its database,
`... create-admin` makes the `admin` account once and writes its password to a file, and
`... create-user NAME --role R [--parks P,Q]` adds an account (its password read from stdin)."""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys

from sanpi.kit import Database, Role, utcnow
from sanpi.kit.logs import configure_logging
from sanpi.kit.migrations import upgrade
from sanpi.kit.serve import main
from sanpi.portal.accounts import service as accounts
from sanpi.portal.accounts.schemas import PASSWORD_MAX, PASSWORD_MIN
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
        async with db.transaction() as uow:
            created = await accounts.ensure_admin(uow, password=password, now=utcnow())
        if created:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(password + "\n")
            path.chmod(0o600)
            return f"created user admin; its password is in {path}"
        return f"user admin exists; its first password was written to {path}"
    finally:
        await db.dispose()


async def create_user(settings: PortalSettings, args: argparse.Namespace, password: str) -> str:
    db = Database(settings.effective_database_url)
    try:
        await upgrade(db, MIGRATIONS)
        async with db.transaction() as uow:
            await accounts.create(
                uow,
                username=args.username,
                display_name=args.display_name or args.username,
                role=Role(args.role),
                parks=[p for p in (args.parks or "").split(",") if p],
                password=password,
                by="command line",
                now=utcnow(),
            )
        return f"created user {args.username} ({args.role})"
    finally:
        await db.dispose()


def user_command(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sanpi.portal create-user",
        description="Adds a portal account; the password is read from standard input.",
    )
    parser.add_argument("username")
    parser.add_argument("--role", required=True, choices=[r.value for r in Role])
    parser.add_argument("--parks", help="comma-separated parks (operators)")
    parser.add_argument("--display-name", help="the name shown on pages")
    return parser.parse_args(argv)


if __name__ == "__main__":
    settings = PortalSettings()
    if sys.argv[1:] == ["create-admin"]:
        configure_logging(settings.log_level)
        print(asyncio.run(create_admin(settings)))  # noqa: T201 - the command's answer
    elif sys.argv[1:2] == ["create-user"]:
        configure_logging(settings.log_level)
        arguments = user_command(sys.argv[2:])
        secret = sys.stdin.readline().rstrip("\n")
        if not PASSWORD_MIN <= len(secret) <= PASSWORD_MAX:
            sys.exit(f"the password must have {PASSWORD_MIN} to {PASSWORD_MAX} characters")
        if arguments.role == Role.OPERATOR and not arguments.parks:
            sys.exit("an operator needs --parks")
        print(asyncio.run(create_user(settings, arguments, secret)))  # noqa: T201
    else:
        main(create_app, settings, MIGRATIONS)
