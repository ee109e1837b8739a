"""Taking frozen snapshots: every figure of a period with the definitions' versions and a fingerprint
of the data. Later data changes never alter a snapshot; recomputing makes a new revision, audited with
who asked and why."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from crecer import conf
from crecer.audit.models import Action
from crecer.audit.trail import Actor, record
from crecer.core.bulk import BulkInsert
from crecer.lib.periods import Period
from crecer.monitoring import definitions, engine, quality, reading
from crecer.monitoring.models import Snapshot, SnapshotValue
from crecer.referrals.models import Referral
from crecer.registry.models import Child, Pregnancy
from crecer.tracking.models import Delivery, Encounter, Measurement, Screening

STABLE_ATTEMPTS = 3


class SnapshotUnstable(RuntimeError):
    """Data kept changing during every attempt to compute a snapshot."""


def data_marker() -> dict[str, Any]:
    """What the data looked like: the last audited write (every write is audited) and table sizes."""
    return {
        "audit_last_write_id": reading.write_marker(),
        "counts": {
            "children": Child.unscoped.count(),
            "pregnancies": Pregnancy.unscoped.count(),
            "encounters": Encounter.unscoped.count(),
            "measurements": Measurement.unscoped.count(),
            "screenings": Screening.unscoped.count(),
            "deliveries": Delivery.unscoped.count(),
            "referrals": Referral.unscoped.count(),
        },
    }


def fingerprint(marker: dict[str, Any], figures: list[engine.Figure]) -> str:
    """SHA-256 over the data marker and every figure: the same data and definitions give the same print."""
    digest = hashlib.sha256(json.dumps(marker, sort_keys=True).encode())
    for f in sorted(figures, key=lambda f: (f.indicator, f.territory_id, f.group)):
        digest.update(
            f"{f.indicator}@{f.version}|{f.territory_id}|{f.group}|{f.numerator}|{f.denominator}|{f.value}\n".encode()
        )
    return digest.hexdigest()


def compute_all(period: Period, *, disaggregate: bool = True) -> list[engine.Figure]:
    return engine.compute_many((*definitions.indicators(), *quality.QUALITY), period, disaggregate=disaggregate)


def take(actor: Actor, period: Period, reason: str = "") -> Snapshot:
    """Compute and freeze every figure of ``period`` (a new revision if one exists)."""
    started = time.perf_counter()
    marker = data_marker()
    for _attempt in range(STABLE_ATTEMPTS):
        figures = compute_all(period)
        # Indicators may be computed on parallel connections: if data was written meanwhile, their
        # figures could come from different moments; compute again until nothing changed.
        last_write = reading.write_marker()
        if last_write == marker["audit_last_write_id"]:
            break
        marker = data_marker()
    else:
        raise SnapshotUnstable(_("The data kept changing while the figures were computed; try again later."))
    seconds = time.perf_counter() - started
    profile = conf.profile()
    with transaction.atomic():
        last = Snapshot.objects.filter(period=period.code).aggregate(m=Max("revision"))["m"] or 0
        snapshot = Snapshot.objects.create(
            period=period.code,
            revision=last + 1,
            profile=profile.id,
            profile_version=profile.version,
            definitions={i.code: i.version for i in (*definitions.indicators(), *quality.QUALITY)},
            fingerprint=fingerprint(marker, figures),
            data_marker=marker,
            created_by=actor.user,
            reason=reason[:300],
            seconds=round(seconds, 2),
        )
        BulkInsert(SnapshotValue).write(
            {
                "snapshot_id": snapshot.pk,
                "indicator": f.indicator,
                "version": f.version,
                "territory_id": f.territory_id,
                "group": f.group,
                "numerator": f.numerator,
                "denominator": f.denominator,
                "value": f.value,
            }
            for f in figures
        )
        record(
            actor,
            Action.CREATE,
            snapshot,
            after={
                "period": period.code,
                "revision": snapshot.revision,
                "figures": len(figures),
                "fingerprint": snapshot.fingerprint,
            },
            note=reason or ("recomputation" if last else "first snapshot"),
        )
    return snapshot
