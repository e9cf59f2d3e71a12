"""The `sanpi-admin` command line: minting tokens, dead-letter topics, consumer offsets, projection
rebuilds. Installed with the services (it needs their kit); `sanpi` mounts the same commands when
it is present (but `rebuild`, which needs the services themselves)."""

from __future__ import annotations

import typer

from sanpi.admin import dlq, offsets, rebuild, token

# The commands, by name: `sanpi-admin` and, when this package is installed, `sanpi` too.
COMMANDS: dict[str, typer.Typer] = {"token": token.app, "dlq": dlq.app, "offsets": offsets.app}

app = typer.Typer(
    help="sanpi-admin: administration that needs the service kit: mint bearer tokens, look at "
    "and redrive dead letters, save and restore consumer offsets, rebuild a service's projections "
    "from its topics. Installed with the services "
    "(the `sanpi` client alone does without it).",
    no_args_is_help=True,
)
for _name, _commands in COMMANDS.items():
    app.add_typer(_commands, name=_name)
app.command("rebuild", help=rebuild.HELP, no_args_is_help=True)(rebuild.command)


def main() -> None:
    app()
