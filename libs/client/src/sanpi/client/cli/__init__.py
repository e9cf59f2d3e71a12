"""The `sanpi` command line: one module per area, assembled here. The commands that need the
service kit (token, dlq, offsets) belong to `sanpi-admin` (libs/admin); `sanpi` mounts them too
when that package is installed, as it is beside the services."""

from __future__ import annotations

import typer

from sanpi.client.cli import (
    demo,
    evidence,
    issues,
    milestones,
    notifications,
    periods,
    progress,
    projects,
    supervision,
)

app = typer.Typer(
    help="sanpi (三批): follow 三个一批 projects from signing to production.\n\n"
    "Service URLs come from SANPI_REGISTRY_URL, SANPI_MILESTONE_URL and SANPI_NOTIFICATION_URL "
    "(default: the local ports 8001-8003); the token from --token, SANPI_TOKEN or .run/admin.token.",
    no_args_is_help=True,
)
app.add_typer(projects.app, name="projects")
app.add_typer(periods.app, name="periods")
app.add_typer(periods.targets, name="targets")
app.command("indicators")(periods.indicators)
app.add_typer(demo.app, name="demo")
app.add_typer(milestones.app, name="milestone")
app.command("subscribe")(notifications.subscribe)
app.add_typer(milestones.stage_app, name="stage")
app.add_typer(progress.app, name="progress")
app.add_typer(evidence.app, name="evidence")
app.add_typer(issues.app, name="issues")
app.command("evaluate")(progress.evaluate)
app.command("traffic-lights")(progress.lights)
app.command("bulletin")(progress.bulletin)
app.add_typer(notifications.subscriptions_app, name="subscriptions")
app.command("deliveries")(notifications.deliveries)
app.add_typer(notifications.dead_letters_app, name="dead-letters")
app.add_typer(notifications.inbox_app, name="inbox")
app.add_typer(notifications.notifications_app, name="notifications")
# `sanpi alerts` lists firing alerts (milestone service), `sanpi alerts list --severity red …`
# filters them, `sanpi alerts ack KEY` acknowledges one (notification service).
notifications.alerts_app.command("list")(progress.alerts)


@notifications.alerts_app.callback(invoke_without_command=True)
def _alerts(context: typer.Context) -> None:
    """Alerts: list them (default: the firing ones) or acknowledge one."""
    if context.invoked_subcommand is None:
        progress.alerts()


app.add_typer(notifications.alerts_app, name="alerts")
app.add_typer(supervision.app, name="supervision")
app.add_typer(supervision.contacts_app, name="contacts")


def _mount_admin_commands() -> None:
    """Only where sanpi-admin is installed: the client alone imports nothing of the kit."""
    try:
        from sanpi.admin.cli import COMMANDS
    except ModuleNotFoundError:
        return
    for name, commands in COMMANDS.items():
        app.add_typer(commands, name=name)


_mount_admin_commands()


def main() -> None:
    app()
