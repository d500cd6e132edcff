"""The ``rollupkit`` command: a thin typer layer over the SDK.

Every error a user can cause is printed as one line on standard error, with a non-zero exit
status; ``--debug`` (or ``ROLLUPKIT_DEBUG=1``) shows the traceback instead.
"""

from __future__ import annotations

import os
import sys

import typer
from typer.exceptions import Abort, Exit, TyperException

from rollupkit import __version__
from rollupkit_cli import (
    commands_contracts,
    commands_demo,
    commands_execute,
    commands_l1,
    commands_node,
    commands_plugins,
    commands_scaffold,
    commands_up,
    commands_verifier,
    commands_zk,
)
from rollupkit_cli._typer import new_app

app = new_app(
    help="rollupkit: build, run and verify native rollups.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(commands_plugins.app, name="plugins")
app.add_typer(commands_contracts.app, name="contracts")
app.add_typer(commands_l1.app, name="l1")
app.add_typer(commands_node.app, name="node")
app.add_typer(commands_scaffold.app, name="scaffold")
app.command("up")(commands_up.up)
app.command("status")(commands_up.status)
app.command("down")(commands_up.down)
app.add_typer(commands_demo.app, name="demo")
app.command("execute")(commands_execute.execute_command)
app.add_typer(commands_execute.trace_app, name="trace")
app.add_typer(commands_verifier.app, name="verifier")
app.command("watchtower")(commands_node.watchtower)
app.add_typer(commands_zk.app, name="zk")

_debug = os.environ.get("ROLLUPKIT_DEBUG", "") not in ("", "0")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"rollupkit {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    debug: bool = typer.Option(
        False, "--debug", help="Show tracebacks instead of one-line errors."
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """rollupkit: build, run and verify native rollups."""
    global _debug
    _debug = _debug or debug


def run() -> None:
    """Console-script entry point: run the app, turning errors into one line."""
    try:
        code = app(standalone_mode=False, prog_name="rollupkit")
        sys.exit(code if isinstance(code, int) else 0)
    except SystemExit:
        raise
    except Exit as done:
        sys.exit(done.exit_code)
    except TyperException as exc:  # usage errors: one line, and where to get help
        ctx = getattr(exc, "ctx", None)
        command = ctx.command_path if ctx is not None else "rollupkit"
        message = exc.format_message().strip()
        if message:  # empty when the help was shown because no command was given
            typer.echo(f"error: {message} (see `{command} --help`)", err=True)
        sys.exit(exc.exit_code)
    except Abort:
        typer.echo("aborted", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        if _debug or "--debug" in sys.argv:
            raise
        message = str(exc) or type(exc).__name__
        typer.echo(f"error: {message}", err=True)
        sys.exit(1)
