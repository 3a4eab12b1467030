"""Dates as exports write them, parsed a column at a time.

The column's main format is chosen by trying the known ones on a sample, so a million
rows cost one vectorised pass; only the values that format does not read are tried one
format at a time (still vectorised, on those values only), then as ISO 8601 one by one,
so a column merged from two systems (``2019/9/24`` beside ``2023-06-27``) loads whole.

Day/month order is settled per column (one source file) from the data: values whose day
is above 12 read one way only, and the order most of them show wins. With no such value
``date_order`` decides, else month-first. Where a file shows both orders in earnest (a
merge of a US and a UK export), a value that reads both ways is ambiguous and is
reported as such instead of guessed; a value readable one way only still loads.
Offsets are converted to UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

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
# numbers on both sides of the first separator: the shapes day/month order matters for
_DAY_MONTH = r"^(\d{1,2})[/.\-](\d{1,2})[/.\-]\d{2,4}(?:[ T]|$)"
# a file shows both orders in earnest when the rarer one is above this share of the values
# that read one way only: a merge of two systems, not a stray hand-typed cell
_MIXED_ORDER_SHARE = 0.1
# what datetime.fromisoformat may read (calendar, basic and week dates)
_ISO_START = r"^\d{4}-?(?:\d{2}|W\d)"


@dataclass
class DateParse:
    values: pl.Series  # Datetime("us"), UTC, null where unparseable, ambiguous or empty
    share_parsed: float  # of the non-empty values
    notes: list[str] = field(default_factory=list)
    # True where a value reads both day-first and month-first and its file does not say
    # which (None when no value is ambiguous)
    ambiguous: pl.Series | None = None


def _no_dates(name: str, length: int) -> pl.Series:
    return pl.repeat(None, length, dtype=pl.Datetime("us"), eager=True).alias(name)


def _localise(parsed: pl.Series, naive_tz: str) -> pl.Series:
    if naive_tz == "UTC":
        return parsed
    # a time without an offset is the exporting system's local time
    return (
        parsed.dt.replace_time_zone(naive_tz, ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
        .dt.replace_time_zone(None)
    )


def _plausible(parsed: pl.Series) -> pl.Series:
    # %Y happily reads "18" as the year 18: such a format is the wrong one for the value
    year = parsed.dt.year()
    return parsed.set((year < 1900) | (year > 2200), None)


def _try(values: pl.Series, fmt: str, naive_tz: str = "UTC") -> pl.Series:
    try:
        parsed = values.str.to_datetime(fmt, strict=False, time_unit="us")
    except (pl.exceptions.ComputeError, pl.exceptions.InvalidOperationError):
        return _no_dates(values.name, values.len())
    if isinstance(parsed.dtype, pl.Datetime) and parsed.dtype.time_zone is not None:
        parsed = parsed.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
    else:
        parsed = _localise(parsed, naive_tz)
    return _plausible(parsed)


def _iso_each(values: pl.Series, naive_tz: str) -> pl.Series:
    """ISO 8601 forms no format string lists (basic, week dates, odd precisions), one by one."""
    read: list[datetime | None] = []
    aware: list[bool] = []
    for value in values.to_list():
        try:
            when = datetime.fromisoformat(value)
        except (TypeError, ValueError):
            when = None
        offset = when is not None and when.tzinfo is not None
        if offset:
            when = when.astimezone(UTC).replace(tzinfo=None)
        read.append(when)
        aware.append(offset)
    parsed = pl.Series(values.name, read, pl.Datetime("us"))
    if naive_tz != "UTC":
        parsed = pl.select(
            pl.when(pl.Series(aware)).then(parsed).otherwise(_localise(parsed, naive_tz))
        ).to_series()
    return _plausible(parsed)


def _twin(fmt: str) -> str:
    return fmt.replace("%d", "%D").replace("%m", "%d").replace("%D", "%m")


def _day_first(fmt: str) -> bool | None:
    return True if fmt in DMY_FORMATS else False if fmt in MDY_FORMATS else None


def _day_month_evidence(values: pl.Series) -> tuple[int, int, pl.Series]:
    """Values readable only day-first, only month-first, and (mask) both ways differently."""
    parts = values.str.extract_groups(_DAY_MONTH)
    first = parts.struct.field("1").cast(pl.Int32, strict=False)
    second = parts.struct.field("2").cast(pl.Int32, strict=False)
    day_first = int(((first > 12) & (second <= 12)).sum())
    month_first = int(((second > 12) & (first <= 12)).sum())
    both = ((first <= 12) & (second <= 12) & (first != second)).fill_null(False)
    return day_first, month_first, both


def _settle_order(
    day_first: int, month_first: int, date_order: str, notes: list[str]
) -> str | None:
    """ "dmy" or "mdy" for the file, or None where it shows both orders and nothing settles it."""
    wanted = date_order if date_order in ("dmy", "mdy") else None
    evidence = day_first + month_first
    if evidence and min(day_first, month_first) > _MIXED_ORDER_SHARE * evidence:
        notes.append(
            f"dates are written both day-first ({day_first} values) and month-first "
            f"({month_first})"
            + (
                f": read {wanted} as VOC_DATE_ORDER says"
                if wanted
                else ": dates that read both ways are quarantined as ambiguous"
            )
        )
        return wanted
    if evidence:
        return "dmy" if day_first > month_first else "mdy"
    if wanted:
        return wanted
    notes.append(
        "dates are ambiguous (no day above 12): read month-first; "
        "set VOC_DATE_ORDER=dmy if they are day-first"
    )
    return "mdy"


def _fallback_formats(ranked: list[str], order: str | None) -> list[str]:
    """Formats for the values the main one did not read: those the sample showed first,
    then ISO, then day/month in the file's order, then written-out months, then day/month
    the other way (which only reads what the file's order cannot: a day above 12)."""
    preferred = {"dmy": DMY_FORMATS, "mdy": MDY_FORMATS}.get(order or "", DMY_FORMATS)
    other = MDY_FORMATS if preferred is DMY_FORMATS else DMY_FORMATS
    seen = [f for f in ranked if f not in other] if order else list(ranked)
    out: list[str] = []
    for fmt in seen + ISO_FORMATS + preferred + TEXT_FORMATS + other:
        if fmt not in out:
            out.append(fmt)
    return out


def parse_date_column(raw: pl.Series, date_order: str = "auto", naive_tz: str = "UTC") -> DateParse:
    values = raw.cast(pl.String).str.strip_chars()
    present = values.is_not_null() & (values != "")
    n_present = int(present.sum())
    empty = _no_dates(raw.name, raw.len())
    if n_present == 0:
        return DateParse(empty, 0.0)
    sample = values.filter(present).head(_SAMPLE)
    scores = {fmt: int(_try(sample, fmt).is_not_null().sum()) for fmt in ALL_FORMATS}
    ranked = [fmt for fmt in sorted(ALL_FORMATS, key=lambda f: -scores[f]) if scores[fmt] > 0]
    notes: list[str] = []
    settled = False
    order: str | None = None
    ambiguous: pl.Series | None = None

    main = ranked[0] if ranked else None
    result = empty
    if main is not None and _day_first(main) is not None and _twin(main) in ALL_FORMATS:
        # both readings of the whole column: what reads one way only settles the order
        day_fmt, month_fmt = (main, _twin(main)) if _day_first(main) else (_twin(main), main)
        as_day = _try(values, day_fmt, naive_tz)
        as_month = _try(values, month_fmt, naive_tz)
        day_ok, month_ok = as_day.is_not_null(), as_month.is_not_null()
        order = _settle_order(
            int((day_ok & ~month_ok).sum()), int((month_ok & ~day_ok).sum()), date_order, notes
        )
        settled = True
        main = day_fmt if order == "dmy" else month_fmt
        result = pl.select(pl.when(month_ok).then(as_month).otherwise(as_day)).to_series()
        if order == "dmy":
            result = pl.select(pl.when(day_ok).then(as_day).otherwise(as_month)).to_series()
        elif order is None:
            ambiguous = (day_ok & month_ok & (as_day != as_month)).fill_null(False)
            result = result.set(ambiguous, None)
    elif main is not None:
        result = _try(values, main, naive_tz)

    # the values the main format did not read (another system's, a hand-edited cell):
    # tried on their own, a format at a time, so the bulk of the column costs one pass
    missing = result.is_null() & present
    if ambiguous is not None:
        missing = missing & ~ambiguous
    if missing.any():
        where = missing.arg_true()
        rest = values.gather(where)
        skip = pl.repeat(False, rest.len(), dtype=pl.Boolean, eager=True)
        if not settled or order is None:
            day_first, month_first, both = _day_month_evidence(rest)
            if not settled and (day_first or month_first or both.any()):
                order = _settle_order(day_first, month_first, date_order, notes)
            if order is None and both.any():
                skip = both
                if ambiguous is None:
                    ambiguous = pl.repeat(False, values.len(), dtype=pl.Boolean, eager=True)
                ambiguous = ambiguous.scatter(where.filter(both), True)
        read = _no_dates(raw.name, rest.len())
        todo = ~skip
        for fmt in [f for f in _fallback_formats(ranked, order) if f != main]:
            if not todo.any():
                break
            idx = todo.arg_true()
            got = _try(rest.gather(idx), fmt, naive_tz)
            ok = got.is_not_null()
            if ok.any():
                read = read.scatter(idx.filter(ok), got.filter(ok))
                todo = todo.scatter(idx.filter(ok), False)
        if todo.any():
            idx = todo.arg_true().filter(rest.gather(todo.arg_true()).str.contains(_ISO_START))
            if idx.len():
                got = _iso_each(rest.gather(idx), naive_tz)
                ok = got.is_not_null()
                read = read.scatter(idx.filter(ok), got.filter(ok))
        result = result.scatter(where, read)
    if order is not None and main is not None and _day_first(main) is not None:
        notes.append(f"dates read as {'day' if main in DMY_FORMATS else 'month'}-first ({main})")
    share = float((result.is_not_null() & present).sum()) / n_present
    if ambiguous is not None and not ambiguous.any():
        ambiguous = None
    return DateParse(result.alias(raw.name), share, notes, ambiguous)
