"""Trends to a horizon against numpy's least squares, on known series."""

from __future__ import annotations

import math

import numpy as np
import pytest

from crecer.lib import projections as p


def _lstsq(xs, ys):
    a = np.column_stack([np.ones(len(xs)), np.asarray(xs, dtype=float)])
    (intercept, slope), *_ = np.linalg.lstsq(a, np.asarray(ys, dtype=float), rcond=None)
    return float(intercept), float(slope)


def test_linear_matches_lstsq_and_band_from_residuals():
    xs = [2019.5, 2020.5, 2021.5, 2022.5, 2023.5, 2024.5]
    ys = [10.0, 12.5, 13.0, 16.0, 17.5, 19.0]
    fitted = p.fit(xs, ys, p.LINEAR)
    intercept, slope = _lstsq(xs, ys)
    assert fitted.slope == pytest.approx(slope, rel=1e-9)
    assert fitted.intercept == pytest.approx(intercept, rel=1e-9)
    residuals = np.asarray(ys) - (intercept + slope * np.asarray(xs))
    s = math.sqrt(float((residuals**2).sum()) / 4)
    (point,) = p.project(fitted, [2030])
    x0 = 2030.5
    expected = intercept + slope * x0
    half = (
        2.776 * s * math.sqrt(1 + 1 / 6 + (x0 - np.mean(xs)) ** 2 / float(((np.asarray(xs) - np.mean(xs)) ** 2).sum()))
    )
    assert point.year == 2030
    assert point.value == pytest.approx(expected)
    assert point.low == pytest.approx(expected - half)
    assert point.high == pytest.approx(expected + half)
    assert point.low < point.value < point.high


def test_exact_line_is_projected_exactly_with_no_spread():
    xs = [2020.5, 2021.5, 2022.5]
    fitted = p.fit(xs, [0.2, 0.3, 0.4], p.LINEAR, share=True)
    (point,) = p.project(fitted, [2025])
    assert point.value == pytest.approx(0.7)
    assert point.low == pytest.approx(0.7) and point.high == pytest.approx(0.7)
    # a share never leaves [0, 1]: 2030 would be 1.2 on the line
    assert p.project(fitted, [2030])[0].value == 1.0


def test_logistic_is_the_line_of_the_logits():
    xs = [2020.5, 2021.5, 2022.5, 2023.5]
    ys = [0.40, 0.52, 0.61, 0.72]
    fitted = p.fit(xs, ys, p.LOGISTIC)
    intercept, slope = _lstsq(xs, [math.log(y / (1 - y)) for y in ys])
    assert fitted.slope == pytest.approx(slope, rel=1e-9)
    (point,) = p.project(fitted, [2030])
    assert point.value == pytest.approx(1 / (1 + math.exp(-(intercept + slope * 2030.5))))
    assert 0 < point.low < point.value < point.high < 1
    # the linear trend of the same share would pass 1 by 2030; the logistic one bends below it
    assert p.project(p.fit(xs, ys, p.LINEAR, share=True), [2030])[0].value == 1.0
    assert point.value < 1


def test_one_point_is_a_constant_without_band():
    (point,) = p.project(p.fit([2024.5], [0.55], p.LINEAR, share=True), [2030])
    assert (point.value, point.low, point.high) == (0.55, 0.55, 0.55)


def test_two_points_have_no_band_and_flat_series_no_spread():
    (point,) = p.project(p.fit([2023.5, 2024.5], [10.0, 12.0]), [2026])
    assert point.value == pytest.approx(16.0) and point.low == point.high == point.value
    flat = p.project(p.fit([2020.5, 2021.5, 2022.5, 2023.5], [5.0] * 4), [2030])[0]
    assert (flat.value, flat.low, flat.high) == (5.0, 5.0, 5.0)


def test_shares_of_zero_and_one_are_taken_near_them():
    fitted = p.fit([2020.5, 2021.5, 2022.5], [0.0, 0.5, 1.0], p.LOGISTIC)
    assert fitted.slope == pytest.approx((p.logit(1.0) - p.logit(0.0)) / 2)
    assert p.logit(1.0) == pytest.approx(math.log(0.999 / 0.001))
    point = p.project(fitted, [2030])[0]
    assert 0.99 < point.value <= 1.0 and point.low >= 0.99


def test_refusals_and_target():
    with pytest.raises(p.ProjectionError):
        p.fit([], [])
    with pytest.raises(p.ProjectionError):
        p.fit([2020.5], [1.5], p.LOGISTIC)
    assert p.reaches(0.8, 0.75) and not p.reaches(0.7, 0.75)
    assert p.reaches(5.0, 6.0, "lower")
    assert p.t975(4) == 2.776 and p.t975(100) == 1.96
    assert p.default_method([0.1, 0.9], share=True) == p.LOGISTIC
    assert p.default_method([10, 20], share=False) == p.LINEAR
