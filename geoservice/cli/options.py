"""The options every command spells the same way: ``--province CODE``, ``-o/--output PATH``
and ``--format``, and the deprecated spellings kept for one release.

A command that took its output file (or province) as a positional argument still accepts
it, hidden from the help and with a warning on standard error; so does ``build-data
--provinces 08,11`` (now ``--province 08 --province 11``, or ``--province 08,11``).
"""

from __future__ import annotations

import functools
from pathlib import Path

import click

PATH = click.Path(dir_okay=False, path_type=Path)
REMOVED_IN = "the next release"


def deprecated(old: str, new: str) -> None:
    """Warn on standard error that `old` is spelled `new` now."""
    click.echo(f"warning: {old} is deprecated and will be removed in {REMOVED_IN}; "
               f"use {new}", err=True)


def _merge(command, legacy: str, name: str, old: str, new: str, required: bool):
    """Wrap `command` so the hidden `legacy` value stands in for `name` (with a warning)."""
    @functools.wraps(command)
    def merged(*args, **kwargs):
        old_value = kwargs.pop(legacy, None)
        if old_value is not None:
            if kwargs.get(name) is not None and kwargs[name] != old_value:
                raise click.UsageError(f"give {new} once, not also as {old}")
            deprecated(old, new)
            kwargs[name] = old_value
        if required and kwargs.get(name) is None:
            raise click.UsageError(f"Missing option {new}.")
        return command(*args, **kwargs)

    return merged


def output_option(help_text: str, required: bool = True, positional: bool = False):
    """``-o/--output PATH``; `positional`: the command used to take it as an argument."""
    def decorate(command):
        if positional:
            command = _merge(command, "legacy_output", "output", "OUTPUT as an argument",
                             "-o/--output PATH", required)
            command = click.argument("legacy_output", required=False, type=PATH,
                                     metavar="")(command)
        return click.option("-o", "--output", type=PATH, default=None,
                            required=required and not positional, help=help_text)(command)

    return decorate


def province_option(help_text: str, required: bool = False, positional: bool = False,
                    name: str = "province_code"):
    """``--province CODE``; `positional`: the command used to take it as an argument."""
    def decorate(command):
        if positional:
            command = _merge(command, "legacy_province", name, "PROVINCE_CODE as an argument",
                             "--province CODE", required)
            command = click.argument("legacy_province", required=False, metavar="")(command)
        return click.option("--province", name, default=None, metavar="CODE",
                            required=required and not positional, help=help_text)(command)

    return decorate
