"""One error style for every command run from the shell: a single `Error: …` line on
standard error and a non-zero exit, whether the command refused its input (`CommandError`),
its options did not parse (argparse's usage error) or the database is not set up yet
(`manage.py`); and Ctrl-C or SIGTERM stops any of them the same way (`portal.interrupts`).
Django wrote these three ways ("CommandError: …", "usage: … error: …",
"Error: …"). Only the command line changes: `call_command` still raises `CommandError`.
"""
from __future__ import annotations

import signal
import sys
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandError, CommandParser, SystemCheckError

from portal import interrupts


def fail(message: str, status: int = 1) -> NoReturn:
    """Print the one error line and exit."""
    sys.stderr.write(f"Error: {message}\n")
    sys.exit(status)


def install() -> None:
    """Make every command's errors read `Error: …` when it runs from the shell."""
    execute = BaseCommand.execute
    parser_error = CommandParser.error

    def execute_saying_error(self: BaseCommand, *args: Any, **options: Any) -> Any:
        from_shell = getattr(self, "_called_from_command_line", False)
        if from_shell:
            interrupts.install()
        try:
            return execute(self, *args, **options)
        except KeyboardInterrupt as exc:
            if not from_shell:
                raise
            interrupts.stop(getattr(exc, "signum", signal.SIGINT), getattr(exc, "detail", ""))
        except SystemExit:
            # Code that caught the interrupt and exited (runserver exits 0 on Ctrl-C).
            if from_shell and interrupts.received() is not None:
                interrupts.stop(interrupts.received() or signal.SIGINT)
            raise
        except CommandError as exc:
            if (options.get("traceback") or isinstance(exc, SystemCheckError)
                    or not getattr(self, "_called_from_command_line", False)):
                raise
            fail(str(exc), exc.returncode)

    def usage_error(self: CommandParser, message: str) -> NoReturn:
        if not self.called_from_command_line:
            parser_error(self, message)
        fail(f"{message} (see {self.prog} --help)", 2)

    BaseCommand.execute = execute_saying_error
    CommandParser.error = usage_error
