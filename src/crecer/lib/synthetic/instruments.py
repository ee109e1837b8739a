"""Synthetic screening answers, in exactly the input format each scorer of ``crecer.lib.screening`` takes.

Every instrument is drawn from a standard-normal latent value per application (the child's
development, the mother's mood): low values give risk, delay, altered or not-on-track results in the
shares stated below, calibrated on the profile's own cut-offs. A batch keeps the drawn answers as
numpy arrays and writes the JSON text (compact, keys in the scorer's order) only for the rows being
written, so millions of screenings never exist as Python strings at once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from crecer.lib import screening
from crecer.lib.screening.ecdi import ECDI2030_ITEMS, MICS_ECDI_DOMAINS, MICS_ECDI_ITEMS, cut_score
from crecer.lib.screening.epsa import SUBSTANCES
from crecer.lib.synthetic import csvio

# standard-normal quantiles of the target shares (ASSUMPTIONS, see docs/synthetic.md)
Q_03 = -1.8808  # 3%: EEDP and TEPSI delay
Q_10 = -1.2816  # 10%: Pauta Breve altered
Q_11 = -1.2265  # 11%: EEDP risk or delay
Q_13 = -1.1264  # 13%: TEPSI risk or delay
Q_18 = -0.9154  # 18%: ECDI2030 not on track

OTHER_RISKS = (
    "Sin red de apoyo",
    "Migrante reciente",
    "Embarazo no planificado con pareja ausente",
    "Antecedente de pérdida perinatal",
    "Consumo problemático en la pareja",
    "Enfermedad crónica de la madre",
)


def _bool_text(values: np.ndarray) -> np.ndarray:
    return np.where(values, "true", "false").astype(object)


def _concat(parts: list[Any], csv: bool) -> np.ndarray:
    """Element-wise concatenation of object arrays and constant strings (first and last are constants).

    With ``csv`` the result is already a quoted CSV field: the constants' quotes are doubled and the
    whole is wrapped in quotes (the arrays' values hold no quote, or the caller doubled it).
    """
    if csv:
        parts = [p.replace('"', '""') if isinstance(p, str) else p for p in parts]
        parts[0], parts[-1] = '"' + parts[0], parts[-1] + '"'
    out = parts[0]
    for part in parts[1:]:
        out = out + part
    return np.asarray(out, dtype=object)


class Batch:
    """Drawn answers of one instrument; ``flag`` marks results that are not normal."""

    code: str
    flag: np.ndarray

    def texts(self, rows: np.ndarray, csv: bool = False) -> np.ndarray:
        """The JSON inputs of ``rows`` (with ``csv``, as quoted CSV fields)."""
        raise NotImplementedError


class EedpBatch(Batch):
    """EEDP as a development coefficient entered directly: ``{"cd": 0.93}``."""

    code = "eedp"

    def __init__(self, z: np.ndarray, params: Mapping[str, Any]) -> None:
        resolved = screening.get("eedp").resolve_params(params)
        normal, risk = float(resolved["eedp_normal_min"]), float(resolved["eedp_risk_min"])
        # 3% below the risk cut-off (delay), 11% below the normal cut-off (risk or delay)
        knots_z = [-4.5, Q_03, Q_11, 0.0, 3.0]
        knots_cd = [max(risk - 0.35, 0.1), risk - 0.005, normal - 0.005, 1.0, 1.3]
        self.cd = np.clip(np.rint(np.interp(z, knots_z, knots_cd) * 100), 10, 300).astype(np.int64)
        self.flag = self.cd < round(normal * 100)
        self.table = csvio.decimal_table(int(self.cd.max(initial=0)), 2)

    def texts(self, rows: np.ndarray, csv: bool = False) -> np.ndarray:
        return _concat(['{"cd":', self.table[self.cd[rows]], "}"], csv)


class TepsiBatch(Batch):
    """TEPSI as T-scores: the total and the three subtests."""

    code = "tepsi"
    SUBTESTS = ("coordination", "language", "motor")

    def __init__(self, rng: np.random.Generator, z: np.ndarray, params: Mapping[str, Any]) -> None:
        resolved = screening.get("tepsi").resolve_params(params)
        normal, risk = float(resolved["tepsi_normal_min"]), float(resolved["tepsi_risk_min"])
        knots_t = [max(risk - 15, 5), risk - 0.5, normal - 0.5, 52.0, 75.0]
        total = np.clip(np.rint(np.interp(z, [-4.5, Q_03, Q_13, 0.0, 3.0], knots_t)), 5, 90).astype(np.int64)
        self.t = np.empty((z.size, 4), dtype=np.int64)
        self.t[:, 0] = total
        self.t[:, 1:] = np.clip(np.rint(total[:, None] + rng.normal(0.0, 5.0, size=(z.size, 3))), 5, 90)
        self.flag = total < normal
        self.table = csvio.decimal_table(100, 0)

    def texts(self, rows: np.ndarray, csv: bool = False) -> np.ndarray:
        t = self.t[rows]
        parts: list[Any] = ['{"t_total":', self.table[t[:, 0]]]
        for i, name in enumerate(self.SUBTESTS, start=1):
            parts += [f',"t_{name}":', self.table[t[:, i]]]
        return _concat([*parts, "}"], csv)


class PautaBreveBatch(Batch):
    """Pauta Breve: 4 items passed (true) or failed; altered about 10% of the time."""

    code = "pauta_breve"

    def __init__(self, rng: np.random.Generator, z: np.ndarray) -> None:
        n = z.size
        failed = np.where(z < Q_10, np.where(z < -2.3, 2, 1), 0)
        failed = np.where((z < -2.8) & (rng.random(n) < 0.5), 3, failed)
        keys = rng.random((n, 4))
        rank = np.argsort(np.argsort(keys, axis=1), axis=1)
        self.passed = rank >= failed[:, None]
        self.flag = failed > 0

    def texts(self, rows: np.ndarray, csv: bool = False) -> np.ndarray:
        p = self.passed[rows]
        return _concat(['{"items":[', *_joined([_bool_text(p[:, i]) for i in range(4)]), "]}"], csv)


def _joined(columns: list[np.ndarray], separator: str = ",") -> list[Any]:
    parts: list[Any] = []
    for i, column in enumerate(columns):
        if i:
            parts.append(separator)
        parts.append(column)
    return parts


class EpdsBatch(Batch):
    """EPDS for the mother: 10 items 0–3; positive at the profile's cut-off about 15–20% of the time,
    item 10 (self-harm) above 0 in about 1.5%."""

    code = "epds"
    OFFSETS = np.array([-0.6, -0.6, 0.4, 0.5, 0.0, 0.3, -0.3, 0.0, -0.4])
    TEMPLATE = b'{"items":[0,0,0,0,0,0,0,0,0,0]}'
    TEMPLATE_PREGNANCY = b'{"items":[0,0,0,0,0,0,0,0,0,0],"period":"pregnancy"}'

    def __init__(
        self, rng: np.random.Generator, mood: np.ndarray, params: Mapping[str, Any], pregnancy: bool = False
    ) -> None:
        n = mood.size
        p = 1.0 / (1.0 + np.exp(-(-1.55 + self.OFFSETS[None, :] + 1.05 * mood[:, None])))
        items = np.zeros((n, 10), dtype=np.int64)
        for _ in range(3):
            items[:, :9] += rng.random((n, 9)) < p
        harm = rng.random(n) < 1.0 / (1.0 + np.exp(-(-5.3 + 1.6 * mood)))
        items[:, 9] = np.where(harm, 1 + (rng.random(n) < 0.3) + (rng.random(n) < 0.1), 0)
        self.items = items
        resolved = screening.get("epds").resolve_params(params)
        cutoff = int(resolved["epds_cutoff_pregnancy" if pregnancy else "epds_cutoff"])
        self.flag = (items.sum(axis=1) >= cutoff) | harm
        self.template = self.TEMPLATE_PREGNANCY if pregnancy else self.TEMPLATE

    def texts(self, rows: np.ndarray, csv: bool = False) -> np.ndarray:
        # a fixed-width template whose ten "0" are the item scores, filled as bytes
        template = b'"' + self.template.replace(b'"', b'""') + b'"' if csv else self.template
        digits = [i for i, byte in enumerate(template) if byte == ord("0")]
        width = len(template)
        buffer = np.frombuffer(template * rows.size, dtype=np.uint8).reshape(rows.size, width).copy()
        buffer[:, digits] = 48 + self.items[rows]
        return buffer.view(f"S{width}").ravel().astype(f"U{width}").astype(object)


class Ecdi2030Batch(Batch):
    """ECDI2030: the 20 milestones as a mapping by item key; on track ~80–85% at the age's cut-score."""

    code = "ecdi2030"

    def __init__(
        self, rng: np.random.Generator, z: np.ndarray, age_days: np.ndarray, params: Mapping[str, Any]
    ) -> None:
        n = z.size
        bands = screening.get("ecdi2030").resolve_params(params)["ecdi2030_cut_scores"]
        months = np.array([screening.completed_months(int(a)) for a in np.unique(age_days)])
        cut_of = dict(zip(np.unique(age_days).tolist(), [cut_score(int(m), bands) for m in months], strict=True))
        cut = np.array([cut_of[a] for a in age_days.tolist()], dtype=np.int64)
        achieved_n = np.clip(cut + np.floor((z - Q_18) * 2.5).astype(np.int64), 0, len(ECDI2030_ITEMS))
        # easier milestones (the early ones of each domain) are achieved first
        ease = np.linspace(3.0, 1.0, len(ECDI2030_ITEMS))
        keys = rng.exponential(size=(n, len(ECDI2030_ITEMS))) / ease
        rank = np.argsort(np.argsort(keys, axis=1), axis=1)
        achieved = rank < achieved_n[:, None]
        # one unanswered item ("don't know") in 3% of the applications, among those not achieved
        missing = (rank == achieved_n[:, None]) & (rng.random(n) < 0.03)[:, None] & (achieved_n < 20)[:, None]
        self.answer = np.where(achieved, 1, np.where(missing, 2, 0)).astype(np.int8)
        self.flag = achieved_n < cut

    def texts(self, rows: np.ndarray, csv: bool = False) -> np.ndarray:
        words = np.array(["false", "true", "null"], dtype=object)
        a = self.answer[rows]
        parts: list[Any] = ['{"items":{']
        for i, key in enumerate(ECDI2030_ITEMS):
            parts += [("," if i else "") + f'"{key}":', words[a[:, i]]]
        return _concat([*parts, "}}"], csv)


class MicsEcdiBatch(Batch):
    """MICS ECDI: 10 items as a mapping by key; on track (3 of 4 domains) about 80–85% of the time."""

    code = "mics_ecdi"
    EASE = {
        "letters_10": -0.4,
        "words_4": -0.7,
        "numbers_1_10": 0.2,
        "small_object": 2.8,
        "not_too_sick": 2.5,
        "gets_along": 2.2,
        "not_aggressive": 1.3,
        "not_distracted": 1.0,
        "follows_directions": 2.5,
        "independent": 2.2,
    }

    def __init__(self, rng: np.random.Generator, z: np.ndarray, params: Mapping[str, Any]) -> None:
        n = z.size
        ease = np.array([self.EASE[k] for k in MICS_ECDI_ITEMS])
        p = 1.0 / (1.0 + np.exp(-(ease[None, :] + 1.3 * z[:, None])))
        self.answer = (rng.random((n, len(MICS_ECDI_ITEMS))) < p).astype(np.int8)
        resolved = screening.get("mics_ecdi").resolve_params(params)
        domains_on = np.zeros(n, dtype=np.int64)
        start = 0
        for domain, keys in MICS_ECDI_DOMAINS.items():
            achieved = self.answer[:, start : start + len(keys)].sum(axis=1)
            domains_on += achieved >= resolved[f"mics_ecdi_{domain}_min"]
            start += len(keys)
        self.flag = domains_on < resolved["mics_ecdi_domains_min"]

    def texts(self, rows: np.ndarray, csv: bool = False) -> np.ndarray:
        words = np.array(["false", "true"], dtype=object)
        a = self.answer[rows]
        parts: list[Any] = ['{"items":{']
        for i, key in enumerate(MICS_ECDI_ITEMS):
            parts += [("," if i else "") + f'"{key}":', words[a[:, i]]]
        return _concat([*parts, "}}"], csv)


class EpsaBatch(Batch):
    """EPsA at the first prenatal visit: the three facts known from the records (late entry after 20
    weeks, schooling up to 6 years, age 17 or less) plus drawn psychosocial risks."""

    code = "epsa"
    # columns of ``self.items``: 5 single items, 3 depressive symptoms, 4 substances, 3 violence questions
    SINGLE = ("late_entry", "low_schooling", "adolescent", "rejection", "low_support")

    def __init__(
        self,
        rng: np.random.Generator,
        late_entry: np.ndarray,
        low_schooling: np.ndarray,
        adolescent: np.ndarray,
        risk: np.ndarray,
        params: Mapping[str, Any],
    ) -> None:
        n = risk.size

        def draw(base: float, size: int = 1) -> np.ndarray:
            p = 1.0 / (1.0 + np.exp(-(np.log(base / (1.0 - base)) + 0.7 * risk)))
            return rng.random((n, size)) < p[:, None]

        depressive = draw(0.08) & (rng.random((n, 3)) < np.array([0.8, 0.5, 0.3]))
        substances = draw(0.05) & (rng.random((n, 4)) < np.array([0.8, 0.35, 0.05, 0.08]))
        violence = draw(0.04) & (rng.random((n, 3)) < np.array([0.7, 0.5, 0.3]))
        self.items = np.concatenate(
            [
                np.stack([late_entry, low_schooling, adolescent], axis=1),
                draw(0.04),
                draw(0.07),
                depressive,
                substances,
                violence,
            ],
            axis=1,
        )
        other = rng.random(n) < 0.02
        self.other = np.where(other, rng.integers(0, len(OTHER_RISKS), size=n), -1)
        present = (
            self.items[:, :5].sum(axis=1)
            + self.items[:, 5:8].any(axis=1)
            + self.items[:, 8:12].any(axis=1)
            + self.items[:, 12:15].any(axis=1)
            + other
        )
        self.score = present
        self.flag = present >= int(screening.get("epsa").resolve_params(params)["epsa_threshold"])

    def texts(self, rows: np.ndarray, csv: bool = False) -> np.ndarray:
        it = self.items[rows]
        b = [_bool_text(it[:, i]) for i in range(it.shape[1])]
        others = [json.dumps(t, ensure_ascii=False) for t in (*OTHER_RISKS, "")]
        others_text = np.array([t.replace('"', '""') if csv else t for t in others], dtype=object)
        parts: list[Any] = ["{"]
        for i, name in enumerate(self.SINGLE):
            parts += [("," if i else "") + f'"{name}":', b[i]]
        parts += [',"depressive_symptoms":[', *_joined(b[5:8]), "]"]
        parts.append(',"substance_use":{')
        for i, name in enumerate(SUBSTANCES):
            parts += [("," if i else "") + f'"{name}":', b[8 + i]]
        parts += ['},"gender_violence":[', *_joined(b[12:15]), "]"]
        parts += [',"other":', others_text[self.other[rows]], "}"]
        return _concat(parts, csv)
