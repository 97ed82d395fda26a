"""What every tf-amgan command shares: absl flag parsing with one behaviour for all of them.

`--flagfile=FILE` (absl's), `--help` / `--helpfull` (the command's flags, exit 0), and on a bad
flag one `error: ...` line on stderr and exit code 2. Each command defines its flags in one
module, on its own `FlagValues` built by a function, so commands (and tests) can parse in one
process without sharing state. run_experiment.py uses absl.app on the global FLAGS instead; its
errors look the same.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Sequence

from absl import flags

EXIT_OK, EXIT_USAGE = 0, 2
HELP_FLAGS = ("-h", "--help", "--helpshort", "--helpfull", "-help", "-helpfull")


class UsageError(Exception):
    """A bad command line or input; the command prints `error: <message>` and exits 2."""


# --download values -> the `download` argument of the data loaders (None: only if missing locally).
DOWNLOAD_VALUES = {"auto": None, "true": True, "false": False}


def define_data_location_flags(fv: flags.FlagValues) -> None:
    """--data_dir and --download, as every command that reads a tfds data set takes them."""
    flags.DEFINE_string("data_dir", None, "tfds data directory.", flag_values=fv)
    flags.DEFINE_enum(
        "download",
        "auto",
        list(DOWNLOAD_VALUES),
        "Whether tfds may download missing data.",
        flag_values=fv,
    )


def one_line(message) -> str:
    return " ".join(str(message).split())


def error(message) -> int:
    """Prints `error: <message>` as one line on stderr; returns the usage exit code."""
    print(f"error: {one_line(message)}", file=sys.stderr)
    return EXIT_USAGE


def flagfile_error(argv: Sequence[str], e: UnicodeDecodeError) -> str:
    """The message for a --flagfile that is not UTF-8 text (absl raises UnicodeDecodeError,
    without the file's name)."""
    for arg in argv:
        if arg.startswith("--flagfile="):
            path = arg.split("=", 1)[1]
            try:
                with open(path, encoding="utf-8") as f:
                    f.read()
            except UnicodeDecodeError as bad:
                return f"--flagfile={path} is not UTF-8 text ({bad.reason} at byte {bad.start})"
            except OSError:
                pass  # absl reports it
    return f"a --flagfile is not UTF-8 text ({e.reason})"


def help_text(prog: str, doc: str, flag_values: flags.FlagValues) -> str:
    return (
        f"{textwrap.dedent(doc).strip()}\n\nUsage: {prog} [flags]\n\nFlags:\n"
        f"{flag_values.get_help(include_special_flags=False)}\n"
        "  --flagfile: file of flags, one per line (absl); may be repeated\n"
        "  --[no]help, --helpfull: show this help\n"
    )


def parse(
    make_flags: Callable[[], flags.FlagValues], argv: Sequence[str], prog: str, doc: str
) -> flags.FlagValues | int:
    """Parses `argv` (without the program name) into a fresh FlagValues from `make_flags`.

    Returns:
      the parsed FlagValues, or an exit code: 0 after printing the help, 2 after printing one
      `error:` line (unknown flag, bad value, missing required flag, unexpected argument).
    """
    fv = make_flags()
    argv = list(argv)
    for arg in argv:
        if arg == "--":
            break
        if arg.split("=", 1)[0] in HELP_FLAGS:
            sys.stdout.write(help_text(prog, doc, fv))
            return EXIT_OK
    try:
        rest = fv([prog, *argv])
    except flags.Error as e:
        return error(e)
    except UnicodeDecodeError as e:
        return error(flagfile_error(argv, e))
    if len(rest) > 1:
        return error(f"unexpected arguments {rest[1:]}")
    return fv


def app_flags_parser(prog: str, doc: str, key_module) -> Callable[[list[str]], list[str]]:
    """`flags_parser` for absl.app.run on the global FLAGS (the train command), with the same
    behaviour as `parse`: --help lists `key_module`'s flags, --helpfull every flag (exit 0); a
    bad flag prints one `error:` line and exits 2."""

    def parser(argv: list[str]) -> list[str]:
        fv = flags.FLAGS
        for arg in argv[1:]:
            if arg == "--":
                break
            name = arg.split("=", 1)[0]
            if name in HELP_FLAGS:
                full = name in ("--helpfull", "-helpfull")
                listing = fv.get_help() if full else fv.module_help(key_module)
                sys.stdout.write(
                    f"{textwrap.dedent(doc).strip()}\n\nUsage: {prog} [flags]\n\n{listing}\n"
                    "  --flagfile: file of flags, one per line (absl); may be repeated\n"
                    "  --helpfull: every flag (also absl's)\n"
                )
                raise SystemExit(EXIT_OK)
        try:
            return fv(argv)
        except flags.Error as e:
            raise SystemExit(error(e)) from None
        except UnicodeDecodeError as e:
            raise SystemExit(error(flagfile_error(argv, e))) from None

    return parser
