"""From parsed records to rows the warehouse can take: validate, cut, redact, identify.

Pure functions over polars frames, shared by every channel and tested without Prefect.
What fails validation goes to quarantine with a reason; nothing is dropped silently.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import polars as pl

from flows.intake.language import settle_languages
from flows.intake.pii import clean_text, customer_refs, normalise_customer, redact
from flows.intake.sources.base import QUARANTINE_SCHEMA, ParsedSource
from warehouse.clock import utc_now
from warehouse.contract import FEEDBACK, FEEDBACK_LOAD_COLUMNS, SCORE_RANGES, WHOLE_NUMBER_SCORES
from warehouse.db import sha256_hex

# the feedback row as prepared: all of it but what the load itself stamps (run, time)
FEEDBACK_COLUMNS = [c for c in FEEDBACK if c not in FEEDBACK_LOAD_COLUMNS]
LINK_SCHEMA = {"ref_a": pl.String(), "ref_b": pl.String()}
NOTE_SCHEMA = {
    "feedback_id": pl.String(),
    "source_ref": pl.String(),
    "note_code": pl.String(),
    "note": pl.String(),
}
# placeholders survey tools write when the customer left the box empty
_EMPTY_ANSWERS = [
    "n/a",
    "na",
    "none",
    "nil",
    "null",
    "-",
    "--",
    ".",
    "no comment",
    "no comments",
    "nothing",
    "no",
    "?",
]
_FUTURE_SLACK = timedelta(days=2)
_EARLIEST = datetime(1990, 1, 1)


@dataclass
class PreparedBatch:
    channel: str
    source_file: str
    feedback: pl.DataFrame  # FEEDBACK_COLUMNS, unique feedback_id
    quarantine: pl.DataFrame  # QUARANTINE_SCHEMA
    notes: pl.DataFrame  # NOTE_SCHEMA: loaded records changed on the way in
    rows_read: int
    duplicates_in_file: int
    messages: list[str] = field(default_factory=list)
    # LINK_SCHEMA: pairs of customer_refs one record gave for its customer
    links: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=LINK_SCHEMA))

    def check(self) -> None:
        total = self.feedback.height + self.duplicates_in_file + self.quarantine.height
        if total != self.rows_read:
            raise AssertionError(
                f"{self.source_file}: read {self.rows_read} but accounted for {total}"
            )


def feedback_ids(channel: str, frame: pl.DataFrame) -> pl.Series:
    """Stable ids. With a record key (the source's id, a Message-ID, a transcript's
    hash): (channel, key). Without: the content (customer, the source's own date, the
    text as received with whitespace folded) plus which repeat of that content in the
    file it is, so two identical contacts stay two rows while the same export loaded
    twice (or an overlapping one) lands on the same ids. ``frame`` needs record_key,
    customer_norm, text and the source's received_at (null when it had none).

    The id is the first 128 bits of SHA-256 over that material (hashed in native code:
    a per-row Python hash was over a second per million rows)."""
    keyless = pl.col("record_key").is_null() | (pl.col("record_key") == "")
    # the key strings are built column-wise; only the hashing itself is a Python loop
    material = frame.select(
        pl.when(keyless)
        .then(
            pl.concat_str(
                pl.lit(f"voc-feedback\x1f{channel}\x1fcontent\x1f"),
                pl.col("customer_norm").fill_null(""),
                pl.lit("\x1f"),
                pl.col("received_at").dt.strftime("%Y-%m-%dT%H:%M:%S").fill_null(""),
                pl.lit("\x1f"),
                # which repeat of the same content in this file
                pl.int_range(pl.len())
                .over(
                    [
                        keyless,
                        pl.col("customer_norm").fill_null(""),
                        pl.col("received_at").dt.strftime("%Y-%m-%dT%H:%M:%S").fill_null(""),
                        pl.col("text").str.replace_all(r"\s+", " "),
                    ]
                )
                .cast(pl.String),
                pl.lit("\x1f"),
                pl.col("text").str.replace_all(r"\s+", " "),
            )
        )
        .otherwise(
            pl.concat_str(pl.lit(f"voc-feedback\x1f{channel}\x1fid\x1f"), pl.col("record_key"))
        )
        .alias("material")
    )["material"]
    return sha256_hex(material).rename("feedback_id")


def _validation(now: datetime) -> tuple[pl.Expr, pl.Expr]:
    """(reason_code, reason) per row, null for a valid row; first failure wins."""
    text = pl.col("text")
    short = text.str.len_chars() <= 16
    empty = ~text.str.contains(r"\w") | (
        short & text.str.to_lowercase().str.strip_chars(" .!").is_in(_EMPTY_ANSWERS)
    )
    date = pl.col("received_at")
    score, kind = pl.col("score"), pl.col("score_kind")
    code = pl.when(empty).then(pl.lit("empty_text"))
    reason = pl.when(empty).then(
        pl.concat_str(
            pl.lit("no feedback text"),
            pl.when(text != "")
            .then(pl.concat_str(pl.lit(" (just "), text.str.slice(0, 20), pl.lit(")")))
            .otherwise(pl.lit("")),
        )
    )
    late = date > (now + _FUTURE_SLACK)
    early = date < _EARLIEST
    code = code.when(late | early).then(pl.lit("bad_date"))
    reason = reason.when(late).then(
        pl.concat_str(pl.lit("date "), date.dt.strftime("%Y-%m-%d"), pl.lit(" is in the future"))
    )
    reason = reason.when(early).then(
        pl.concat_str(pl.lit("date "), date.dt.strftime("%Y-%m-%d"), pl.lit(" is before 1990"))
    )
    for name, (low, high) in SCORE_RANGES.items():
        outside = (kind == name) & (
            (score < low)
            | (score > high)
            | ((score != score.round(0)) if name in WHOLE_NUMBER_SCORES else pl.lit(False))
        )
        code = code.when(outside).then(pl.lit("bad_score"))
        reason = reason.when(outside).then(
            pl.concat_str(
                pl.lit("score "),
                score.cast(pl.String),
                pl.lit(
                    f" is outside the {name.upper()} range {low:g}-{high:g}"
                    + (" (whole numbers)" if name in WHOLE_NUMBER_SCORES else "")
                ),
            )
        )
    return code.otherwise(None).alias("reason_code"), reason.otherwise(None).alias("reason")


def _customer_lookup(customers: pl.Series, key: bytes) -> pl.DataFrame:
    """customer → customer_ref for each distinct customer: most files repeat customers
    many times, and the keyed hash is a Python loop (about 0.5 s per 300k customers)."""
    distinct = customers.drop_nulls().unique()
    return pl.DataFrame(
        {"customer": distinct, "customer_ref": customer_refs(distinct, key)},
        schema={"customer": pl.String, "customer_ref": pl.String},
    )


# a file this long is prepared in parts on several threads (polars and DuckDB release the
# interpreter lock); below it the split costs more than it saves
_PARALLEL_MIN_ROWS = 100_000


def _parts(height: int) -> int:
    return max(1, min(os.cpu_count() or 1, height // _PARALLEL_MIN_ROWS))


def _by_parts(pool: ThreadPoolExecutor | None, frame: pl.DataFrame, fn, parts: int) -> list:
    """``fn`` over consecutive row slices of ``frame``, in order; one call when small."""
    if pool is None or parts <= 1:
        return [fn(frame)]
    size = -(-frame.height // parts)
    return list(pool.map(fn, [frame.slice(i * size, size) for i in range(parts)]))


def _validated(now: datetime):
    def step(part: pl.DataFrame) -> pl.DataFrame:
        part = part.with_columns(clean_text(part["text"].cast(pl.String).fill_null("")))
        if part.height:
            return part.with_columns(*_validation(now))
        return part.with_columns(
            pl.lit(None, pl.String).alias("reason_code"), pl.lit(None, pl.String).alias("reason")
        )

    return step


def with_attribute(attributes: pl.Series, key: str, codes: pl.Series) -> pl.Series:
    """JSON attribute objects with ``key`` set where ``codes`` (plain letters and digits,
    such as a region 'GB' or '419': nothing to escape) is not null."""
    frame = pl.DataFrame({"a": attributes, "c": codes})
    entry = pl.lit(f'"{key}":"') + pl.col("c") + pl.lit('"')
    merged = frame.select(
        pl.when(pl.col("c").is_null())
        .then(pl.col("a"))
        .when(pl.col("a").is_null() | (pl.col("a").str.strip_chars() == "{}"))
        .then(pl.lit("{") + entry + pl.lit("}"))
        .otherwise(pl.lit("{") + entry + pl.lit(",") + pl.col("a").str.strip_chars().str.slice(1))
    ).to_series()
    return merged.alias(attributes.name)


def _cut_and_redacted(max_text_chars: int):
    """Oversized texts cut (with a note each), PII redacted, language detected."""

    def step(part: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        cut = part["text"].str.len_chars() > max_text_chars
        notes = part.filter(cut).select(
            "feedback_id",
            "source_ref",
            pl.lit("text_cut").alias("note_code"),
            pl.concat_str(
                pl.lit("text cut from "),
                pl.col("text").str.len_chars().cast(pl.String),
                pl.lit(f" to {max_text_chars} characters"),
            ).alias("note"),
        )
        if notes.height:
            part = part.with_columns(
                pl.when(cut)
                .then(pl.col("text").str.slice(0, max_text_chars) + pl.lit(" […]"))
                .otherwise(pl.col("text"))
                .alias("text")
            )
        context = part["context"]
        if context.null_count() < context.len():
            context = redact(clean_text(context.fill_null(""))).replace("", None)
        attributes = part["attributes"]
        if attributes.null_count() < attributes.len():
            attributes = redact(attributes)
        language, region = settle_languages(part["language"], part["text"])
        if region.null_count() < region.len():  # 'en-GB' in the source: 'en', region kept
            attributes = with_attribute(attributes, "language_region", region)
        part = part.with_columns(
            redact(part["text"]).alias("text"),
            context.alias("context"),
            attributes.alias("attributes"),
            language.alias("language"),
        )
        return part, notes

    return step


def prepare(
    parsed: ParsedSource,
    *,
    source_file: str,
    file_date: datetime,
    customer_key: bytes,
    max_text_chars: int = 20_000,
    now: datetime | None = None,
) -> PreparedBatch:
    now = now or utc_now()  # received_at is stored in UTC
    parts = _parts(parsed.records.height)
    with ThreadPoolExecutor(parts + 1) if parts > 1 else nullcontext() as pool:
        # the customers' keyed hashes (a Python loop) run beside the rest (native code)
        refs = (
            pool.submit(_customer_lookup, parsed.records["customer"], customer_key)
            if pool is not None
            else None
        )
        batch = _prepare(parsed, pool, parts, source_file, file_date, max_text_chars, now)
        lookup = (
            refs.result()
            if refs is not None
            else _customer_lookup(batch.feedback["customer"], customer_key)
        )
    joined = batch.feedback.join(lookup, on="customer", how="left", maintain_order="left")
    batch.links = identity_links(joined, customer_key)
    batch.feedback = joined.select(FEEDBACK_COLUMNS)
    batch.check()
    return batch


def identity_links(frame: pl.DataFrame, key: bytes) -> pl.DataFrame:
    """``ref_a < ref_b`` for every other identifier a record gives its customer
    (``customer_also``) beside its ``customer_ref``. Only identifiers that can name one
    person link: an e-mail address, or a value with at least four digits (a phone, an
    account number); "n/a" or a bare name links nobody."""
    if "customer_also" not in frame.columns:
        return pl.DataFrame(schema=LINK_SCHEMA)
    pairs = (
        frame.select("customer_ref", "customer_also")
        .filter(pl.col("customer_ref").is_not_null() & pl.col("customer_also").is_not_null())
        .explode("customer_also")
        .drop_nulls()
    )
    if pairs.height == 0:
        return pl.DataFrame(schema=LINK_SCHEMA)
    norm = normalise_customer(pairs["customer_also"])
    usable = norm.str.contains("@").fill_null(False) | (
        norm.str.count_matches(r"\d").fill_null(0) >= 4
    )
    pairs = pairs.filter(usable)
    if pairs.height == 0:
        return pl.DataFrame(schema=LINK_SCHEMA)
    lookup = _customer_lookup(pairs["customer_also"], key).rename(
        {"customer": "customer_also", "customer_ref": "linked_ref"}
    )
    pairs = pairs.join(lookup, on="customer_also", how="left").filter(
        pl.col("linked_ref").is_not_null() & (pl.col("linked_ref") != pl.col("customer_ref"))
    )
    return (
        pairs.select(
            pl.min_horizontal("customer_ref", "linked_ref").alias("ref_a"),
            pl.max_horizontal("customer_ref", "linked_ref").alias("ref_b"),
        )
        .unique(maintain_order=True)
        .cast(LINK_SCHEMA)
    )


def _prepare(
    parsed: ParsedSource,
    pool: ThreadPoolExecutor | None,
    parts: int,
    source_file: str,
    file_date: datetime,
    max_text_chars: int,
    now: datetime,
) -> PreparedBatch:
    messages = list(parsed.notes)
    frame = pl.concat(_by_parts(pool, parsed.records, _validated(now), parts), rechunk=False)
    bad = frame.filter(pl.col("reason_code").is_not_null())
    frame = frame.filter(pl.col("reason_code").is_null()).drop(
        "reason_code", "reason", "raw_excerpt"
    )
    quarantine = [parsed.quarantine, bad.select(list(QUARANTINE_SCHEMA))]

    # ids come before the text is cut or redacted, from the source's own date; they need
    # the whole file (which repeat of the same content a record is)
    frame = frame.with_columns(normalise_customer(frame["customer"]).alias("customer_norm"))
    frame = frame.with_columns(feedback_ids(parsed.channel, frame))
    frame = frame.with_columns(pl.col("received_at").fill_null(file_date))

    done = _by_parts(pool, frame, _cut_and_redacted(max_text_chars), parts)
    frame = pl.concat([part for part, _ in done], rechunk=False)
    notes = pl.concat([n for _, n in done]) if done else pl.DataFrame(schema=NOTE_SCHEMA)
    if notes.height:
        messages.append(f"{notes.height} oversized text(s) cut to {max_text_chars} characters")
    frame = frame.with_columns(
        pl.lit(parsed.channel).alias("channel"),
        pl.lit(source_file).alias("source_file"),
    )

    before = frame.height
    frame = frame.filter(pl.col("feedback_id").is_first_distinct())
    duplicates = before - frame.height

    q = pl.concat(
        [part.select(list(QUARANTINE_SCHEMA)).cast(QUARANTINE_SCHEMA) for part in quarantine],
        how="vertical",
    )
    q = q.with_columns(redact(q["raw_excerpt"].cast(pl.String)).alias("raw_excerpt"))
    return PreparedBatch(
        channel=parsed.channel,
        source_file=source_file,
        feedback=frame.select(
            [c for c in FEEDBACK_COLUMNS if c != "customer_ref"] + ["customer", "customer_also"]
        ),
        quarantine=q,
        notes=notes.cast(NOTE_SCHEMA) if notes.height else pl.DataFrame(schema=NOTE_SCHEMA),
        rows_read=parsed.rows_read,
        duplicates_in_file=duplicates,
        messages=messages,
    )
