"""The ``shopgraph`` command. Each ``scripts/cmd_*.py`` module adds one sub-command.

A command module defines ``register(subparsers)``, which adds its parser and sets
``func`` (called with the parsed arguments, returning an exit code). Modules are
discovered, so adding a command never edits this file. Heavy imports belong inside
the command's function, so ``shopgraph --help`` stays fast. ``--debug`` and
``--no-progress`` are accepted before or after the command (:mod:`scripts.console`).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import sys
from collections.abc import Sequence
from pathlib import Path

import scripts
from kg.version import shopgraph_version
from scripts.console import LOGGER, progress_wanted, set_progress, setup_logging

EXIT_CODES = """exit codes:
  0  done
  1  the run failed (an I/O error, the --out folder busy, --strict and an unknown user, a bug)
  2  the command line or its inputs are wrong (a usage error, a bad option value, a missing or
     refused path, an unknown id, a bad input file)
Errors and notices go to stderr, results to stdout; tracebacks only with --debug."""

#: Errors that mean the command line or what it names is wrong (exit 2); others exit 1.
USAGE_ERRORS = (ValueError, KeyError, FileNotFoundError, NotADirectoryError, IsADirectoryError)


class RunError(RuntimeError):
    """A run that cannot go on, with the message to show (exit 1)."""


def _add_common(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument("--debug", action="store_true", default=default,
                        help="show tracebacks and debug messages")
    parser.add_argument("--no-progress", action="store_true", default=default,
                        help="hide every progress bar (bars are drawn only when stderr is a "
                        "terminal)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every discovered sub-command."""
    parser = argparse.ArgumentParser(prog="shopgraph", description=__doc__.splitlines()[0],
                                     epilog=EXIT_CODES,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version",
                        version=f"%(prog)s {shopgraph_version()}")
    _add_common(parser, False)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(scripts.__path__), key=lambda m: m.name):
        if info.name.startswith("cmd_"):
            importlib.import_module(f"scripts.{info.name}").register(subparsers)
    for sub in subparsers.choices.values():
        _add_common(sub, argparse.SUPPRESS)  # absent after the command: the value before it
    return parser


def _error_text(err: BaseException) -> str:
    if isinstance(err, KeyError) and len(err.args) == 1:
        return str(err.args[0])  # str(KeyError) quotes its message
    return str(err) or type(err).__name__


def _rejected_item(args: argparse.Namespace) -> str:
    """For an unknown ``--item``: the artifact's quarantined products.jsonl line with that id
    and why (``; products.jsonl line 2 was rejected: ...``), else ""."""
    artifact, item = getattr(args, "artifact", None), getattr(args, "item", None)
    quarantine = Path(artifact or "") / "rejected.jsonl"
    if not isinstance(item, str) or not quarantine.is_file():
        return ""
    wanted = {item, item.removeprefix("product:")}
    with open(quarantine, encoding="utf-8") as handle:
        for line in handle:
            entry = json.loads(line)
            if entry.get("file") != "products.jsonl":
                continue
            try:
                raw = json.loads(entry.get("raw") or "")
            except ValueError:  # not JSON, or cut short in the quarantine
                continue
            found = raw.get("id") if isinstance(raw, dict) else None
            if type(found) in (str, int) and str(found) in wanted:
                return f"; products.jsonl line {entry['line']} was rejected: {entry['reason']}"
    return ""


def _quiet_stdout() -> None:
    """Point stdout at /dev/null: its reader has gone, and the final flush must not fail."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (see ``shopgraph --help``)."""
    args = build_parser().parse_args(argv)  # a usage error exits 2 here
    setup_logging(args.command, debug=args.debug)
    progress = progress_wanted(args.no_progress)
    args.no_progress = not progress
    set_progress(progress)
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()
        return code
    except BrokenPipeError:  # e.g. `shopgraph recommend ... | head -1`: the reader has enough
        _quiet_stdout()
        return 0
    except KeyboardInterrupt:
        LOGGER.error("interrupted")
        return 130
    except Exception as err:  # the one place every failure becomes a message
        why = _rejected_item(args) if isinstance(err, KeyError) else ""
        LOGGER.error("%s%s", _error_text(err), why, exc_info=err if args.debug else None)
        return 2 if isinstance(err, USAGE_ERRORS) else 1


if __name__ == "__main__":
    sys.exit(main())
