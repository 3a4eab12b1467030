"""What every channel parser returns, and the small pieces they share.

A parser is a pure function ``parse(name, data, options) -> ParsedSource``: bytes in,
records and quarantine rows out. It never raises for bad input; whatever it cannot read
becomes a quarantine row with a reason a person can act on.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Literal

import polars as pl

from warehouse.contract import FEEDBACK

# The shape every parser produces. ``source_ref`` is what a person looks the record up by
# (its id, Message-ID, transcript file, else row number); ``record_key`` is what makes it
# the same record next time (the source's id, a Message-ID, a hash of a transcript), or
# null when only its content can tell; ``customer`` is the raw identifier (hashed later),
# ``customer_also`` the record's other identifiers of the same customer (a phone beside an
# e-mail address, an account number): hashed too, and kept only as links between them.
# The columns the feedback row has too take their type from it (warehouse/contract.py).
RECORD_SCHEMA: dict[str, pl.DataType] = {
    "source_ref": FEEDBACK["source_ref"],
    "record_key": pl.String(),
    "received_at": FEEDBACK["received_at"],
    "text": FEEDBACK["text"],
    "score": FEEDBACK["score"],
    "score_kind": FEEDBACK["score_kind"],
    "customer": pl.String(),
    "customer_also": pl.List(pl.String()),
    "language": FEEDBACK["language"],
    "context": FEEDBACK["context"],
    "attributes": FEEDBACK["attributes"],
    "raw_excerpt": pl.String(),
}
QUARANTINE_SCHEMA: dict[str, pl.DataType] = {
    "source_ref": pl.String(),
    "reason_code": pl.String(),
    "reason": pl.String(),
    "raw_excerpt": pl.String(),
}
EXCERPT_CHARS = 500


@dataclass(frozen=True)
class ParseOptions:
    """Knobs a parser may need; plain values so a parse can run on another machine."""

    mapping: tuple[tuple[str, str], ...] = ()
    date_order: Literal["auto", "dmy", "mdy"] = "auto"
    company_email_domains: tuple[str, ...] = ()
    # the zone of timestamps written without an offset (exports in local time)
    source_timezone: str = "UTC"

    @property
    def mapping_dict(self) -> dict[str, str]:
        return dict(self.mapping)


@dataclass
class ParsedSource:
    channel: str
    records: pl.DataFrame
    quarantine: pl.DataFrame
    rows_read: int
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.rows_read != self.records.height + self.quarantine.height:
            raise AssertionError(
                f"parser accounting broken: read {self.rows_read}, "
                f"records {self.records.height} + quarantined {self.quarantine.height}"
            )


class QuarantineLog:
    """Collects quarantine rows while a parser walks its input."""

    def __init__(self) -> None:
        self.rows: list[dict[str, str | None]] = []

    def add(self, source_ref: object, reason_code: str, reason: str, raw: object = None) -> None:
        self.rows.append(
            {
                "source_ref": str(source_ref),
                "reason_code": reason_code,
                "reason": reason,
                "raw_excerpt": excerpt(raw),
            }
        )

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame(self.rows, schema=QUARANTINE_SCHEMA)

    def __len__(self) -> int:
        return len(self.rows)


def excerpt(raw: object, limit: int = EXCERPT_CHARS) -> str | None:
    """The start of a raw value, as text, for a person to recognise the record by."""
    if raw is None:
        return None
    if isinstance(raw, bytes | bytearray):
        raw = bytes(raw[: limit * 4]).decode("utf-8", errors="replace")
    text = str(raw)
    if len(text) > limit:
        return text[:limit] + f"… [{len(text) - limit} more characters]"
    return text


def records_frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    """A record frame in ``RECORD_SCHEMA`` from dicts (missing keys become null)."""
    return pl.DataFrame(
        [{k: row.get(k) for k in RECORD_SCHEMA} for row in rows], schema=RECORD_SCHEMA
    )


def empty_records() -> pl.DataFrame:
    return pl.DataFrame(schema=RECORD_SCHEMA)


def whole_file_rejected(
    channel: str, name: str, reason_code: str, reason: str, raw: object = None
) -> ParsedSource:
    """The whole file is one unreadable record: quarantine it as such."""
    log = QuarantineLog()
    log.add(PurePath(name).name, reason_code, reason, raw)
    return ParsedSource(channel, empty_records(), log.frame(), rows_read=1)


class UndecodableError(ValueError):
    """Bytes that are not text in any encoding voc recognises."""


_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# encodings that customer-data exports are actually written in
_FALLBACK_ENCODINGS = ["latin_1", "iso8859_15", "cp1250", "mac_roman"]


def decode_text(data: bytes) -> tuple[str, str]:
    """``(text, encoding)``: UTF-8 (with or without BOM), UTF-16/32 with BOM, else the
    best single-byte legacy encoding (cp1252, latin-1, ...). Binary content is refused."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                raise UndecodableError(
                    f"starts with a {encoding} byte-order mark but {exc}"
                ) from exc
    if b"\x00" in data[:65536]:
        found = _maybe_utf16_without_bom(data)
        if found is not None and _control_share(found[0]) <= 0.01:
            # the codec that was used, byte order included: a caller that decodes the
            # bytes again with plain "utf-16" would read big-endian text as little-endian
            return found
        raise UndecodableError("contains NUL bytes: this is a binary file, not text")
    try:
        text, encoding = data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        try:
            # Windows-1252 is what Western exports that are not UTF-8 are written in; for
            # short texts detectors cannot tell it from its cousins, so it goes first
            text, encoding = data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            from charset_normalizer import from_bytes

            best = from_bytes(data, cp_isolation=_FALLBACK_ENCODINGS).best()
            if best is None:
                raise UndecodableError(
                    "is not UTF-8 and no legacy encoding (cp1252, latin-1, ...) fits it"
                ) from None
            text, encoding = str(best), best.encoding
    if _control_share(text) > 0.01:
        raise UndecodableError("is mostly control characters: this is a binary file, not text")
    return text, encoding


def plain_utf8(data: bytes) -> str | None:
    """The start of ``data`` as text when all of ``data`` is UTF-8 text (less any UTF-8
    byte-order mark), else None: then :func:`decode_text` decides. Checked in native code
    without decoding the whole into a Python string, which for a 150 MB export with one
    emoji costs 0.4 s and 600 MB (four bytes a character)."""
    if b"\x00" in data[:65536]:
        return None  # UTF-16 without a byte-order mark, or binary: decode_text knows
    raw = strip_utf8_boms(data)
    try:
        pl.Series([raw], dtype=pl.Binary).cast(pl.String, strict=True)
    except pl.exceptions.ComputeError:
        return None
    head = raw[:65536].decode("utf-8", errors="ignore")  # may cut a character in two
    if _control_share(head) > 0.01:
        raise UndecodableError("is mostly control characters: this is a binary file, not text")
    return head


def strip_utf8_boms(data: bytes) -> bytes:
    while data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    return data


def _maybe_utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    """``(text, "utf-16-le" | "utf-16-be")`` when ``data`` looks like UTF-16 without a BOM."""
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even_nuls = sample[0::2].count(0) / max(1, len(sample[0::2]))
    odd_nuls = sample[1::2].count(0) / max(1, len(sample[1::2]))
    encoding = "utf-16-le" if odd_nuls > 0.4 and even_nuls < 0.1 else None
    encoding = encoding or ("utf-16-be" if even_nuls > 0.4 and odd_nuls < 0.1 else None)
    if encoding is None:
        return None
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError:
        return None


def _control_share(text: str) -> float:
    sample = text[:65536]
    if not sample:
        return 0.0
    bad = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f\v")
    return bad / len(sample)


def suffix(name: str) -> str:
    return PurePath(name).suffix.lower()
