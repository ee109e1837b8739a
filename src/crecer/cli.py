"""The ``crecer`` command: Django's management commands with Crecer's settings preset.

``crecer migrate``, ``crecer demo``, ``crecer import children FILE.csv``, ``crecer help`` …
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["zscores"]:
        # File in, file out, no database: run without setting Django up (see crecer.zscores_command).
        from crecer import zscores_command

        raise SystemExit(zscores_command.main(args[1:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crecer.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["crecer", *args])


if __name__ == "__main__":
    main()
