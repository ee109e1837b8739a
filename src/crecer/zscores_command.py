"""``crecer zscores IN.csv OUT.csv``: WHO growth z-scores for a table of measurements.

The command reads one file and writes another: it touches no database, model or URL. So the console
script runs it without setting Django up (which costs about 0.4 s of a 1-second run on a million rows);
the management command (``python -m django zscores``, ``call_command("zscores")``) runs the same
:func:`run`. Messages are the catalogue's (``locale/``), in the site's language (Spanish).
"""

from __future__ import annotations

import argparse
import gettext
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from crecer.core.progress import progress_bar

LOCALE = Path(__file__).resolve().parent / "locale"
#: the interface's language (``LANGUAGE_CODE`` of the settings)
LANGUAGE = "es"

Translate = Callable[[str], str]


class Writer(Protocol):
    def write(self, text: str, /) -> Any: ...


class Failed(Exception):
    """The file as a whole cannot be processed (not found, not a measurement table)."""


def row_messages(_: Translate) -> dict[str, str]:
    """The library's row errors, translated (same keys and placeholders)."""
    return {
        "not_a_number": _("%(field)s: not a number (%(value)r)"),
        "not_positive": _("%(field)s: must be > 0 (%(value)r)"),
        "negative": _("%(field)s: must be >= 0 (%(value)r)"),
        "unexpected": _("%(field)s: %(value)r is not %(expected)s"),
        "missing": _("%(field)s: missing (expected %(expected)s)"),
        "field_count": _("row has %(got)s fields, the header has %(want)s"),
    }


def run(source: Path, target: Path, quiet: bool, _: Translate, out: Writer) -> None:
    """Compute the z-scores of ``source`` into ``target`` and say how many rows were written."""
    from crecer.lib.growth.csvio import process_csv

    if not source.is_file():
        raise Failed(_("File not found: %(path)s") % {"path": source})
    try:
        with progress_bar(_("Computing z-scores"), quiet) as update:
            summary = process_csv(source, target, progress=update, messages=row_messages(_))
    except ValueError as exc:  # a file that is not a measurement table at all (no header, wrong columns)
        raise Failed(str(exc)) from exc
    out.write(
        _("%(rows)s rows written to %(out)s; %(errors)s with an error (see the error column).")
        % {"rows": summary.rows, "out": target, "errors": summary.errors}
        + "\n"
    )


def main(argv: list[str]) -> int:
    """The console script's entry: exit status 0, or 1 with the reason on standard error."""
    parser = argparse.ArgumentParser(
        prog="crecer zscores",
        description="WHO growth z-scores for a CSV of measurements: crecer zscores IN.csv OUT.csv",
    )
    parser.add_argument("input", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--quiet", action="store_true")
    options = parser.parse_args(argv)
    _ = gettext.translation("django", LOCALE, languages=[LANGUAGE], fallback=True).gettext
    try:
        run(options.input, options.output, options.quiet, _, sys.stdout)
    except Failed as exc:
        sys.stderr.write(f"CommandError: {exc}\n")
        return 1
    return 0
