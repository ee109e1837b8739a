"""What the benchmarks of a whole SYNTHETIC country share: a scratch database, and the profile's territory
tree for a number of children (``crecer.lib.synthetic.territories``) written in one transaction.

Used by ``bench_costing.py`` and ``bench_results.py``; both run as scripts, so this file is imported from
the benchmarks' own folder.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def setup_django(out: Path, keep: bool = False) -> None:
    """Django on DATABASE_URL, or on a scratch SQLite file under ``out`` (emptied unless ``keep``)."""
    if "DATABASE_URL" not in os.environ:
        out.mkdir(parents=True, exist_ok=True)
        db = out / "crecer.sqlite3"
        if not keep:
            db.unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{db}"
        os.environ.setdefault("CRECER_DATA_DIR", str(out))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crecer.settings")
    sys.path.insert(0, str(ROOT / "src"))

    import django

    django.setup()


def migrated_empty(flush: bool) -> None:
    """Migrate; empty the database first with ``flush``; stop if it already holds territories."""
    from django.core.management import call_command

    from crecer.territories.models import Territory

    call_command("migrate", interactive=False, verbosity=0)
    if flush:
        call_command("flush", interactive=False, verbosity=0)
    if Territory.objects.exists():
        sys.exit("the database has territories: use an empty one (or --flush)")


def build_territories(rng: Any, children: int) -> tuple[Any, dict[str, Any], list[Any]]:
    """The profile's SYNTHETIC territory tree for ``children`` children, written: (the tree, its Territory
    rows by code, its municipalities in the tree's order of ``lowest_codes``)."""
    from django.db import transaction

    from crecer import conf
    from crecer.lib.synthetic import territories as synthetic_territories
    from crecer.lib.synthetic.flavours import flavour_for
    from crecer.territories.models import Territory

    profile = conf.profile()
    tree = synthetic_territories.build(rng, profile, flavour_for(profile.country), children)
    started = time.perf_counter()
    with transaction.atomic():
        by_code: dict[str, Territory] = {}
        depth_of = {key: i for i, key in enumerate(profile.level_keys)}
        for code, name, level, parent in zip(tree.codes, tree.names, tree.levels, tree.parent_codes, strict=True):
            parent_t = by_code.get(parent)
            path = f"{parent_t.path if parent_t else ''}{code}/"
            by_code[code] = Territory.objects.create(
                code=code, name=name, level=level, depth=depth_of[level], parent=parent_t, path=path
            )
    municipalities = [by_code[c] for c in tree.lowest_codes]
    print(
        f"territory tree for {children:,} children: {len(tree.codes)} territories, "
        f"{len(municipalities)} municipalities ({time.perf_counter() - started:.1f} s)"
    )
    return tree, by_code, municipalities
