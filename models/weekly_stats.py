"""The statistics of the weekly review: emerging themes, fix verification, NPS and repeats.

Pure functions over polars frames and numpy arrays; no warehouse, no models.

**Emerging themes.** A theme-week is compared with the theme's own trailing weeks as a
*share* of all contacts, so a busy week overall does not make every theme "emerge". With
x of N contacts this week and y of M over the trailing weeks, under "no change" x given
x + y is Binomial(x + y, N / (N + M)): the exact conditional test for two Poisson rates
(Przyborowski & Wilenski), which also accounts for the trailing rate being estimated. The
one-sided p-values of a week's themes get Benjamini-Hochberg q-values; a theme-week
emerges when q ≤ 0.01 *and* it has minimum support (x ≥ 8 contacts, observed/expected
≥ 1.5), so a large, significant but trivial rise or a tiny noisy one stays quiet. The rate
ratio's 95% CI is exact (Clopper-Pearson on x / (x + y)); the share's is Wilson's. A theme
with no contacts in the trailing weeks is *new*: tested the same way (the test needs no
trailing contacts), its rate ratio shown with half a contact in the trailing window.

**Growing sub-themes.** Beneath a top-level theme, a sub-theme *grows* when the same test,
run across the week's sub-themes, passes a lower bar (q ≤ 0.05, x ≥ 5 contacts, ratio ≥
1.5): detail that says which part of a theme moves, not an alarm of its own (alarms,
issues and emerging flags are for top-level themes).

**Fix verification.** The same conditional test, one-sided the other way: did the
theme's share fall after the fix (skipping the week the fix was marked, a grace week)
compared with the weeks before? *verified* needs p < 0.05 and a rate ratio ≤ 0.7;
*not_yet* while fewer than 2 weeks have passed after the grace week (or no clear fall
yet); *no_fall* once 3 or more weeks show no significant fall.

**NPS**: % promoters (9-10) − % detractors (0-6); a theme's NPS effect is overall NPS
minus NPS without its responses (negative: the theme costs NPS points).

**Repeat contacts**: a contact is a repeat when the same customer contacted about the same
theme in the previous 14 days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

import numpy as np
import polars as pl
from scipy import stats

Z95 = 1.959963984540054


# ---------------------------------------------------------------------- building blocks
def wilson_interval(
    successes: np.ndarray | int, trials: np.ndarray | int, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a proportion (NaN where trials is 0)."""
    x = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    z = stats.norm.ppf(0.5 + confidence / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        low = np.where(n > 0, np.clip(centre - half, 0, 1), np.nan)
        high = np.where(n > 0, np.clip(centre + half, 0, 1), np.nan)
    return low, high


def benjamini_hochberg(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values; NaN p-values stay NaN and do not count as tests."""
    p = np.asarray(p_values, dtype=np.float64)
    q = np.full(p.shape, np.nan)
    tested = np.flatnonzero(~np.isnan(p))
    if tested.size == 0:
        return q
    order = tested[np.argsort(p[tested], kind="stable")]
    m = order.size
    ranked = p[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]  # monotone from the top
    q[order] = np.minimum(ranked, 1.0)
    return q


def rate_ratio_test(
    x: np.ndarray | int,
    n: np.ndarray | int,
    y: np.ndarray | int,
    m: np.ndarray | int,
    alternative: Literal["greater", "less"] = "greater",
    confidence: float = 0.95,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Exact conditional comparison of the rate x/n with the rate y/m.

    Returns (rate_ratio, ci_low, ci_high, p_value), vectorised. The p-value is one-sided
    ("greater": x/n above y/m). A rate ratio with y = 0 is inf (callers may smooth it)."""
    x, n, y, m = (np.asarray(v, dtype=np.float64) for v in (x, n, y, m))
    total = x + y
    with np.errstate(divide="ignore", invalid="ignore"):
        pi0 = n / (n + m)
        exposure = m / n  # rr = pi / (1 - pi) * m / n
        if alternative == "greater":
            p = np.where(x > 0, stats.binom.sf(x - 1, total, pi0), 1.0)
        else:
            p = stats.binom.cdf(x, total, pi0)
        rr = (x / n) / (y / m)
        a = (1 - confidence) / 2
        pi_low = np.where(x > 0, stats.beta.ppf(a, x, y + 1), 0.0)
        pi_high = np.where(y > 0, stats.beta.ppf(1 - a, x + 1, y), 1.0)
        low = pi_low / (1 - pi_low) * exposure
        high = np.where(pi_high < 1, pi_high / (1 - pi_high) * exposure, np.inf)
    bad = (n <= 0) | (m <= 0)
    rr, low, high, p = (np.where(bad, np.nan, v) for v in (rr, low, high, np.clip(p, 0.0, 1.0)))
    return rr, low, high, p


def _monday(value: date | datetime) -> date:
    day = value.date() if isinstance(value, datetime) else value
    return day - timedelta(days=day.weekday())


def _fmt_p(p: float, name: str = "p") -> str:
    if np.isnan(p):
        return f"{name} n/a"
    return (
        f"{name} < 0.001" if p < 0.001 else f"{name} = {p:.3f}" if p < 0.1 else f"{name} = {p:.2f}"
    )


def _fmt_ratio(value: float) -> str:
    return "∞" if np.isinf(value) else f"{value:.2f}" if value < 10 else f"{value:.0f}"


# ------------------------------------------------------------------------- emerging
@dataclass(frozen=True)
class EmergingSettings:
    trailing_weeks: int = 6  # how far back the theme's own baseline reaches (4-8 is sensible)
    min_history_weeks: int = 3  # fewer weeks of data before this one: no test
    min_count: int = 8  # contacts this week
    min_ratio: float = 1.5  # observed / expected
    # Benjamini-Hochberg across the week's themes; 0.01 keeps a quiet week quiet about 99
    # times in 100 even with 15+ themes (0.05 would raise a false alarm most months)
    max_q: float = 0.01


EMERGING_COLUMNS = (
    "week_start",
    "theme_id",
    "volume",
    "total",
    "share",
    "share_ci_low",
    "share_ci_high",
    "trailing_volume",
    "trailing_total",
    "trailing_weeks",
    "trailing_share",
    "expected",
    "rate_ratio",
    "ratio_ci_low",
    "ratio_ci_high",
    "p_value",
    "q_value",
    "is_new",
    "is_emerging",
    "reason",
)


def emerging_themes(
    counts: pl.DataFrame,
    totals: pl.DataFrame | None = None,
    *,
    weeks: Sequence[date] | None = None,
    settings: EmergingSettings | None = None,
) -> pl.DataFrame:
    """Test every theme-week (or only ``weeks``) against the theme's trailing weeks.

    ``counts``: ``week_start`` (a date, the Monday), ``theme_id``, ``volume``; a theme
    missing from a week had 0 contacts that week. ``totals``: ``week_start``, ``total``
    (all contacts that week, themed or not); by default the sum of ``counts``. Themes are
    tested in every week from the first week they appear. Returns one row per theme-week
    with the columns of ``EMERGING_COLUMNS``."""
    s = settings or EmergingSettings()
    if s.trailing_weeks < 1 or s.min_history_weeks < 1:
        raise ValueError("trailing_weeks and min_history_weeks must be at least 1")
    counts = _weekly_frame(counts, "volume")
    if totals is None:
        totals = counts.group_by("week_start").agg(pl.col("volume").sum().alias("total"))
    totals = _weekly_frame(totals, "total", theme=False)
    total_by_week = dict(
        zip(totals["week_start"].to_list(), totals["total"].to_list(), strict=True)
    )
    all_weeks = sorted(w for w, t in total_by_week.items() if t and t > 0)
    if counts.is_empty() or not all_weeks:
        return pl.DataFrame(schema=_emerging_schema())
    themes = sorted(counts["theme_id"].unique().to_list())
    first_week = dict(
        counts.filter(pl.col("volume") > 0)
        .group_by("theme_id")
        .agg(pl.col("week_start").min())
        .iter_rows()
    )
    theme_index = {t: i for i, t in enumerate(themes)}
    week_index = {w: i for i, w in enumerate(all_weeks)}
    grid = np.zeros((len(all_weeks), len(themes)), dtype=np.int64)
    for week, theme, volume in counts.select("week_start", "theme_id", "volume").iter_rows():
        if week in week_index:
            grid[week_index[week], theme_index[theme]] += int(volume)
    week_totals = np.array([total_by_week[w] for w in all_weeks], dtype=np.int64)
    targets = set(weeks) if weeks is not None else None

    frames = []
    for wi, week in enumerate(all_weeks):
        if targets is not None and week not in targets:
            continue
        live = [t for t in themes if t in first_week and first_week[t] <= week]
        if not live:
            continue
        cols = np.array([theme_index[t] for t in live])
        start = week - timedelta(days=7 * s.trailing_weeks)
        history = [i for i, w in enumerate(all_weeks) if start <= w < week]
        x = grid[wi, cols]
        n = int(week_totals[wi])
        y = grid[history][:, cols].sum(axis=0) if history else np.zeros(len(cols), np.int64)
        m = int(week_totals[history].sum()) if history else 0
        frames.append(_test_week(week, live, x, n, y, m, len(history), s))
    if not frames:
        return pl.DataFrame(schema=_emerging_schema())
    return pl.concat(frames).sort("week_start", "theme_id")


# the bar a sub-theme passes to be shown as growing beneath its top-level theme
GROWING = EmergingSettings(min_count=5, max_q=0.05)


def growing_subthemes(
    counts: pl.DataFrame,
    totals: pl.DataFrame | None = None,
    *,
    settings: EmergingSettings = GROWING,
) -> pl.DataFrame:
    """``emerging_themes`` for sub-themes at the lower ``GROWING`` bar: ``is_growing`` and
    ``growth_reason`` instead of ``is_emerging`` and ``reason`` (worded "growing")."""
    tested = emerging_themes(counts, totals, settings=settings)
    return tested.rename({"is_emerging": "is_growing", "reason": "growth_reason"}).with_columns(
        pl.col("growth_reason")
        .str.replace(r"^emerging: ", "growing: ")
        .str.replace(r"^new but not emerging: ", "new but not growing: ")
    )


def _weekly_frame(frame: pl.DataFrame, value: str, theme: bool = True) -> pl.DataFrame:
    needed = ["week_start", value] + (["theme_id"] if theme else [])
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(f"expected columns {needed}; missing {missing}")
    out = frame.select(needed).with_columns(pl.col("week_start").cast(pl.Date))
    bad = out.filter(pl.col("week_start").dt.weekday() != 1)
    if not bad.is_empty():
        raise ValueError(f"week_start must be a Monday; got {bad['week_start'][0]}")
    if theme:
        return out.group_by("week_start", "theme_id").agg(pl.col(value).sum())
    return out.group_by("week_start").agg(pl.col(value).sum())


def _emerging_schema() -> dict[str, pl.DataType]:
    floats = {c: pl.Float64 for c in EMERGING_COLUMNS}
    floats.update(
        week_start=pl.Date,
        theme_id=pl.Int64,
        volume=pl.Int64,
        total=pl.Int64,
        trailing_volume=pl.Int64,
        trailing_total=pl.Int64,
        trailing_weeks=pl.Int64,
        is_new=pl.Boolean,
        is_emerging=pl.Boolean,
        reason=pl.String,
    )
    return floats


def _test_week(
    week: date,
    themes: list,
    x: np.ndarray,
    n: int,
    y: np.ndarray,
    m: int,
    history_weeks: int,
    s: EmergingSettings,
) -> pl.DataFrame:
    share = x / n
    low, high = wilson_interval(x, n)
    enough_history = history_weeks >= s.min_history_weeks and m > 0
    if enough_history:
        rr, rr_low, rr_high, p = rate_ratio_test(x, n, y, m, "greater")
        trailing = y / m
        expected = n * trailing
        is_new = y == 0
        # a new theme's ratio: half a contact in the empty trailing window
        rr = np.where(is_new, (x / n) / (0.5 / m), rr)
    else:
        nan = np.full(len(themes), np.nan)
        rr, rr_low, rr_high, p, trailing, expected = nan, nan, nan, nan, nan, nan
        is_new = np.zeros(len(themes), dtype=bool)
    q = benjamini_hochberg(p)
    supported = (x >= s.min_count) & (np.nan_to_num(rr, nan=0.0) >= s.min_ratio)
    emerging = enough_history & supported & (np.nan_to_num(q, nan=1.0) <= s.max_q)
    reasons = []
    for i in range(len(themes)):
        reasons.append(
            _emerging_reason(
                x[i],
                n,
                y[i],
                m,
                history_weeks,
                share[i],
                trailing[i],
                rr[i],
                rr_low[i],
                rr_high[i],
                q[i],
                bool(is_new[i]),
                bool(emerging[i]),
                enough_history,
                s,
            )
        )
    return pl.DataFrame(
        {
            "week_start": [week] * len(themes),
            "theme_id": themes,
            "volume": x.astype(np.int64),
            "total": [n] * len(themes),
            "share": share,
            "share_ci_low": low,
            "share_ci_high": high,
            "trailing_volume": y.astype(np.int64),
            "trailing_total": [m] * len(themes),
            "trailing_weeks": [history_weeks] * len(themes),
            "trailing_share": trailing,
            "expected": expected,
            "rate_ratio": rr,
            "ratio_ci_low": rr_low,
            "ratio_ci_high": rr_high,
            "p_value": p,
            "q_value": q,
            "is_new": is_new,
            "is_emerging": emerging,
            "reason": reasons,
        }
    )


def _emerging_reason(
    x, n, y, m, history_weeks, share, trailing, rr, low, high, q, is_new, emerging, history, s
) -> str:
    this_week = f"{x:,} contacts ({share:.1%} of {n:,})"
    if not history:
        return (
            f"not tested: {history_weeks} week(s) of history, needs {s.min_history_weeks}; "
            f"{this_week}"
        )
    before = f"the previous {history_weeks} weeks"
    if is_new:
        if emerging:
            return f"new: {this_week}, none in {before} ({_fmt_p(q, 'q')})"
        why = f"only {x} (needs {s.min_count})" if x < s.min_count else _fmt_p(q, "q")
        return f"new but not emerging: {this_week}, none in {before}; {why}"
    comparison = (
        f"{this_week} vs {trailing:.1%} over {before}: {_fmt_ratio(rr)}× "
        f"(95% CI {_fmt_ratio(low)}–{_fmt_ratio(high)})"
    )
    if emerging:
        return f"emerging: {comparison}, {_fmt_p(q, 'q')}"
    if x < s.min_count:
        return f"steady: {comparison}; below minimum support ({x} < {s.min_count} contacts)"
    if rr < s.min_ratio:
        return f"steady: {comparison}; below the {s.min_ratio:g}× minimum rise"
    return f"steady: {comparison}; not significant across the week's themes ({_fmt_p(q, 'q')})"


# --------------------------------------------------------------------- fix verification
FixStatus = Literal["verified", "not_yet", "no_fall"]


@dataclass(frozen=True)
class FixCheck:
    status: FixStatus
    before_rate: float  # the theme's share of all contacts before the fix
    after_rate: float  # ... after the grace week
    rate_ratio: float
    ratio_ci_low: float
    ratio_ci_high: float
    p_value: float  # one-sided: the share fell
    weeks_before: int
    weeks_after: int
    before_count: int
    after_count: int
    evidence: str


def _before_and_after(
    weekly: pl.DataFrame, fix_week: date, grace_weeks: int, baseline_weeks: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The baseline weeks before the fix week and the full weeks after the grace period,
    each with its ``volume`` and ``total`` (weeks without contacts left out)."""
    volumes = _weekly_frame(weekly, "volume", theme=False)
    totals = _weekly_frame(weekly, "total", theme=False)
    frame = volumes.join(totals, on="week_start").filter(pl.col("total") > 0).sort("week_start")
    after_start = fix_week + timedelta(days=7 * max(grace_weeks, 0))
    before = frame.filter(pl.col("week_start") < fix_week).tail(baseline_weeks)
    after = frame.filter(pl.col("week_start") >= after_start)
    return before, after


def _grace_text(grace_weeks: int, fix_week: date) -> str:
    """How the grace period reads in a verdict."""
    return (
        f"the fix week {fix_week.isoformat()} skipped"
        if grace_weeks == 1
        else f"{grace_weeks} grace weeks from {fix_week.isoformat()} skipped"
        if grace_weeks > 1
        else "no grace week"
    )


def verify_fix(
    weekly: pl.DataFrame,
    fixed_at: date | datetime,
    *,
    grace_weeks: int = 1,
    baseline_weeks: int = 6,
    min_after_weeks: int = 2,
    decide_after_weeks: int = 3,
    max_ratio: float = 0.7,
    alpha: float = 0.05,
) -> FixCheck:
    """Did a theme fall after the issue behind it was marked fixed?

    ``weekly``: one theme's ``week_start`` (Mondays), ``volume`` and ``total`` (all
    contacts that week). The week containing ``fixed_at`` and the ``grace_weeks`` - 1
    after it are skipped (old cases still come in); the ``baseline_weeks`` before it are
    the baseline; every full week after the grace period is the evidence."""
    if decide_after_weeks < min_after_weeks:
        raise ValueError("decide_after_weeks must be at least min_after_weeks")
    fix_week = _monday(fixed_at)
    before, after = _before_and_after(weekly, fix_week, grace_weeks, baseline_weeks)
    xb, nb = int(before["volume"].sum()), int(before["total"].sum())
    xa, na = int(after["volume"].sum()), int(after["total"].sum())
    wb, wa = before.height, after.height
    before_rate = xb / nb if nb else float("nan")
    after_rate = xa / na if na else float("nan")
    grace = _grace_text(grace_weeks, fix_week)

    def result(status: FixStatus, rr=np.nan, low=np.nan, high=np.nan, p=np.nan, text=""):
        stats = (float(rr), float(low), float(high), float(p))
        return FixCheck(status, before_rate, after_rate, *stats, wb, wa, xb, xa, text)

    if wb == 0 or xb == 0:
        return result(
            "not_yet",
            text="not yet verifiable: no contacts on this theme in the weeks before the fix "
            "to compare with",
        )
    if wa < min_after_weeks:
        return result(
            "not_yet",
            text=(
                f"not yet: {wa} full week(s) after the fix ({grace}); "
                f"{min_after_weeks} needed. Before: {before_rate:.1%} of contacts "
                f"({xb / wb:.0f} a week)."
            ),
        )
    rr, low, high, p = (float(v) for v in rate_ratio_test(xa, na, xb, nb, "less"))
    movement = (
        f"from {before_rate:.1%} of contacts ({xb / wb:.0f} a week) in the {wb} weeks before "
        f"the fix to {after_rate:.1%} ({xa / wa:.0f} a week) in the {wa} weeks after ({grace}): "
        f"rate ratio {rr:.2f} (95% CI {low:.2f}–{_fmt_ratio(high)}), one-sided {_fmt_p(p)}"
    )
    if p < alpha and rr <= max_ratio:
        return result("verified", rr, low, high, p, f"Verified: fell {movement}.")
    if wa >= decide_after_weeks:
        why = (
            f"the fall is smaller than the {1 - max_ratio:.0%} required"
            if p < alpha
            else "no significant fall"
        )
        return result("no_fall", rr, low, high, p, f"No fall: {why}; went {movement}.")
    return result(
        "not_yet",
        rr,
        low,
        high,
        p,
        f"Not yet: no clear fall after {wa} weeks; went {movement}. "
        f"Decided at {decide_after_weeks} weeks.",
    )


# ------------------------------------------------------------------------------- NPS
def _nps_scores(scores: Sequence[float] | np.ndarray | pl.Series) -> np.ndarray:
    values = np.asarray(
        scores.to_numpy() if isinstance(scores, pl.Series) else scores, dtype=np.float64
    )
    values = values[~np.isnan(values)]
    bad = values[(values < 0) | (values > 10) | (values != np.round(values))]
    if bad.size:
        raise ValueError(f"NPS scores are whole numbers 0-10; got {bad[:5].tolist()}")
    return values


def nps(scores: Sequence[float] | np.ndarray | pl.Series) -> float:
    """% promoters (9-10) − % detractors (0-6), in [-100, 100]; NaN with no scores.
    Missing scores (NaN/None) are left out."""
    values = _nps_scores(scores)
    if not values.size:
        return float("nan")
    return float(100.0 * ((values >= 9).mean() - (values <= 6).mean()))


def nps_effect(
    scores: Sequence[float] | np.ndarray | pl.Series, in_theme: Sequence[bool] | np.ndarray
) -> float:
    """Overall NPS − NPS without the theme's responses. Negative: the theme costs points
    (removing its responses would raise NPS)."""
    values = np.asarray(
        scores.to_numpy() if isinstance(scores, pl.Series) else scores, dtype=np.float64
    )
    mask = np.asarray(in_theme, dtype=bool)
    if mask.shape != values.shape:
        raise ValueError("scores and in_theme differ in length")
    overall = nps(values)
    without = nps(values[~mask])
    return float(overall - without)


def theme_nps_effects(
    frame: pl.DataFrame, *, score: str = "score", theme: str = "theme_id", key: str | None = None
) -> pl.DataFrame:
    """Per theme: responses, NPS and NPS effect, from rows of (theme, score[, key]).

    ``key`` (e.g. ``feedback_id``) makes a response counted once overall when it sits in
    several themes. Rows without a score are ignored."""
    scored = frame.filter(pl.col(score).is_not_null() & ~pl.col(score).cast(pl.Float64).is_nan())
    _nps_scores(scored[score])  # validates
    scored = scored.with_columns(
        _p=(pl.col(score) >= 9).cast(pl.Int64), _d=(pl.col(score) <= 6).cast(pl.Int64)
    )
    unique = scored.unique(subset=[key]) if key else scored
    total, promoters, detractors = unique.height, int(unique["_p"].sum()), int(unique["_d"].sum())
    per_theme = (
        (scored.unique(subset=[theme, key]) if key else scored)
        .group_by(theme)
        .agg(responses=pl.len(), _p=pl.col("_p").sum(), _d=pl.col("_d").sum())
    )
    overall = 100.0 * (promoters - detractors) / total if total else float("nan")
    rest = pl.lit(total) - pl.col("responses")
    return (
        per_theme.with_columns(
            nps=100.0 * (pl.col("_p") - pl.col("_d")) / pl.col("responses"),
            nps_without=pl.when(rest > 0)
            .then(100.0 * ((promoters - pl.col("_p")) - (detractors - pl.col("_d"))) / rest)
            .otherwise(None),
        )
        .with_columns(nps_effect=pl.lit(overall) - pl.col("nps_without"))
        .drop("_p", "_d")
        .sort(theme)
    )


# ------------------------------------------------------------------------ repeat contacts
def mark_repeat_contacts(
    frame: pl.DataFrame,
    *,
    window_days: int = 14,
    customer: str = "customer_ref",
    theme: str = "theme_id",
    at: str = "received_at",
) -> pl.DataFrame:
    """Add ``is_repeat`` and ``days_since_previous`` to contact rows.

    A contact is a repeat when the same customer contacted about the same theme earlier,
    at most ``window_days`` before (two contacts at the same instant: the one listed later
    is the repeat). Contacts without a customer never repeat. Rows keep their order."""
    if frame.is_empty():
        return frame.with_columns(
            is_repeat=pl.lit(False, dtype=pl.Boolean),
            days_since_previous=pl.lit(None, dtype=pl.Float64),
        )
    window = timedelta(days=window_days)
    ordered = (
        frame.with_row_index("_row")
        .sort([customer, theme, at, "_row"], nulls_last=True)
        .with_columns(_previous=pl.col(at).shift(1).over([customer, theme]))
        .with_columns(_gap=pl.col(at) - pl.col("_previous"))
        .with_columns(
            is_repeat=(
                pl.col(customer).is_not_null()
                & pl.col(theme).is_not_null()
                & pl.col("_gap").is_not_null()
                & (pl.col("_gap") <= window)
            ),
            days_since_previous=pl.when(pl.col(customer).is_not_null())
            .then(pl.col("_gap").dt.total_seconds() / 86_400.0)
            .otherwise(None),
        )
    )
    return ordered.sort("_row").drop("_row", "_previous", "_gap")


def repeat_shares(marked: pl.DataFrame, *, theme: str = "theme_id") -> pl.DataFrame:
    """Per theme: contacts, repeats and repeat_share, from ``mark_repeat_contacts`` output."""
    return (
        marked.group_by(theme)
        .agg(contacts=pl.len(), repeats=pl.col("is_repeat").sum())
        .with_columns(repeat_share=pl.col("repeats") / pl.col("contacts"))
        .sort(theme)
    )
