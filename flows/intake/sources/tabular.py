"""Tabular exports (CSV/TSV, XLSX, JSON, JSONL, Parquet) → records.

Surveys and complaints arrive as exports from real tools: Qualtrics and SurveyMonkey (two
or three header rows), Zendesk and Freshdesk tickets, the CFPB complaint database, a CRM.
Columns are found by the names those tools use, matched case-insensitively and inside
longer headers ("Consumer complaint narrative" is a text column), or named by the user
with ``--map role=column``. Columns voc has no role for are kept as JSON attributes, except
those that hold personal data (names, e-mail and IP addresses, locations), which are
withheld. Parsing is vectorised with polars: a million rows is the normal case.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath

import polars as pl

from flows.intake.sources.base import (
    RECORD_SCHEMA,
    ParsedSource,
    ParseOptions,
    QuarantineLog,
    UndecodableError,
    decode_text,
    empty_records,
    excerpt,
    plain_utf8,
    strip_utf8_boms,
    suffix,
    whole_file_rejected,
)
from flows.intake.sources.dates import parse_date_column
from warehouse.contract import SCORE_KINDS

TABULAR_SUFFIXES = {
    ".csv",
    ".tsv",
    ".tab",
    ".txt",
    ".xlsx",
    ".xlsm",
    ".xls",
    ".json",
    ".jsonl",
    ".ndjson",
    ".parquet",
}
ROLES = ("text", "id", "date", "score", "score_kind", "customer", "language", "subject")
MAX_JSON_DEPTH = 64

# Vocabulary per role, most specific first. Phrases match whole tokens inside a header.
_TEXT_WORDS = [
    "consumer complaint narrative",
    "verbatim",
    "narrative",
    "comment",
    "comments",
    "feedback",
    "description",
    "complaint",
    "body",
    "message",
    "text",
    "review",
    "verified reviews",
    "utterance",
    "open ended response",
    "primary reason",
    "reason",
    "why",
    "tell us",
    "anything else",
    "improve",
    "details",
    "content",
    "query",
    "request",
    "transcript",
]
# company-written or internal text is not what the customer said
_TEXT_EXCLUDE = {"company", "agent", "staff", "internal", "resolution", "answer", "reply", "public"}
_ID_RECORD_WORDS = {
    "complaint",
    "ticket",
    "case",
    "response",
    "respondent",
    "record",
    "feedback",
    "survey",
    "message",
    "interaction",
    "conversation",
    "review",
    "tweet",
    "submission",
    "contact",
    "call",
    "entry",
    "incident",
}
_ID_EXCLUDE = {
    "customer",
    "requester",
    "user",
    "agent",
    "collector",
    "assignee",
    "group",
    "organization",
    "organisation",
    "company",
    "brand",
    "product",
    "external",
    "author",
    "recipient",
    "parent",
    "reply",
    "in",
    "thread",
    "account",
    "member",
    "client",
    "import",
}
_DATE_WORDS = [
    "date received",
    "received",
    "created at",
    "created",
    "submitted",
    "recorded date",
    "response date",
    "responded",
    "end date",
    "completed",
    "timestamp",
    "datetime",
    "start date",
    "opened",
    "date",
    "time",
]
_DATE_EXCLUDE = {"sent", "due", "updated", "resolved", "closed", "modified", "last", "birth", "dob"}
_SCORE_WORDS: list[tuple[str, str]] = [
    ("nps score", "nps"),
    ("nps", "nps"),
    ("recommend", "nps"),
    ("likelihood", "nps"),
    ("csat", "csat"),
    ("satisfaction", "csat"),
    ("satisfied", "csat"),
    ("ces", "ces"),
    ("effort", "ces"),
    ("rating", "rating"),
    ("stars", "rating"),
    ("star", "rating"),
    ("score", "rating"),
]
_SCORE_EXCLUDE = {
    "group",
    "category",
    "segment",
    "type",
    "label",
    "bucket",
    "class",
    "sentiment",
    "confidence",
}
_CUSTOMER_WORDS = [
    "customer email",
    "requester email",
    "recipientemail",
    "recipient email",
    "email address",
    "email",
    "e mail",
    "customer id",
    "customer",
    "client id",
    "member id",
    "account id",
    "requester id",
    "requester",
    "contact id",
    "contact",
    "author id",
    "user id",
    "user",
    "phone",
    "msisdn",
    "mobile",
    "screen name",
    "username",
    "user name",
    "handle",
]
# identifiers a record may carry beside the customer column, that name the same customer
_CUSTOMER_ALSO_WORDS = [
    "email",
    "e mail",
    "phone",
    "mobile",
    "msisdn",
    "telephone",
    "account no",
    "account number",
    "account id",
    "customer id",
    "customer number",
]
_CUSTOMER_EXCLUDE = {
    "agent",
    "assignee",
    "company",
    "collector",
    "staff",
    "timezone",
    "zone",
    "location",
    "time",
    "date",
    "count",
}
_LANGUAGE_WORDS = ["language", "userlanguage", "lang", "locale"]
_SUBJECT_WORDS = ["subject", "title", "summary", "headline"]
# columns that are personal data: never stored as attributes
_PERSONAL = re.compile(
    r"\b(e ?mail|email address|first name|last name|full name|name|phone|mobile|msisdn|ip address|"
    r"ipaddress|latitude|longitude|locationlatitude|locationlongitude|address|street|postcode|"
    r"post code|date of birth|dob|recipientfirstname|recipientlastname|recipientemail|requester|"
    r"ssn|passport)\b"
)
_BINARY_GOOD = {"good", "yes", "satisfied", "positive", "thumbs up", "happy", "1", "true"}
_BINARY_BAD = {
    "bad",
    "no",
    "unsatisfied",
    "dissatisfied",
    "negative",
    "thumbs down",
    "unhappy",
    "0",
    "false",
}
_BINARY_NONE = {"offered", "unoffered", "not offered", "n/a", "na", "none", ""}
_LEADING_NUMBER = r"^\s*([-+]?\d+(?:[.,]\d+)?)\s*(?:$|[-–:/(]|\s+[A-Za-z])"


def tokens(label: str) -> list[str]:
    """Lower-case word tokens of a header; camelCase and snake_case split."""
    label = re.sub(r"([a-z])([A-Z])", r"\1 \2", label)
    return re.findall(r"[a-z0-9]+", label.lower())


def _has_phrase(toks: list[str], phrase: str) -> bool:
    words = phrase.split()
    n = len(words)
    return any(toks[i : i + n] == words for i in range(len(toks) - n + 1))


@dataclass
class Table:
    """Rows as strings with one label per column; ``row_numbers`` are 1-based data rows."""

    labels: list[str]
    body: pl.DataFrame  # columns c0..cN, all pl.String
    row_numbers: pl.Series
    quarantine: QuarantineLog = field(default_factory=QuarantineLog)
    notes: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return self.body.height + len(self.quarantine)


@dataclass
class ColumnRoles:
    columns: dict[str, int]  # role -> column index
    score_kind: str | None = None
    # other columns naming the same customer (a phone beside the e-mail, an account
    # number): hashed as identity links, and otherwise treated as before
    also: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class MappingError(ValueError):
    """``--map`` names a column the file does not have."""


# --------------------------------------------------------------------------------------
# reading each format into a Table
# --------------------------------------------------------------------------------------
def read_table(name: str, data: bytes) -> Table:
    ext = suffix(name)
    if ext in {".xlsx", ".xlsm", ".xls"}:
        return _read_excel(data)
    if ext == ".parquet":
        return _read_parquet(data)
    if ext in {".jsonl", ".ndjson"}:
        return _read_jsonl(data)
    if ext == ".json":
        return _read_json(data)
    return _read_delimited(data, tab=ext in {".tsv", ".tab"})


def _string_frame(rows: list[list[str | None]], width: int) -> pl.DataFrame:
    columns = {f"c{i}": [row[i] if i < len(row) else None for row in rows] for i in range(width)}
    return pl.DataFrame(columns, schema={f"c{i}": pl.String() for i in range(width)})


def sniff_delimiter(text: str) -> str:
    sample = text[:65536]
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        first = sample.split("\n", 1)[0]
        counts = {d: first.count(d) for d in ",;\t|"}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def _read_delimited(data: bytes, *, tab: bool) -> Table:
    head = plain_utf8(data)
    if head is not None:
        # UTF-8 as read: polars takes the bytes (less any byte-order marks) as they are;
        # the text is decoded only if the file must be walked line by line
        text, notes, raw = None, [], strip_utf8_boms(data)
    else:
        text, encoding = decode_text(data)
        notes = [] if encoding in ("utf-8", "ascii") else [f"decoded as {encoding}"]
        text = text.lstrip("\ufeff")
        head, raw = text[:65536], text.encode("utf-8")
    separator = "\t" if tab else sniff_delimiter(head.lstrip("\ufeff"))
    if separator != ",":
        notes.append(f"fields separated by {separator!r}")
    try:
        grid = pl.read_csv(
            io.BytesIO(raw),
            has_header=False,
            infer_schema=False,
            separator=separator,
            quote_char='"',
        )
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as exc:
        if text is None:
            text = raw.decode("utf-8")
        if isinstance(exc, pl.exceptions.NoDataError) or not text.strip():
            return Table([], pl.DataFrame(), pl.Series("row", [], pl.Int64), notes=notes)
        # a malformed line somewhere: walk the file record by record to isolate it
        return _read_delimited_slowly(text, separator, notes)
    if grid.height == 0:
        return Table([], pl.DataFrame(), pl.Series("row", [], pl.Int64), notes=notes)
    grid = grid.rename({old: f"c{i}" for i, old in enumerate(grid.columns)})
    labels = [v if v is not None else "" for v in grid.row(0)]
    body = grid.slice(1)
    return Table(labels, body, pl.Series("row", range(1, body.height + 1), pl.Int64), notes=notes)


def _read_delimited_slowly(text: str, separator: str, notes: list[str]) -> Table:
    csv.field_size_limit(2**31 - 1)
    log = QuarantineLog()
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=separator, quotechar='"', strict=False
    )
    rows: list[list[str | None]] = []
    numbers: list[int] = []
    labels: list[str] | None = None
    data_row = 0
    try:
        for record in reader:
            if labels is None:
                labels = record
                continue
            if not any(cell.strip() for cell in record):
                continue
            data_row += 1
            if len(record) > len(labels):
                log.add(
                    data_row,
                    "malformed_line",
                    f"malformed line: {len(record)} fields where the header has {len(labels)} "
                    "(an unquoted delimiter or a stray quote)",
                    separator.join(record),
                )
                continue
            rows.append([cell if cell != "" else None for cell in record])
            numbers.append(data_row)
    except csv.Error as exc:
        data_row += 1
        log.add(data_row, "malformed_line", f"unreadable from here on: {exc}", text[-2000:])
    labels = labels or []
    frame = _string_frame(rows, len(labels))
    # an unterminated quote swallows the rest of the file into one field: that is malformed
    if frame.height:
        longest = frame.select(pl.max_horizontal(pl.all().str.len_chars().fill_null(0))).to_series()
        swallowed = (longest > 100_000) & pl.Series([("\n" in (r[-1] or "")) for r in rows])
        if swallowed.any():
            for idx in swallowed.arg_true().to_list():
                log.add(
                    numbers[idx],
                    "malformed_line",
                    "unterminated quote: the field runs to the end of the file",
                    rows[idx],
                )
            keep = ~swallowed
            frame = frame.filter(keep)
            numbers = [n for n, k in zip(numbers, keep.to_list(), strict=True) if k]
    notes.append(f"{len(log)} malformed line(s) set aside")
    return Table(labels, frame, pl.Series("row", numbers, pl.Int64), log, notes)


def _read_excel(data: bytes) -> Table:
    frame = pl.read_excel(
        io.BytesIO(data),
        engine="calamine",
        has_header=False,
        infer_schema_length=0,
        drop_empty_rows=True,
        raise_if_empty=False,
    )
    if frame.height == 0:
        return Table([], pl.DataFrame(), pl.Series("row", [], pl.Int64))
    frame = frame.select(pl.all().cast(pl.String))
    frame = frame.rename({old: f"c{i}" for i, old in enumerate(frame.columns)})
    labels = [v if v is not None else "" for v in frame.row(0)]
    body = frame.slice(1)
    return Table(labels, body, pl.Series("row", range(1, body.height + 1), pl.Int64))


def _read_parquet(data: bytes) -> Table:
    # pyarrow decodes the file, not polars: on a damaged file (one flipped byte in the
    # footer or a page header) polars' reader panics (pyo3's PanicException, which
    # ``except Exception`` does not catch) or aborts the whole process on an impossible
    # allocation, killing an ingest of a folder. pyarrow's reader checks the metadata
    # and raises OSError/ArrowInvalid (ValueError) or MemoryError, which parse_tabular
    # quarantines as unreadable_file. The Arrow table then goes to polars in memory.
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(pa.BufferReader(data))
    labels = list(table.column_names)
    # polars takes column names through the Arrow C interface, cut at a NUL ("a\x00b" is
    # "a"): the columns get their positional names c0..cN here; the labels keep the real ones
    frame = pl.from_arrow(table.rename_columns([f"c{i}" for i in range(len(labels))]))
    body = frame.select(
        [
            (pl.col(c).cast(pl.String) if frame.schema[c] != pl.String else pl.col(c))
            if not isinstance(frame.schema[c], pl.List | pl.Struct | pl.Array)
            else pl.col(c).map_elements(lambda v: json.dumps(_jsonable(v)), return_dtype=pl.String)
            for c in frame.columns
        ]
    )
    return Table(labels, body, pl.Series("row", range(1, body.height + 1), pl.Int64))


def _jsonable(value):
    if isinstance(value, pl.Series):
        return value.to_list()
    return value


def _flatten(obj: dict, prefix: str = "", depth: int = 0) -> dict[str, str | None]:
    flat: dict[str, str | None] = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and depth < 2:
            flat.update(_flatten(value, f"{name}.", depth + 1))
        elif value is None:
            flat[name] = None
        elif isinstance(value, str):
            flat[name] = value
        elif isinstance(value, bool | int | float):
            flat[name] = str(value)
        else:
            flat[name] = json.dumps(value, ensure_ascii=False)
    return flat


def _depth_ok(value, limit: int = MAX_JSON_DEPTH) -> bool:
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return False
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return True


def _json_excerpt(obj: object) -> str:
    try:
        return json.dumps(obj, ensure_ascii=False)[:1000]
    except (RecursionError, ValueError, TypeError):
        return "<a value nested too deeply to show>"


def _rows_to_table(
    objects: list[tuple[int, object]], log: QuarantineLog, notes: list[str]
) -> Table:
    flat_rows: list[dict[str, str | None]] = []
    numbers: list[int] = []
    for number, obj in objects:
        if not isinstance(obj, dict):
            log.add(
                number,
                "malformed_record",
                f"record {number} is a JSON {type(obj).__name__}, not an object",
                _json_excerpt(obj),
            )
            continue
        if not _depth_ok(obj):
            log.add(
                number,
                "malformed_record",
                f"record {number} is nested deeper than {MAX_JSON_DEPTH} levels",
                _json_excerpt(obj),
            )
            continue
        flat_rows.append(_flatten(obj))
        numbers.append(number)
    labels: list[str] = []
    seen: set[str] = set()
    for row in flat_rows:
        for key in row:
            if key not in seen:
                seen.add(key)
                labels.append(key)
    frame = _string_frame([[row.get(label) for label in labels] for row in flat_rows], len(labels))
    return Table(labels, frame, pl.Series("row", numbers, pl.Int64), log, notes)


_LIST_KEYS = (
    "data",
    "records",
    "responses",
    "results",
    "items",
    "rows",
    "tickets",
    "complaints",
    "feedback",
    "reviews",
    "hits",
)


def _read_json(data: bytes) -> Table:
    text, _ = decode_text(data)
    log = QuarantineLog()
    try:
        doc = json.loads(text)
    except RecursionError:
        raise UndecodableError(
            f"JSON nested deeper than Python can read (limit {MAX_JSON_DEPTH} levels)"
        ) from None
    except json.JSONDecodeError as exc:
        if text.lstrip().startswith("{") and "\n{" in text:
            return _read_jsonl(data)  # JSON Lines saved as .json
        raise UndecodableError(f"is not valid JSON: {exc}") from None
    if isinstance(doc, dict):
        items = next((doc[k] for k in _LIST_KEYS if isinstance(doc.get(k), list)), None)
        if items is None:
            items = next(
                (v for v in doc.values() if isinstance(v, list) and v and isinstance(v[0], dict)),
                None,
            )
        doc = items if items is not None else [doc]
    if not isinstance(doc, list):
        raise UndecodableError(f"holds a JSON {type(doc).__name__}, not records")
    return _rows_to_table(list(enumerate(doc, start=1)), log, [])


def _read_jsonl(data: bytes) -> Table:
    text, _ = decode_text(data)
    log = QuarantineLog()
    objects: list[tuple[int, object]] = []
    number = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        number += 1
        try:
            objects.append((number, json.loads(line)))
        except RecursionError:
            log.add(
                number, "malformed_line", f"line {number}: JSON nested too deeply to read", line
            )
        except json.JSONDecodeError as exc:
            log.add(
                number,
                "malformed_line",
                f"line {number} is not valid JSON: {exc.msg} at column {exc.colno}",
                line,
            )
    return _rows_to_table(objects, log, [])


# --------------------------------------------------------------------------------------
# header rows of survey tools
# --------------------------------------------------------------------------------------
def unfold_headers(table: Table) -> Table:
    """Fold the extra header rows of Qualtrics (3 rows) and SurveyMonkey (2 rows) exports
    into one label per column, so "Q2" becomes "Q2 Why did you give that score?"."""
    body = table.body
    if body.height == 0 or not table.labels:
        return table
    first = [v or "" for v in body.row(0)]
    second = [v or "" for v in body.row(1)] if body.height > 1 else []
    skip = 0
    labels = list(table.labels)
    if second and sum(c.startswith('{"ImportId"') for c in second) >= max(1, len(second) // 2):
        labels = [
            f"{a} {b}".strip() if b and b != a else a for a, b in zip(labels, first, strict=False)
        ]
        skip = 2
        table.notes.append("Qualtrics export: 2 extra header rows folded into the column names")
    elif _looks_like_surveymonkey(first):
        carried, folded = "", []
        for label, sub in zip(labels, first, strict=False):
            carried = label or carried
            folded.append(f"{carried} {sub}".strip() if sub else carried)
        labels = folded
        skip = 1
        table.notes.append(
            "SurveyMonkey export: the second header row folded into the column names"
        )
    if not skip:
        return table
    return Table(
        labels,
        body.slice(skip),
        table.row_numbers.slice(skip) - skip,
        table.quarantine,
        table.notes,
    )


_SM_SUBLABELS = {"response", "open-ended response", "other (please specify)", "open ended response"}


def _looks_like_surveymonkey(row: list[str]) -> bool:
    filled = [c.strip().lower() for c in row if c.strip()]
    return bool(filled) and sum(c in _SM_SUBLABELS for c in filled) >= max(1, len(filled) * 0.6)


# --------------------------------------------------------------------------------------
# finding columns
# --------------------------------------------------------------------------------------
def _numeric_share(series: pl.Series) -> float:
    values = series.drop_nulls().str.strip_chars()
    values = values.filter(values != "")
    if values.len() == 0:
        return 0.0
    return float(values.str.contains(_LEADING_NUMBER).mean())


def _binary_share(series: pl.Series) -> float:
    values = series.drop_nulls().str.strip_chars().str.to_lowercase()
    values = values.filter(~values.is_in(list(_BINARY_NONE)))
    if values.len() == 0:
        return 0.0
    return float(values.is_in(list(_BINARY_GOOD | _BINARY_BAD)).mean())


def _mean_length(series: pl.Series) -> float:
    lengths = series.drop_nulls().str.len_chars()
    return float(lengths.mean() or 0.0)


def _match_map(labels: list[str], wanted: str) -> int:
    low = wanted.strip().lower()
    for i, label in enumerate(labels):
        if label.strip().lower() == low:
            return i
    for i, label in enumerate(labels):
        if label.strip().lower().startswith(low):
            return i
    raise MappingError(
        f"--map names column {wanted!r}, which this file does not have; its columns are: "
        + ", ".join(repr(label) for label in labels[:40])
    )


def find_columns(labels: list[str], body: pl.DataFrame, mapping: dict[str, str]) -> ColumnRoles:
    """Which column plays which role: by ``--map`` first, then by the names tools use."""
    toks = [tokens(label) for label in labels]
    sample = body.head(2000)
    roles = ColumnRoles(columns={})
    used: set[int] = set()
    forced_kind = _mapped_roles(labels, mapping, roles, used)

    def candidates(words, exclude, extra_ok=lambda i: True) -> list[int]:
        return _candidates(toks, used, words, exclude, extra_ok)

    def take(role: str, i: int | None) -> None:
        if i is not None:
            roles.columns[role] = i
            used.add(i)

    if "text" not in roles.columns:
        take("text", _text_column(labels, toks, sample, used, roles, candidates))
    if "subject" not in roles.columns:
        take("subject", next(iter(candidates(_SUBJECT_WORDS, _TEXT_EXCLUDE)), None))
    if "id" not in roles.columns:
        take("id", _id_column(toks, used))
    if "date" not in roles.columns:
        for i in candidates(_DATE_WORDS, _DATE_EXCLUDE):
            if parse_date_column(sample[f"c{i}"], "auto").share_parsed >= 0.5:
                take("date", i)
                break
    if "score" in roles.columns:
        roles.score_kind = forced_kind or _kind_from_label(toks[roles.columns["score"]]) or "rating"
    else:
        for i in candidates([w for w, _ in _SCORE_WORDS], _SCORE_EXCLUDE):
            kind = _kind_from_label(toks[i]) or "rating"
            column = sample[f"c{i}"]
            if _numeric_share(column) >= 0.5:
                roles.columns["score"], roles.score_kind = i, forced_kind or kind
            elif kind == "csat" and _binary_share(column) >= 0.5:
                roles.columns["score"], roles.score_kind = i, forced_kind or "csat_binary"
            else:
                continue
            used.add(i)
            break
    if forced_kind and "score" in roles.columns:
        roles.score_kind = forced_kind
    if "customer" not in roles.columns:
        take("customer", next(iter(candidates(_CUSTOMER_WORDS, _CUSTOMER_EXCLUDE)), None))
    if "customer" in roles.columns:
        roles.also = candidates(_CUSTOMER_ALSO_WORDS, _CUSTOMER_EXCLUDE)[:4]
    if "language" not in roles.columns:
        take("language", next(iter(candidates(_LANGUAGE_WORDS, set())), None))
    return roles


def _mapped_roles(
    labels: list[str], mapping: dict[str, str], roles: ColumnRoles, used: set[int]
) -> str | None:
    """Put the columns ``--map`` names in ``roles`` (and ``used``); the score kind it
    forces, if any."""
    forced_kind = mapping.get("score_kind")
    if forced_kind is not None and forced_kind not in SCORE_KINDS:
        raise MappingError(
            f"score_kind must be one of {', '.join(SCORE_KINDS)}, not {forced_kind!r}"
        )
    for role, column in mapping.items():
        if role == "score_kind":
            continue
        if role not in ROLES:
            raise MappingError(f"--map role {role!r} is unknown; roles are {', '.join(ROLES)}")
        idx = _match_map(labels, column)
        roles.columns[role] = idx
        used.add(idx)
    return forced_kind


def _candidates(
    toks: list[list[str]],
    used: set[int],
    words: Sequence,
    exclude: set[str],
    extra_ok: Callable[[int], bool] = lambda i: True,
) -> list[int]:
    """The free columns whose name holds one of ``words`` (and none of ``exclude``),
    best (earliest word) first."""
    found: list[tuple[int, int]] = []
    for i, t in enumerate(toks):
        if i in used or exclude & set(t) or not extra_ok(i):
            continue
        for rank, phrase in enumerate(words):
            if _has_phrase(t, phrase):
                found.append((rank, i))
                break
    return [i for _, i in sorted(found)]


def _text_column(
    labels: list[str],
    toks: list[list[str]],
    sample: pl.DataFrame,
    used: set[int],
    roles: ColumnRoles,
    candidates: Callable[..., list[int]],
) -> int | None:
    """The customer's words: the longest column named like free text, else the longest
    free column of long text (noted in ``roles``)."""
    text_cols = candidates(
        _TEXT_WORDS, _TEXT_EXCLUDE, lambda i: _numeric_share(sample[f"c{i}"]) < 0.5
    )
    if text_cols:
        # several text-like columns: the customer's words are the longest ones
        return max(text_cols[:6], key=lambda i: _mean_length(sample[f"c{i}"]))
    free = [
        i
        for i in range(len(labels))
        if i not in used
        and not _TEXT_EXCLUDE & set(toks[i])
        and _numeric_share(sample[f"c{i}"]) < 0.5
        and _mean_length(sample[f"c{i}"]) >= 25
    ]
    if not free:
        return None
    best = max(free, key=lambda i: _mean_length(sample[f"c{i}"]))
    roles.notes.append(f"no column is named like free text; using {labels[best]!r}, the longest")
    return best


def _id_column(toks: list[list[str]], used: set[int]) -> int | None:
    """The record id: a column named just id (or uuid, guid, key), else the first named
    like a record's number or reference."""
    best_id = None
    for i, t in enumerate(toks):
        if i in used or not t or _ID_EXCLUDE & set(t[:-1]):
            continue
        if t in (["id"], ["uuid"], ["guid"], ["key"]):
            best_id = (0, i)
            break
        if (
            t[-1] in {"id", "number", "no", "ref", "reference", "uuid"}
            and set(t[:-1]) & _ID_RECORD_WORDS
        ):
            best_id = min(best_id or (1, i), (1, i))
    return None if best_id is None else best_id[1]


def _kind_from_label(toks: list[str]) -> str | None:
    for phrase, kind in _SCORE_WORDS:
        if _has_phrase(toks, phrase):
            return kind
    return None


# --------------------------------------------------------------------------------------
# the parser
# --------------------------------------------------------------------------------------
def parse_tabular(name: str, data: bytes, channel: str, options: ParseOptions) -> ParsedSource:
    try:
        table = read_table(name, data)
    except UndecodableError as exc:
        return whole_file_rejected(
            channel, name, "undecodable_file", f"{PurePath(name).name} {exc}", data[:300]
        )
    except Exception as exc:  # a reader library refusing the bytes: the file is unreadable
        return whole_file_rejected(
            channel,
            name,
            "unreadable_file",
            f"{PurePath(name).name} could not be read as {suffix(name) or 'a table'}: {type(exc).__name__}: {exc}",
            data[:300],
        )
    table = unfold_headers(table)
    rows_read = table.rows_read  # fixed now: the log grows as rows are judged below
    labels = _dedupe_labels(table.labels)
    if not labels or table.body.height == 0:
        notes = table.notes + ["no data rows"]
        return ParsedSource(
            channel, empty_records(), table.quarantine.frame(), len(table.quarantine), notes
        )
    try:
        roles = find_columns(labels, table.body, options.mapping_dict)
    except MappingError as exc:
        # the whole file is held back: every data row is quarantined with the reason
        log = table.quarantine
        for number in table.row_numbers.to_list():
            log.add(number, "bad_mapping", str(exc))
        return ParsedSource(channel, empty_records(), log.frame(), rows_read, table.notes)
    if "text" not in roles.columns:
        reason = (
            "no column holds the customer's text; name it with --map text=COLUMN "
            f"(columns: {', '.join(repr(label) for label in labels[:30])})"
        )
        log = table.quarantine
        for number in table.row_numbers.to_list():
            log.add(number, "no_text_column", reason)
        return ParsedSource(channel, empty_records(), log.frame(), rows_read, table.notes)
    return _build_records(channel, labels, table, roles, options, rows_read)


def _dedupe_labels(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, label in enumerate(labels):
        label = (label or "").strip() or f"column_{i + 1}"
        if label in seen:
            seen[label] += 1
            label = f"{label} ({seen[label]})"
        else:
            seen[label] = 1
        out.append(label)
    return out


def _ids_are_unique(body: pl.DataFrame, id_col: str, text_col: str) -> bool:
    """An id column is trusted only if no id is shared by records with different text."""
    ids = body.select(pl.col(id_col).str.strip_chars().alias("id"), pl.col(text_col).alias("text"))
    ids = ids.filter(pl.col("id").is_not_null() & (pl.col("id") != ""))
    if ids.height == 0 or ids["id"].n_unique() == ids.height:
        return True
    clashes = (
        ids.group_by("id").agg(pl.col("text").n_unique().alias("texts")).filter(pl.col("texts") > 1)
    )
    return clashes.height == 0


def _with_subject(subject: pl.Expr, text: pl.Expr) -> pl.Expr:
    """The subject above the text (unless the text starts with it); the subject alone
    when there is no text."""
    return (
        pl.when(
            subject.is_not_null()
            & (subject != "")
            & text.is_not_null()
            & (text != "")
            & ~text.str.starts_with(subject)
        )
        .then(pl.concat_str([subject, text], separator="\n\n"))
        .when(text.is_null() | (text == ""))
        .then(subject)
        .otherwise(text)
    )


def _read_dates(
    frame: pl.DataFrame,
    bad: pl.Series,
    labels: list[str],
    col: dict[str, int],
    options: ParseOptions,
    log: QuarantineLog,
    notes: list[str],
) -> tuple[pl.DataFrame, pl.Series]:
    """Parse the date column into ``received_at``, quarantining (and marking ``bad``) the
    rows whose date cannot be read or reads two ways."""
    if "date" in col:
        parsed = parse_date_column(frame["__date"], options.date_order, options.source_timezone)
        notes.extend(parsed.notes)
        failed = (
            parsed.values.is_null()
            & frame["__date"].is_not_null()
            & (frame["__date"].str.strip_chars() != "")
        )
        ambiguous = parsed.ambiguous
        for idx in failed.arg_true().to_list():
            value = excerpt(frame["__date"][idx], 60)
            if ambiguous is not None and ambiguous[idx]:
                code = "ambiguous_date"
                reason = (
                    f"ambiguous date {value!r} in column {labels[col['date']]!r}: it reads "
                    "day-first and month-first, and this file has dates written both ways "
                    "(set VOC_DATE_ORDER=dmy or mdy to choose)"
                )
            else:
                code = "bad_date"
                reason = f"unparseable date {value!r} in column {labels[col['date']]!r}"
            log.add(frame["source_ref"][idx], code, reason, frame["raw_excerpt"][idx])
        bad = bad | failed
        frame = frame.with_columns(parsed.values.alias("received_at"))
    else:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Datetime("us")).alias("received_at"))
        notes.append("no date column: records take the file's date")
    return frame, bad


def _read_scores(
    frame: pl.DataFrame,
    bad: pl.Series,
    labels: list[str],
    col: dict[str, int],
    kind: str | None,
    log: QuarantineLog,
) -> tuple[pl.DataFrame, pl.Series]:
    """Read the score column as a number (or good/bad for a binary CSAT) into ``score``
    and ``score_kind``, quarantining (and marking ``bad``) the rows whose score is not."""
    if "score" in col:
        raw_score = frame["__score"].str.strip_chars()
        if kind == "csat_binary":
            low = raw_score.str.to_lowercase()
            value = pl.select(
                pl.when(low.is_in(list(_BINARY_GOOD)))
                .then(1.0)
                .when(low.is_in(list(_BINARY_BAD)))
                .then(0.0)
                .otherwise(None)
            ).to_series()
            failed = value.is_null() & raw_score.is_not_null() & ~low.is_in(list(_BINARY_NONE))
        else:
            number = raw_score.str.extract(_LEADING_NUMBER, 1).str.replace(",", ".")
            value = number.cast(pl.Float64, strict=False)
            failed = value.is_null() & raw_score.is_not_null() & (raw_score != "")
        for idx in failed.arg_true().to_list():
            if not bad[idx]:
                log.add(
                    frame["source_ref"][idx],
                    "bad_score",
                    f"score {excerpt(raw_score[idx], 40)!r} in column {labels[col['score']]!r} is not a number",
                    frame["raw_excerpt"][idx],
                )
        bad = bad | failed
        frame = frame.with_columns(
            value.alias("score"),
            pl.when(value.is_not_null()).then(pl.lit(kind)).otherwise(None).alias("score_kind"),
        )
    else:
        frame = frame.with_columns(
            pl.lit(None, dtype=pl.Float64).alias("score"),
            pl.lit(None, dtype=pl.String).alias("score_kind"),
        )
    return frame, bad


def _attributes(labels: list[str], col: dict[str, int], notes: list[str]) -> pl.Expr:
    """Every column no role took, as JSON: kept as the record's attributes, except
    personal data (noted as withheld)."""
    roles_used = set(col.values())
    kept, withheld = [], []
    for i, label in enumerate(labels):
        if i in roles_used:
            continue
        (withheld if _PERSONAL.search(" ".join(tokens(label))) else kept).append(i)
    if withheld:
        notes.append("personal-data columns not stored: " + ", ".join(labels[i] for i in withheld))
    if kept:
        attributes = pl.struct(
            [pl.col(f"c{i}").alias(labels[i]) for i in kept]
        ).struct.json_encode()
    else:
        attributes = pl.lit(None, dtype=pl.String)
    return attributes


def _build_records(
    channel: str,
    labels: list[str],
    table: Table,
    roles: ColumnRoles,
    options: ParseOptions,
    rows_read: int,
) -> ParsedSource:
    body = table.body.with_columns(table.row_numbers.alias("__row"))
    col = roles.columns
    log = table.quarantine
    notes = table.notes + roles.notes
    notes.append(
        "columns: " + ", ".join(f"{role}={labels[i]!r}" for role, i in sorted(col.items()))
    )

    def column(role: str) -> pl.Expr:
        return pl.col(f"c{col[role]}") if role in col else pl.lit(None, dtype=pl.String)

    text = column("text").str.strip_chars()
    if "subject" in col:
        text = _with_subject(column("subject").str.strip_chars(), text)
    ident = column("id").str.strip_chars()
    if "id" in col and not _ids_are_unique(body, f"c{col['id']}", f"c{col['text']}"):
        notes.append(
            f"column {labels[col['id']]!r} gives different records the same id "
            "(rounded or reused): records are told apart by their content instead"
        )
        ident = pl.lit(None, dtype=pl.String)
    raw_cols = [pl.col(f"c{i}").fill_null("") for i in range(len(labels))]
    frame = body.select(
        text.alias("text"),
        pl.when(ident.is_not_null() & (ident != ""))
        .then(ident)
        .otherwise(pl.col("__row").cast(pl.String))
        .alias("source_ref"),
        pl.when(ident != "").then(ident).otherwise(None).alias("record_key"),
        column("date").alias("__date"),
        column("score").alias("__score"),
        column("customer").str.strip_chars().alias("customer"),
        (
            pl.concat_list([pl.col(f"c{i}").str.strip_chars() for i in roles.also])
            .list.drop_nulls()
            .list.filter(pl.element() != "")
            if roles.also
            else pl.lit(None, dtype=pl.List(pl.String))
        ).alias("customer_also"),
        column("language").str.strip_chars().str.to_lowercase().alias("language"),
        pl.concat_str(raw_cols, separator=" | ").str.slice(0, 600).alias("raw_excerpt"),
        pl.col("__row"),
        *[pl.col(f"c{i}") for i in range(len(labels))],
    )

    bad = pl.Series("bad", [False] * frame.height)
    frame, bad = _read_dates(frame, bad, labels, col, options, log, notes)
    frame, bad = _read_scores(frame, bad, labels, col, roles.score_kind, log)
    attributes = _attributes(labels, col, notes)

    good = frame.filter(~bad).with_columns(
        attributes.alias("attributes"),
        pl.lit(None, dtype=pl.String).alias("context"),
    )
    records = good.select([pl.col(name).cast(dtype) for name, dtype in RECORD_SCHEMA.items()])
    return ParsedSource(channel, records, log.frame(), rows_read, notes)
