"""Dates as exports write them, parsed a column at a time.

One format is chosen per column by trying the known ones on a sample, so a million rows
cost one vectorised pass. Day/month order is decided per column from the data (a day
above 12 settles it), else from ``date_order``. Offsets are converted to UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

ISO_FORMATS = [
    "%Y-%m-%dT%H:%M:%S%.f%:z",
    "%Y-%m-%dT%H:%M:%S%.fZ",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f%:z",
    "%Y-%m-%d %H:%M:%S %z",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d",
]
DMY_FORMATS = [
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d/%m/%y %H:%M",
    "%d/%m/%y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
]
MDY_FORMATS = [
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y",
    "%m/%d/%y %H:%M",
    "%m/%d/%y %I:%M %p",
    "%m/%d/%y",
    "%m-%d-%Y",
]
TEXT_FORMATS = [
    "%a %b %d %H:%M:%S %z %Y",  # Twitter
    "%a, %d %b %Y %H:%M:%S %z",  # RFC 2822
    "%d %b %Y %H:%M",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d, %Y %H:%M",
    "%b %d, %Y",
    "%B %d, %Y",
    "%b %d %Y",
    "%d-%b-%Y",
    "%d-%b-%y",
]
ALL_FORMATS = ISO_FORMATS + DMY_FORMATS + MDY_FORMATS + TEXT_FORMATS
_SAMPLE = 500


@dataclass
class DateParse:
    values: pl.Series  # Datetime("us"), UTC, null where unparseable or empty
    share_parsed: float  # of the non-empty values
    notes: list[str] = field(default_factory=list)


def _try(values: pl.Series, fmt: str, naive_tz: str = "UTC") -> pl.Series:
    try:
        parsed = values.str.to_datetime(fmt, strict=False, time_unit="us")
    except (pl.exceptions.ComputeError, pl.exceptions.InvalidOperationError):
        return pl.Series(values.name, [None] * values.len(), pl.Datetime("us"))
    if isinstance(parsed.dtype, pl.Datetime) and parsed.dtype.time_zone is not None:
        parsed = parsed.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
    elif naive_tz != "UTC":
        # a time without an offset is the exporting system's local time
        parsed = (
            parsed.dt.replace_time_zone(naive_tz, ambiguous="earliest", non_existent="null")
            .dt.convert_time_zone("UTC")
            .dt.replace_time_zone(None)
        )
    # %Y happily reads "18" as the year 18: such a format is the wrong one for this column
    year = parsed.dt.year()
    return parsed.set((year < 1900) | (year > 2200), None)


def parse_date_column(raw: pl.Series, date_order: str = "auto", naive_tz: str = "UTC") -> DateParse:
    values = raw.cast(pl.String).str.strip_chars()
    present = values.is_not_null() & (values != "")
    n_present = int(present.sum())
    if n_present == 0:
        return DateParse(pl.Series(raw.name, [None] * raw.len(), pl.Datetime("us")), 0.0)
    sample = values.filter(present).head(_SAMPLE)
    scores = {fmt: int(_try(sample, fmt).is_not_null().sum()) for fmt in ALL_FORMATS}
    ranked = [fmt for fmt in sorted(ALL_FORMATS, key=lambda f: -scores[f]) if scores[fmt] > 0]
    notes: list[str] = []
    if not ranked:
        return DateParse(pl.Series(raw.name, [None] * raw.len(), pl.Datetime("us")), 0.0)
    ranked = _order_day_month(values.filter(present), ranked, scores, date_order, notes)
    result = _try(values, ranked[0], naive_tz)
    # rows in another format (a hand-edited cell, a second system) get the runners-up
    for fmt in ranked[1:4]:
        missing = result.is_null() & present
        if not missing.any():
            break
        result = pl.select(
            pl.when(missing).then(_try(values, fmt, naive_tz)).otherwise(result)
        ).to_series()
    share = float((result.is_not_null() & present).sum()) / n_present
    return DateParse(result.alias(raw.name), share, notes)


def _order_day_month(
    values: pl.Series, ranked: list[str], scores: dict[str, int], order: str, notes: list[str]
) -> list[str]:
    best = ranked[0]
    if best not in DMY_FORMATS and best not in MDY_FORMATS:
        return ranked
    twin = best.replace("%d", "%D").replace("%m", "%d").replace("%D", "%m")
    if twin not in scores:
        return ranked
    full_best = int(_try(values, best).is_not_null().sum())
    full_twin = int(_try(values, twin).is_not_null().sum())
    if full_best != full_twin:
        winner = best if full_best > full_twin else twin
    else:
        wanted = "dmy" if order == "dmy" else "mdy" if order == "mdy" else None
        if wanted is None:
            winner = twin if best in DMY_FORMATS else best  # month first, as most tools export
            notes.append(
                "dates are ambiguous (no day above 12): read month-first; "
                "set VOC_DATE_ORDER=dmy if they are day-first"
            )
        else:
            winner = best if (best in DMY_FORMATS) == (wanted == "dmy") else twin
    if winner != best:
        ranked = [winner] + [f for f in ranked if f != winner]
    notes.append(f"dates read as {'day' if winner in DMY_FORMATS else 'month'}-first ({winner})")
    return ranked
