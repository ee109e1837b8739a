"""Human-readable registry numbers: ``<prefix>-<sequence>-<check digit>``, e.g. ``CL-0012345-8``.

One sequence for every person (children and caregivers), allocated in blocks with an atomic
``UPDATE … SET value = value + n`` so concurrent writers and bulk loads never collide. The check
digit (modulus 11, as in the Chilean RUN) catches most typing errors when a number is read out.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F

from crecer import conf
from crecer.lib.documents import run_check_digit
from crecer.registry.models import RegistryCounter

PERSON_SEQUENCE = "person"


def allocate(count: int, name: str = PERSON_SEQUENCE) -> range:
    """Reserve ``count`` consecutive sequence values and return them."""
    if count <= 0:
        return range(0)
    with transaction.atomic():
        if not RegistryCounter.objects.filter(name=name).update(value=F("value") + count):
            try:
                with transaction.atomic():
                    RegistryCounter.objects.create(name=name, value=count)
            except IntegrityError:  # another writer created it first
                RegistryCounter.objects.filter(name=name).update(value=F("value") + count)
        end = RegistryCounter.objects.get(name=name).value
    return range(end - count + 1, end + 1)


def format_number(value: int, prefix: str | None = None) -> str:
    prefix = prefix if prefix is not None else conf.profile().registry_prefix
    return f"{prefix}-{value:07d}-{run_check_digit(value)}"


def next_numbers(count: int) -> list[str]:
    prefix = conf.profile().registry_prefix
    return [format_number(v, prefix) for v in allocate(count)]


def looks_like_registry_number(text: str) -> bool:
    parts = text.strip().upper().split("-")
    return len(parts) == 3 and parts[1].isdigit() and parts[0].isalpha()
