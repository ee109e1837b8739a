"""Benchmark: response times of the front line's pages (median and p95), as a health worker of the demo.

    CRECER_DATA_DIR=/tmp/pages [DATABASE_URL=...] .venv/bin/python bench/bench_pages.py [--children 3000] [--rounds 40]

Prepares the database as ``crecer demo`` does when it is empty (a SYNTHETIC country of ``--children``
children, the demo users, the referral network and the showcase family), then, signed in as the health
worker "salud", requests each page ``--rounds`` times through Django's whole request path (middleware,
sessions, scope, templates, read log; Django's test client in this process, no network) and prints the
median and the 95th percentile of each. The registration pages are timed on the full flow: each round
registers a new (SYNTHETIC) mother with her household, her pregnancy with the EPsA of the first visit, and
the newborn, so each round's pages read and write a registry of the given size.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crecer.settings")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[rank]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from crecer.access.models import User
    from crecer.lib.documents import run_check_digit
    from crecer.referrals.demo import ensure_network
    from crecer.registry.models import Caregiver, Child, Pregnancy
    from crecer.tracking.models import Measurement
    from crecer.web.demo import ensure_country, ensure_users, showcase_family

    call_command("migrate", interactive=False, verbosity=0)
    began = time.perf_counter()
    loaded = ensure_country(args.children, args.seed)
    ensure_users()
    ensure_network(User.objects.get(username="coordinador"))
    health = User.objects.get(username="salud")
    family = showcase_family(health)
    assert family is not None and family.newborn is not None
    if loaded:
        print(f"prepared a SYNTHETIC demo country in {time.perf_counter() - began:.1f} s")
    print(f"database: {connection.vendor}  children: {Child.unscoped.count():,}  rounds: {args.rounds}")

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(health)
    assert health.facility is not None
    territory = health.facility.territory.code
    facility = health.facility.code
    today = timezone.localdate()
    times: dict[str, list[float]] = {}

    def timed(
        label: str, method: str, url: str, data: dict[str, Any] | None = None, ok: tuple[int, ...] = (200,)
    ) -> Any:
        call: Callable[..., Any] = client.post if method == "POST" else client.get
        start = time.perf_counter()
        response = call(url, data or {})
        if method == "GET" and hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        spent = time.perf_counter() - start
        if response.status_code not in ok:
            raise SystemExit(f"{label}: {method} {url} answered {response.status_code}")
        times.setdefault(label, []).append(spent)
        return response

    base = 23_000_000
    for n in range(args.rounds):
        body = base + n
        while Caregiver.unscoped.filter(national_id=f"{body}-{run_check_digit(str(body))}").exists():
            body += 1000
        timed("home (the worklist)", "GET", "/")
        timed("worklist: today", "GET", "/worklists/?tab=today")
        timed("notifications", "GET", "/notifications/")
        timed("register a pregnant woman: form", "GET", "/caregivers/new/")
        timed("register a pregnant woman: search", "GET", "/caregivers/new/?q=Demo")
        response = timed(
            "register a pregnant woman: save (with household)",
            "POST",
            "/caregivers/new/",
            {
                "given_names": "Prueba",
                "paternal_surname": f"Sintética{n}",
                "maternal_surname": "Banco",
                "birth_date": "1996-05-04",
                "national_id": f"{body}-{run_check_digit(str(body))}",
                "phone": "+56 9 5555 1234",
                "schooling_years": "12",
                "territory_code": territory,
                "household_mode": "new",
                "household_code": f"BENCH-{body}",
                "address": "Calle Sintética 1",
                "vulnerability_percentile": "40",
                "confirm_new": "1",
            },
            ok=(302,),
        )
        mother = Caregiver.unscoped.get(national_id=f"{body}-{run_check_digit(str(body))}")
        timed("caregiver page", "GET", f"/caregivers/{mother.pk}/")
        assert mother.household_id is not None
        timed("household page", "GET", f"/households/{mother.household_id}/")
        timed("pregnancy: form", "GET", f"/pregnancies/new/?mother={mother.pk}")
        response = timed(
            "pregnancy: save with the EPsA",
            "POST",
            f"/pregnancies/new/?mother={mother.pk}",
            {
                "lmp_date": (today - dt_days(39 * 7)).isoformat(),
                "first_visit_date": (today - dt_days(30 * 7)).isoformat(),
                "facility_code": facility,
                "use.epsa": "on",
                "s.epsa.low_support": "on",
            },
            ok=(302,),
        )
        pregnancy = Pregnancy.unscoped.get(mother=mother)
        timed("pregnancy page (risks, referral offer)", "GET", f"/pregnancies/{pregnancy.pk}/")
        timed("birth: form", "GET", f"/pregnancies/{pregnancy.pk}/birth/")
        response = timed(
            "birth: save with the welcome kit",
            "POST",
            f"/pregnancies/{pregnancy.pk}/birth/",
            {
                "given_names": "Bebé",
                "paternal_surname": f"Sintética{n}",
                "maternal_surname": "Banco",
                "sex": "F",
                "birth_date": today.isoformat(),
                "birth_weight_g": "3300",
                "gestational_weeks": "39",
                "welcome_kit": "on",
            },
            ok=(302,),
        )
        child_url = response["Location"]
        timed("child page", "GET", child_url)
        timed("child: edit form", "GET", f"{child_url}edit/")
        timed("check-up: form", "GET", f"{child_url}check-up/")
        timed(
            "check-up: save (weight, length)",
            "POST",
            f"{child_url}check-up/",
            {"date": today.isoformat(), "m.weight_kg": "3.3", "m.length_cm": "50"},
            ok=(302,),
        )
        timed("measurements and screenings (history)", "GET", f"{child_url}records/")
        measurement = Measurement.unscoped.get(child_id=int(child_url.strip("/").split("/")[-1]), is_current=True)
        timed("correct a measurement: form", "GET", f"/measurements/{measurement.pk}/correct/")
        timed(
            "correct a measurement: save with a reason",
            "POST",
            f"/measurements/{measurement.pk}/correct/",
            {"m.weight_kg": "3.35", "m.length_cm": "50", "m.position": "", "reason": "Balanza sin tarar"},
            ok=(302,),
        )
        timed("delivery (home visit): form", "GET", f"{child_url}deliveries/new/")
        timed("parenting groups", "GET", "/groups/")
        timed("showcase child page (urgent banner)", "GET", f"/children/{family.newborn.pk}/")

    print()
    print(f"{'page':<52} {'median':>9} {'p95':>9}")
    for label, values in times.items():
        median = statistics.median(values) * 1000
        p95 = percentile(values, 0.95) * 1000
        print(f"{label:<52} {median:>7.1f}ms {p95:>7.1f}ms")


def dt_days(days: int) -> Any:
    import datetime as dt

    return dt.timedelta(days=days)


if __name__ == "__main__":
    main()
