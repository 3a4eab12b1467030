"""Weekly statistics: emerging themes, fix verification, NPS and repeat contacts."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from models.weekly_stats import (
    EMERGING_COLUMNS,
    EmergingSettings,
    benjamini_hochberg,
    emerging_themes,
    mark_repeat_contacts,
    nps,
    nps_effect,
    rate_ratio_test,
    repeat_shares,
    theme_nps_effects,
    verify_fix,
    wilson_interval,
)

MONDAY = date(2026, 9, 28)  # 2026-W40
WEEKLY_RATES = [20, 30, 45, 12, 60, 25, 8, 35, 50, 18, 40, 22, 28, 33, 15]  # 15 themes


def weeks(n: int) -> list[date]:
    return [MONDAY + timedelta(days=7 * i) for i in range(n)]


def simulate(
    n_weeks: int = 8,
    seed: int = 0,
    spike: tuple[int, int, float] | None = None,
    volume_factor: dict[int, float] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Poisson weekly counts for 15 themes plus ~300 unthemed contacts a week.
    ``spike``: (theme_id, week index, factor); ``volume_factor``: week index → everything ×."""
    rng = np.random.default_rng(seed)
    rows, totals = [], []
    for wi, week in enumerate(weeks(n_weeks)):
        scale = (volume_factor or {}).get(wi, 1.0)
        total = rng.poisson(300 * scale)
        for theme, rate in enumerate(WEEKLY_RATES, start=1):
            factor = spike[2] if spike and spike[0] == theme and spike[1] == wi else 1.0
            volume = int(rng.poisson(rate * scale * factor))
            rows.append((week, theme, volume))
            total += volume
        totals.append((week, int(total)))
    counts = pl.DataFrame(rows, schema=["week_start", "theme_id", "volume"], orient="row")
    return counts, pl.DataFrame(totals, schema=["week_start", "total"], orient="row")


# ----------------------------------------------------------------- building blocks
def test_wilson_interval_known_values():
    low, high = wilson_interval(np.array([0, 5, 10]), np.array([10, 10, 10]))
    np.testing.assert_allclose(low, [0.0, 0.2366, 0.7225], atol=1e-4)
    np.testing.assert_allclose(high, [0.2775, 0.7634, 1.0], atol=1e-4)
    low, high = wilson_interval(3, 0)
    assert np.isnan(low) and np.isnan(high)


def test_benjamini_hochberg_matches_the_hand_computation():
    q = benjamini_hochberg([0.01, 0.04, 0.03, np.nan, 0.20])
    # ranks among the 4 tested: .01→1, .03→2, .04→3, .20→4; q = min over the tail of p·m/rank
    np.testing.assert_allclose(q[[0, 2, 1, 4]], [0.04, 0.0533333, 0.0533333, 0.20], rtol=1e-6)
    assert np.isnan(q[3])
    assert benjamini_hochberg([]).size == 0


def test_rate_ratio_test_is_exact_and_two_directional():
    rr, low, high, p = rate_ratio_test(40, 1000, 100, 5000, "greater")
    assert rr == pytest.approx(2.0)
    assert low < 2.0 < high and low > 1.3
    assert p < 0.001
    _, _, _, p_less = rate_ratio_test(40, 1000, 100, 5000, "less")
    assert p_less > 0.99
    rr, low, high, p = rate_ratio_test(20, 1000, 100, 5000)
    assert rr == pytest.approx(1.0) and low < 1 < high and 0.4 < p < 0.6
    rr, _, high, p = rate_ratio_test(5, 100, 0, 600)
    assert np.isinf(rr) and np.isinf(high) and p == pytest.approx((100 / 700) ** 5)


# ------------------------------------------------------------------------- emerging
def test_a_quiet_week_flags_nothing():
    counts, totals = simulate(seed=3)
    result = emerging_themes(counts, totals)
    assert result.columns == list(EMERGING_COLUMNS)
    assert result.height == 8 * 15
    assert not result["is_emerging"].any()
    tested = result.filter(pl.col("p_value").is_not_null() & pl.col("p_value").is_not_nan())
    assert (tested["q_value"] >= tested["p_value"] - 1e-12).all()


def test_quiet_weeks_rarely_flag_anything():
    flagged_weeks = 0
    for seed in range(100):
        counts, totals = simulate(n_weeks=7, seed=1000 + seed)
        last = emerging_themes(counts, totals, weeks=[weeks(7)[-1]])
        flagged_weeks += bool(last["is_emerging"].any())
    assert flagged_weeks <= 3  # at most 3% of quiet weeks raise any alarm


def test_a_four_fold_spike_of_a_small_theme_is_flagged():
    counts, totals = simulate(seed=5, spike=(1, 7, 4.0))  # theme 1: ~20 a week
    last = emerging_themes(counts, totals, weeks=[weeks(8)[-1]])
    flagged = last.filter(pl.col("is_emerging"))
    assert flagged["theme_id"].to_list() == [1]
    row = flagged.row(0, named=True)
    assert row["rate_ratio"] > 2.5 and row["ratio_ci_low"] > 1.5
    assert row["q_value"] < 0.001 and row["trailing_weeks"] == 6
    assert row["share_ci_low"] < row["share"] < row["share_ci_high"]
    assert row["reason"].startswith("emerging: ")
    assert "vs" in row["reason"] and "× (95% CI" in row["reason"]


def test_a_busy_week_overall_is_not_an_emerging_theme():
    counts, totals = simulate(seed=6, volume_factor={7: 2.5})  # everything ×2.5 in week 7
    assert not emerging_themes(counts, totals)["is_emerging"].any()


def test_brand_new_themes():
    counts, totals = simulate(seed=7)
    last = weeks(8)[-1]
    extra = pl.DataFrame({"week_start": [last, last], "theme_id": [99, 98], "volume": [12, 3]})
    totals = totals.with_columns(
        pl.when(pl.col("week_start") == last).then(pl.col("total") + 15).otherwise(pl.col("total"))
    )
    result = emerging_themes(pl.concat([counts, extra]), totals, weeks=[last])
    new = result.filter(pl.col("theme_id") == 99).row(0, named=True)
    assert new["is_new"] and new["is_emerging"]
    assert new["trailing_volume"] == 0 and np.isfinite(new["rate_ratio"])
    assert new["reason"].startswith("new: 12 contacts")
    small = result.filter(pl.col("theme_id") == 98).row(0, named=True)
    assert small["is_new"] and not small["is_emerging"]
    assert "only 3 (needs 8)" in small["reason"]


def test_early_weeks_are_not_tested_and_say_why():
    counts, totals = simulate(n_weeks=4, seed=8, spike=(2, 2, 5.0))
    result = emerging_themes(counts, totals)
    early = result.filter(pl.col("week_start") < weeks(4)[3])
    assert not early["is_emerging"].any()
    assert early["reason"].str.starts_with("not tested: ").all()
    assert early.filter(pl.col("week_start") == weeks(4)[2])["reason"][0].startswith(
        "not tested: 2 week(s) of history, needs 3"
    )


def test_missing_theme_weeks_count_as_zero_and_totals_default_to_the_sum():
    rows = [(w, 1, 10) for w in weeks(6)] + [(w, 2, 10) for w in weeks(6)[::2]]
    counts = pl.DataFrame(rows, schema=["week_start", "theme_id", "volume"], orient="row")
    result = emerging_themes(counts)
    last = result.filter((pl.col("week_start") == weeks(6)[-1]) & (pl.col("theme_id") == 2))
    assert last["volume"][0] == 0 and last["total"][0] == 10


def test_settings_and_inputs_are_checked():
    counts, totals = simulate(n_weeks=5, seed=9, spike=(1, 4, 4.0))
    strict = EmergingSettings(min_count=500)
    assert not emerging_themes(counts, totals, settings=strict)["is_emerging"].any()
    with pytest.raises(ValueError, match="must be a Monday"):
        emerging_themes(counts.with_columns(pl.col("week_start") + timedelta(days=1)))
    with pytest.raises(ValueError, match="missing \\['volume'\\]"):
        emerging_themes(counts.rename({"volume": "n"}))
    assert emerging_themes(counts.clear()).is_empty()


# ------------------------------------------------------------------- fix verification
def theme_weeks(volumes: list[int], totals: list[int] | None = None) -> pl.DataFrame:
    totals = totals or [700] * len(volumes)
    return pl.DataFrame({"week_start": weeks(len(volumes)), "volume": volumes, "total": totals})


def test_a_fix_that_worked_is_verified():
    # the sample's story: ~42 a week, fixed at the end of week 5 (index 4), then ~5 a week
    weekly = theme_weeks([41, 44, 39, 45, 42, 6, 4, 5])
    check = verify_fix(weekly, datetime(2026, 11, 1, 17, 0))  # Sunday of week index 4
    assert check.status == "verified"
    assert (check.weeks_before, check.weeks_after) == (4, 3)
    assert check.rate_ratio < 0.3 and check.ratio_ci_high < 0.7 and check.p_value < 0.001
    assert check.before_rate == pytest.approx(169 / 2800)
    assert check.after_rate == pytest.approx(15 / 2100)
    assert check.evidence.startswith("Verified: fell from 6.0% of contacts (42 a week)")
    assert "the fix week 2026-10-26 skipped" in check.evidence


def test_too_soon_to_tell():
    weekly = theme_weeks([41, 44, 39, 45, 42, 6, 4])
    check = verify_fix(weekly, date(2026, 11, 2))  # the fix week is index 5: one week after
    assert check.status == "not_yet" and check.weeks_after == 1
    assert "2 needed" in check.evidence


def test_no_fall_after_three_weeks():
    weekly = theme_weeks([30, 28, 33, 29, 31, 30, 32, 29])
    check = verify_fix(weekly, date(2026, 10, 28))
    assert check.status == "no_fall" and check.weeks_after == 3
    assert check.evidence.startswith("No fall: no significant fall")


def test_no_clear_fall_after_two_weeks_is_not_yet():
    weekly = theme_weeks([30, 28, 33, 29, 31, 30, 29])
    assert verify_fix(weekly, date(2026, 10, 28)).status == "not_yet"


def test_a_small_but_significant_fall_is_not_a_verified_fix():
    weekly = theme_weeks([1000] * 5 + [850] * 3, totals=[20_000] * 8)
    check = verify_fix(weekly, date(2026, 10, 28))
    assert check.p_value < 0.001 and check.rate_ratio == pytest.approx(0.85)
    assert check.status == "no_fall"
    assert "smaller than the 30% required" in check.evidence


def test_shares_not_counts_decide_a_fix():
    # half as many contacts after the fix, but half as many contacts overall too
    weekly = theme_weeks([40] * 5 + [20] * 3, totals=[800] * 5 + [400] * 3)
    assert verify_fix(weekly, date(2026, 10, 28)).status == "no_fall"


def test_the_grace_week_is_skipped():
    weekly = theme_weeks([40, 40, 40, 40, 90, 3, 2, 4])  # a burst in the fix week itself
    check = verify_fix(weekly, date(2026, 10, 27))
    assert check.status == "verified" and check.weeks_before == 4


def test_no_baseline_no_verdict():
    check = verify_fix(theme_weeks([0, 0, 0, 0, 0, 0, 0]), date(2026, 10, 20))
    assert check.status == "not_yet" and "no contacts on this theme" in check.evidence


# ------------------------------------------------------------------------------ NPS
def test_nps():
    assert nps([10, 9, 8, 7, 0]) == pytest.approx(20.0)
    assert nps([10, 10]) == 100.0 and nps([0, 6]) == -100.0
    assert np.isnan(nps([]))
    assert nps(pl.Series([10, None, 0, 9])) == pytest.approx(100 / 3)
    with pytest.raises(ValueError, match="whole numbers 0-10"):
        nps([3, 11])
    with pytest.raises(ValueError, match="whole numbers 0-10"):
        nps([4.5])


def test_nps_effect_is_overall_minus_without_the_theme():
    scores = np.array([10, 10, 9, 8, 2, 1, 0, 7])
    in_theme = np.array([0, 0, 0, 0, 1, 1, 1, 0], dtype=bool)
    overall = nps(scores)
    assert nps_effect(scores, in_theme) == pytest.approx(overall - nps(scores[~in_theme]))
    assert nps_effect(scores, in_theme) < 0  # a theme of detractors costs points
    with pytest.raises(ValueError, match="differ in length"):
        nps_effect(scores, in_theme[:3])


def test_theme_nps_effects_match_the_single_theme_function():
    frame = pl.DataFrame(
        {
            "feedback_id": ["a", "b", "c", "d", "e", "f", "e"],
            "theme_id": [1, 1, 2, 2, 3, 3, 1],
            "score": [0, 3, 10, 9, 8, None, 8],
        }
    )
    effects = theme_nps_effects(frame, key="feedback_id")
    unique = frame.unique("feedback_id").filter(pl.col("score").is_not_null())
    for theme in (1, 2, 3):
        row = effects.filter(pl.col("theme_id") == theme).row(0, named=True)
        members = set(frame.filter(pl.col("theme_id") == theme)["feedback_id"])
        mask = unique["feedback_id"].is_in(list(members)).to_numpy()
        assert row["nps_effect"] == pytest.approx(nps_effect(unique["score"].to_numpy(), mask))
    assert effects.filter(pl.col("theme_id") == 1)["responses"][0] == 3


# --------------------------------------------------------------------- repeat contacts
def test_repeat_contacts_within_fourteen_days_on_the_same_theme():
    at = datetime(2026, 10, 1, 9)
    frame = pl.DataFrame(
        {
            "customer_ref": ["c1", "c1", "c1", "c1", "c2", None, None, "c3", "c3"],
            "theme_id": [1, 1, 1, 2, 1, 1, 1, 5, 5],
            "received_at": [
                at + timedelta(days=20),  # listed first, happened last: 16 days after day 4
                at,
                at + timedelta(days=4),  # 4 days after the first: a repeat
                at + timedelta(days=5),  # another theme
                at + timedelta(days=1),  # another customer
                at,
                at + timedelta(days=1),  # no customer: never a repeat
                at,
                at + timedelta(days=14),  # exactly 14 days: still a repeat
            ],
        }
    )
    marked = mark_repeat_contacts(frame)
    assert marked["is_repeat"].to_list() == [
        False,
        False,
        True,
        False,
        False,
        False,
        False,
        False,
        True,
    ]
    assert marked.columns == [*frame.columns, "is_repeat", "days_since_previous"]
    assert marked["days_since_previous"][2] == pytest.approx(4.0)
    assert marked["days_since_previous"][0] == pytest.approx(16.0)
    shares = repeat_shares(marked)
    assert shares.filter(pl.col("theme_id") == 1)["repeat_share"][0] == pytest.approx(1 / 6)


def test_repeat_marking_is_vectorised_and_fast():
    rng = np.random.default_rng(0)
    n = 200_000
    frame = pl.DataFrame(
        {
            "customer_ref": rng.integers(0, 40_000, n).astype(str),
            "theme_id": rng.integers(0, 15, n),
            "received_at": pl.datetime_range(
                datetime(2026, 1, 1), datetime(2026, 3, 1), interval="1s", eager=True
            ).sample(n, with_replacement=True, seed=1),
        }
    )
    started = time.perf_counter()
    marked = mark_repeat_contacts(frame)
    assert time.perf_counter() - started < 5
    assert 0 < marked["is_repeat"].mean() < 0.2
    assert mark_repeat_contacts(frame.clear())["is_repeat"].dtype == pl.Boolean
