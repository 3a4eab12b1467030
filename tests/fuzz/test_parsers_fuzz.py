"""Fuzzing every channel's parser, and prepare() behind it (issue #8).

Each property hands ``parse_source`` bytes (arbitrary ones, or a file built to look like
its format and then damaged: cut short, a byte flipped, bytes inserted, dropped or
repeated, re-encoded in latin-1, cp1252, UTF-16...) and checks the contract of
``flows/intake/sources/base.py`` and the books of ``flows/intake/prepare.py``:

- the parser never raises, and never needs a ``parser_error`` safety net either (such a
  row means a parser raised and a last-ditch ``except`` caught it: a bug, not bad input);
- ``rows_read == records + quarantined``; records in ``RECORD_SCHEMA``, quarantine in
  ``QUARANTINE_SCHEMA``; every quarantine row has a reason code and a reason;
- ``prepare()`` never raises and ``PreparedBatch.check()`` holds (read = loaded +
  duplicate + quarantined); feedback ids are unique; the text it would load (text,
  context) holds no C0 control character other than newline and tab.

Example counts come from the Hypothesis profile (tests/fuzz/conftest.py). What the inputs
reached (records loaded, which quarantine reasons) is reported as Hypothesis events:
``pytest tests/fuzz --hypothesis-show-statistics``.
"""

from __future__ import annotations

import atexit
import base64
import csv
import io
import json
import os
import pickle
import quopri
import re
import select
import signal
import string
import struct
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest
from hypothesis import event, given, note, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from flows.intake.prepare import PreparedBatch, prepare
from flows.intake.sources.base import (
    QUARANTINE_SCHEMA,
    RECORD_SCHEMA,
    ParsedSource,
    ParseOptions,
    decode_text,
)
from flows.intake.sources.tabular import ROLES, SCORE_KINDS

# hundreds of generated files per test: the full run only, not the everyday lane
pytestmark = pytest.mark.slow

FILE_DATE = datetime(2026, 11, 2, 9, 0)
NOW = datetime(2026, 11, 20, 12, 0)
KEY = bytes(range(32))
# C0 controls other than tab and newline: never in text that reaches the warehouse
C0_BUT_TAB_NEWLINE = re.compile(r"[\x00-\x08\x0b-\x1f]")

TABULAR_EXTS = (".csv", ".tsv", ".json", ".jsonl", ".xlsx", ".parquet")
TABULAR_FILES = [(channel, ext) for channel in ("survey", "complaint") for ext in TABULAR_EXTS]
EMAIL_FILES = [("email", ".eml"), ("email", ".mbox")]
CALL_FILES = [("call", ".vtt"), ("call", ".srt"), ("call", ".json"), ("call", ".txt")]
ALL_FILES = TABULAR_FILES + EMAIL_FILES + CALL_FILES


def examples(fraction: float) -> int:
    """A share of the profile's examples, for the properties that are slow per example."""
    return max(10, int(settings().max_examples * fraction))


# ======================================================================================
# parsing in a child process
# ======================================================================================
ROOT = Path(__file__).resolve().parents[2]
# a hang detector, not a speed target: a parse that has not returned by then never will
PARSE_HANG_SECONDS = 300
_CHILD = r"""
import pickle, struct, sys, traceback

sys.path.insert(0, sys.argv[1])
from flows.intake.sources import parse_source

requests, replies = sys.stdin.buffer, sys.stdout.buffer
sys.stdout = sys.stderr  # only replies on the reply pipe


def read_exactly(n):
    data = b""
    while len(data) < n:
        chunk = requests.read(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


while (head := read_exactly(8)) is not None:
    channel, name, data, options = pickle.loads(read_exactly(struct.unpack("<Q", head)[0]))
    try:
        reply = ("returned", parse_source(channel, name, data, options))
    except BaseException as exc:  # PanicException from Rust code is a BaseException
        reply = ("raised", "".join(traceback.format_exception(exc))[-6000:])
    blob = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
    replies.write(struct.pack("<Q", len(blob)) + blob)
    replies.flush()
"""


class IsolatedParser:
    """``parse_source`` in a child process that lives across examples.

    Readers written in Rust do not always raise on a damaged file: polars' parquet reader
    panics (a ``BaseException``) or aborts the whole interpreter on a failed allocation.
    In-process, an abort would kill the test run and take Hypothesis' report of the input
    with it; here it fails one example (and Hypothesis shrinks it), a fresh child takes
    the next one, and a parse that never returns is reported as a hang."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.stderr = None
        self.stderr_mark = 0

    def start(self) -> None:
        self.stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(ROOT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            cwd=ROOT,
        )

    def stop(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()  # our own child, by its handle
            self.process.wait()
            self.process = None

    def _read(self, n: int, deadline: float) -> bytes:
        assert self.process is not None and self.process.stdout is not None
        fd = self.process.stdout.fileno()
        data = b""
        while len(data) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise TimeoutError
            chunk = os.read(fd, n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def _death(self) -> str:
        assert self.process is not None
        code = self.process.wait()
        self.process = None
        how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
        self.stderr.seek(self.stderr_mark)
        said = self.stderr.read().decode("utf-8", "replace")
        return f"{how}; it wrote:\n{said[:1500]}"

    def parse(self, channel: str, name: str, data: bytes, options: ParseOptions) -> ParsedSource:
        if self.process is None or self.process.poll() is not None:
            self.start()
        assert self.process is not None and self.process.stdin is not None
        call = f"parse_source({channel!r}, {name!r}, <{len(data)} bytes>)"
        request = pickle.dumps((channel, name, data, options), protocol=pickle.HIGHEST_PROTOCOL)
        deadline = time.monotonic() + PARSE_HANG_SECONDS
        self.stderr_mark = self.stderr.seek(0, os.SEEK_END)
        try:
            self.process.stdin.write(struct.pack("<Q", len(request)) + request)
            self.process.stdin.flush()
            head = self._read(8, deadline)
            status, value = pickle.loads(self._read(struct.unpack("<Q", head)[0], deadline))
        except (BrokenPipeError, EOFError):
            raise AssertionError(f"{call} killed the process: {self._death()}") from None
        except TimeoutError:
            self.stop()
            raise AssertionError(f"{call} hung: no answer in {PARSE_HANG_SECONDS} s") from None
        if status == "raised":
            raise AssertionError(f"{call} raised instead of quarantining:\n{value}")
        return value


PARSER = IsolatedParser()
atexit.register(PARSER.stop)


# ======================================================================================
# the properties every parse must have
# ======================================================================================
def _note(text: str) -> None:
    if currently_in_test_context():  # the plain tests share check_source
        note(text)


def _event(text: str) -> None:
    if currently_in_test_context():
        event(text)


def check_source(
    channel: str, name: str, data: bytes, options: ParseOptions = ParseOptions()
) -> tuple[ParsedSource, PreparedBatch]:
    """parse_source → checks → prepare → checks; returns both for test-specific checks."""
    _note(f"parse_source({channel!r}, {name!r}, <{len(data)} bytes>, {options!r})")
    _note(f"data[:600] = {data[:600]!r}")
    parsed = PARSER.parse(channel, name, data, options)  # must not raise, abort or hang
    assert isinstance(parsed, ParsedSource)
    assert parsed.channel == channel
    records, quarantine = parsed.records, parsed.quarantine
    crashed = quarantine.filter(pl.col("reason_code") == "parser_error")
    assert crashed.height == 0, "a parser raised; its safety net quarantined it:\n" + "\n".join(
        f"{row['source_ref']}: {row['reason']}" for row in crashed.head(3).iter_rows(named=True)
    )
    assert parsed.rows_read >= 0
    assert parsed.rows_read == records.height + quarantine.height
    assert list(records.schema.items()) == list(RECORD_SCHEMA.items())
    assert list(quarantine.schema.items()) == list(QUARANTINE_SCHEMA.items())
    assert records["source_ref"].null_count() == 0
    for column in ("source_ref", "reason_code", "reason"):
        assert quarantine[column].null_count() == 0, f"a quarantine row without {column}"
    for column in ("reason_code", "reason"):
        assert (quarantine[column].str.strip_chars() != "").all(), f"an empty {column}"
    # what the inputs reached, for --hypothesis-show-statistics
    _event("records loaded" if records.height else "no records")
    for code in sorted(set(quarantine["reason_code"].to_list())):
        _event(f"quarantined: {code}")

    batch = prepare(parsed, source_file=name, file_date=FILE_DATE, customer_key=KEY, now=NOW)
    batch.check()
    assert batch.rows_read == parsed.rows_read
    feedback = batch.feedback
    assert feedback.height + batch.duplicates_in_file + batch.quarantine.height == batch.rows_read
    assert feedback["feedback_id"].null_count() == 0
    assert feedback["feedback_id"].n_unique() == feedback.height
    assert feedback["received_at"].null_count() == 0
    assert feedback["text"].null_count() == 0
    for column in ("text", "context"):
        dirty = [v for v in feedback[column].to_list() if v and C0_BUT_TAB_NEWLINE.search(v)]
        assert not dirty, f"control characters in the prepared {column}: {dirty[0][:200]!r}"
    q = batch.quarantine
    assert q["reason_code"].null_count() == 0 and q["reason"].null_count() == 0
    assert (q["reason_code"] != "").all() and (q["reason"].str.strip_chars() != "").all()
    return parsed, batch


# ======================================================================================
# building blocks
# ======================================================================================
# fmt: off
CONTROL = ["\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b[31m", "\x1b", "\x7f", "\x85"]
MARKUP = [
    "\r", "\n", "\r\n", "\n\n", "\t", '"', '""', "'", ",", ";", "|", "\\",
    "\ufeff", "\u202e", "\u202d", "\u2066", "\u200f", "\u200b", "\u2028", "\u2029", "\ufffd",
    "\U0001f600", "\U0001f469\u200d\U0001f469\u200d\U0001f467", "e\u0301", "\U0001d54f",
    "\U0010ffff", "\ue000", "\ue001", "\ue0010\ue001", "\ue00199\ue001",
    "-->", "<v Agent>", "</v>", "=?utf-8?b?", "?=", "From ", ">From ", "=\n", "=3D", "%s",
    "{}", "[", "]", "{", "}", "null", "NaN", "=1+1", "&amp;", "&#0;", "<br>", "<script>",
]
WORDS = [
    *"the app keeps crashing my bill is wrong engineer never came thank you please fix it and".split(),
    *"der Techniker kam nicht le colis n'est pas arrivé \U0001f621 !!! n/a - ?".split(),
    "jane.doe@example.com", "+44 20 7946 0958", "4111 1111 1111 1111", "SW1A 1AA",
    "12 Baker Street", "GB82 WEST 1234 5698 7654 32", "123-45-6789", "sort code 12-34-56",
    "account number 12345678",
]
HUGE = [
    "x" * 100_000,
    "The bill is wrong and nobody calls me back. " * 2_300,
    '"' + "a" * 100_000,
    "é\U0001f600" * 50_000,
    "a,b;c\td|e\n" * 10_000,
    "\n" * 100_000,
    "word " * 20_000 + "\r",
]
DATE_FORMATS = [
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S+05:30",
    "%Y-%m-%dT%H:%M:%S.%f-08:00", "%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%m/%d/%Y %I:%M %p",
    "%d.%m.%Y %H:%M", "%a, %d %b %Y %H:%M:%S +0000", "%b %d, %Y", "%d-%b-%y", "%Y/%m/%d",
    "%d %B %Y",
]
BAD_DATES = [
    "", " ", "yesterday", "2026-02-30", "00/00/0000", "9999-99-99", "2026-11-02 25:61",
    "1700000000", "1e9", "NaT", "null", "13/13/2026", "0001-01-01", "2026-11-02T10:00:00+99:00",
]
SCORES = [
    "9 - Extremely likely", "10 (Extremely likely)", "0 - Not at all likely", "4,5", "4.5",
    "Yes", "No", "Satisfied", "thumbs up", "", " ", "N/A", "five", "\u0663", "\uff11\uff10",
    "1e400", "-0",
]
CUSTOMERS = [
    "jane.doe@example.com", "JANE.DOE@Example.COM ", "+44 20 7946 0958", "07700 900123",
    "C-10024", "", "Jane Doe", "@", "a@b", "ünïcødé@exämple.com",
]
# column kinds: the header names tools use
HEADERS = {
    "text": ["Comment", "comments", "Consumer complaint narrative", "Verbatim", "feedback",
             "Why did you give that score?", "What could we improve?", "description"],
    "id": ["id", "Response ID", "Ticket ID", "Complaint ID", "uuid", "key"],
    "date": ["Date received", "created_at", "timestamp", "Submitted", "date", "RecordedDate"],
    "score": ["NPS", "score", "CSAT", "Rating", "How likely are you to recommend us?",
              "Customer Effort", "Satisfied?"],
    "customer": ["customer", "email", "Customer Email", "Requester", "phone", "user id"],
    "language": ["language", "lang", "locale"],
    "subject": ["Subject", "title", "Summary"],
    "other": ["Store", "Product", "Agent reply", "Name", "IP Address", "Q3", "",
              "Company response"],
}
# fmt: on

tiny_text = st.text(max_size=8)  # any characters, control characters included
# printable text, runs of markup and odd characters, and now and then control characters
# (a file that is mostly control characters is refused as binary, rightly, and reaches
# nothing further)
printable = st.text(st.characters(exclude_categories=["Cc", "Cs"]), max_size=30)
tiny_printable = st.text(st.characters(exclude_categories=["Cc", "Cs"]), max_size=8)
noise = st.one_of(
    printable,
    printable,
    printable,
    st.lists(st.one_of(st.sampled_from(MARKUP), tiny_printable), max_size=6).map("".join),
    st.lists(
        st.one_of(st.sampled_from(CONTROL), st.sampled_from(MARKUP), tiny_text), max_size=6
    ).map("".join),
)
# words a customer writes, with markup and odd characters between them
sentence = st.lists(
    st.one_of(
        st.sampled_from(WORDS), st.sampled_from(WORDS), st.sampled_from(MARKUP), tiny_printable
    ),
    max_size=14,
).map(" ".join)
date_text = st.one_of(
    st.builds(
        lambda moment, fmt: moment.strftime(fmt),
        st.datetimes(min_value=datetime(1800, 1, 1), max_value=datetime(2300, 12, 31)),
        st.sampled_from(DATE_FORMATS),
    ),
    st.sampled_from(BAD_DATES),
)
VALUES: dict[str, st.SearchStrategy[str]] = {
    "text": sentence,
    "id": st.one_of(
        st.integers(0, 40).map(str),
        st.uuids().map(str),
        st.sampled_from(["", " ", "1.0", "1e3", "000", "R_1", "\x1b"]),
    ),
    "date": date_text,
    "score": st.one_of(st.integers(-3, 12).map(str), st.floats().map(str), st.sampled_from(SCORES)),
    "customer": st.sampled_from(CUSTOMERS),
    "language": st.sampled_from(["en", "EN", "en-GB", "de_DE", "fr", "", "xx", "zh-Hant"]),
    "subject": sentence,
    "other": noise,
}
KIND_NAMES = list(HEADERS)


def header_for(kind: str) -> st.SearchStrategy[str]:
    names = st.sampled_from(HEADERS[kind])
    return st.one_of(names, names, names, noise)


def cell_for(kind: str) -> st.SearchStrategy[str]:
    values = VALUES[kind]
    return st.one_of(values, values, values, values, noise)


@st.composite
def tables(draw, min_rows: int = 1, max_rows: int = 8) -> tuple[list[str], list[list[str]]]:
    """A header row and ragged data rows of strings; columns of a known kind, mostly."""
    kinds = draw(st.lists(st.sampled_from(KIND_NAMES), min_size=1, max_size=6))
    if "text" not in kinds and draw(st.integers(0, 3)):  # most exports have a text column
        kinds.insert(draw(st.integers(0, len(kinds))), "text")
    labels = [draw(header_for(kind)) for kind in kinds]
    rows: list[list[str]] = []
    for _ in range(draw(st.integers(min_rows, max_rows))):
        row = [draw(cell_for(kind)) for kind in kinds]
        shape = draw(st.integers(0, 9))
        if shape == 0:
            row = row[: draw(st.integers(0, len(row)))]
        elif shape == 1:
            row.append(draw(noise))
        rows.append(row)
    if rows and rows[0] and draw(st.integers(0, 11)) == 0:
        rows[0][draw(st.integers(0, len(rows[0]) - 1))] = draw(st.sampled_from(HUGE))
    return labels, rows


# the first is what shrinking goes to; UTF-8 is the common case, so it comes up most
ENCODINGS = ["utf-8"] * 4 + [
    "utf-8-sig", "latin-1", "cp1252", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "mac_roman",
    "cp1250",
]  # fmt: skip


@st.composite
def damaged(draw, data: bytes) -> bytes:
    """``data`` with up to three mutations: cut short, a byte flipped, bytes inserted, a
    range dropped, a range repeated. Half the files stay whole."""
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 1, 2, 3]))):
        op = draw(st.sampled_from(["truncate", "flip", "insert", "drop", "repeat"]))
        n = len(data)
        if op == "truncate":
            data = data[: draw(st.integers(0, n))]
        elif op == "flip" and n:
            i = draw(st.integers(0, n - 1))
            data = data[:i] + bytes([data[i] ^ draw(st.integers(1, 255))]) + data[i + 1 :]
        elif op == "insert":
            i = draw(st.integers(0, n))
            data = data[:i] + draw(st.binary(min_size=1, max_size=16)) + data[i:]
        elif op in ("drop", "repeat") and n:
            i = draw(st.integers(0, n - 1))
            j = draw(st.integers(i, min(n, i + 4096)))
            data = data[:i] + (data[i:j] * 2 if op == "repeat" else b"") + data[j:]
    return data


@st.composite
def text_file(draw, text_strategy: st.SearchStrategy[str]) -> bytes:
    """A text file in some encoding, maybe damaged."""
    text = draw(text_strategy)
    return draw(damaged(text.encode(draw(st.sampled_from(ENCODINGS)), errors="replace")))


@st.composite
def byte_file(draw, bytes_strategy: st.SearchStrategy[bytes]) -> bytes:
    """A file made as bytes (mail), maybe re-encoded as a whole, maybe damaged."""
    data = draw(bytes_strategy)
    encoding = draw(st.sampled_from(ENCODINGS))
    if encoding != "utf-8":
        try:
            data = data.decode("utf-8").encode(encoding, errors="replace")
        except UnicodeDecodeError:
            pass  # mail with parts in several charsets stays as it is
    return draw(damaged(data))


# VOC_SOURCE_TIMEZONE and VOC_COMPANY_EMAIL_DOMAINS are not validated: anything goes
options_strategy = st.builds(
    ParseOptions,
    date_order=st.sampled_from(["auto", "dmy", "mdy"]),
    company_email_domains=st.lists(
        st.one_of(st.sampled_from(["acme.test", "example.com", "", " ", "@", ".com"]), tiny_text),
        max_size=3,
    ).map(tuple),
    source_timezone=st.sampled_from(
        [
            "UTC",
            "Europe/London",
            "America/New_York",
            "Asia/Kathmandu",
            "Pacific/Chatham",
            "Not/AZone",
            "",
            "+05:00",
            "utc",
            "../../etc/passwd",
            "EST5EDT",
        ]  # fmt: skip
    ),
)


def name_for(ext: str) -> st.SearchStrategy[str]:
    return st.sampled_from([f"fuzz{ext}", f"FUZZ{ext.upper()}", f"in box/2026-11-02 export{ext}"])


# ======================================================================================
# tabular files
# ======================================================================================
@st.composite
def delimited_text(draw, tab: bool = False) -> str:
    labels, rows = draw(tables())
    delimiter = "\t" if tab else draw(st.sampled_from([",", ";", "\t", "|"]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    grid = [labels]
    extra = draw(st.sampled_from([None, None, "qualtrics", "surveymonkey"]))
    if extra == "qualtrics":
        grid.append([f"Question {i}" for i in range(len(labels))])
        grid.append([json.dumps({"ImportId": f"QID{i}"}) for i in range(len(labels))])
    elif extra == "surveymonkey":
        grid.append(
            [draw(st.sampled_from(["Response", "Open-Ended Response", ""])) for _ in labels]
        )
    grid += rows
    style = draw(st.sampled_from(["minimal", "all", "raw"]))
    if style == "raw":  # no quoting at all: a delimiter or newline in a cell breaks the line
        text = newline.join(delimiter.join(row) for row in grid)
    else:
        buffer = io.StringIO()
        quoting = csv.QUOTE_MINIMAL if style == "minimal" else csv.QUOTE_ALL
        writer = csv.writer(buffer, delimiter=delimiter, quoting=quoting, lineterminator=newline)
        writer.writerows(grid)
        text = buffer.getvalue()
    return ("\ufeff" if draw(st.booleans()) else "") + text


DEEP_MARK = "@@DEEP@@"


@st.composite
def deep_json(draw) -> str:
    """JSON nested 1 to 100 000 levels deep (Python's parser gives up near 1000)."""
    depth = draw(
        st.one_of(
            st.integers(1, 80),
            st.sampled_from([63, 64, 65, 500, 900, 990, 1000, 1001, 2000, 100_000]),
        )
    )
    inner = draw(st.sampled_from(['"x"', "1", "null", "{}", "[]"]))
    kind = draw(st.sampled_from(["list", "dict", "mixed", "unterminated"]))
    if kind == "list":
        return "[" * depth + inner + "]" * depth
    if kind == "dict":
        return '{"text":' * depth + inner + "}" * depth
    if kind == "mixed":
        return '[{"a":' * depth + inner + "}]" * depth
    return "[" * depth


def fill_deep(text: str, draw) -> str:
    """Each ``"@@DEEP@@"`` in a JSON text replaced by deeply nested JSON."""
    while f'"{DEEP_MARK}"' in text:
        text = text.replace(f'"{DEEP_MARK}"', draw(deep_json()), 1)
    return text


json_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20),
    st.sampled_from(MARKUP + CONTROL),
)  # fmt: skip
json_value = st.recursive(
    json_leaf,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(ROLES), tiny_text), children, max_size=4),
    ),
    max_leaves=12,
)


def number_or_text(value: str) -> object:
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


@st.composite
def json_records(draw) -> list[object]:
    """Records from a table, some values numbers, nested objects or any JSON; now and
    then a non-object among them, or one value nested very deep."""
    labels, rows = draw(tables())
    records: list[object] = []
    for row in rows:
        record: dict[str, object] = {}
        for label, value in zip(labels, row, strict=False):
            style = draw(st.integers(0, 9))
            if style == 0:
                record[label] = draw(json_value)
            elif style == 1:
                record[label] = number_or_text(value)
            elif style == 2:
                record[label] = {"value": value, "inner": {"deeper": {"deepest": value}}}
            else:
                record[label] = value
        records.append(record)
    if records and draw(st.integers(0, 5)) == 0:
        record = records[draw(st.integers(0, len(records) - 1))]
        record[draw(st.sampled_from(["deep", *labels]))] = DEEP_MARK  # type: ignore[index]
    if draw(st.integers(0, 5)) == 0:
        records.insert(draw(st.integers(0, len(records))), draw(json_value))
    return records


@st.composite
def json_text(draw) -> str:
    records = draw(json_records())
    shape = draw(st.sampled_from(["list", "data", "other", "single", "scalar", "deep", "lines"]))
    if shape == "lines":  # JSON Lines saved as .json
        return fill_deep("\n".join(json.dumps(r) for r in records), draw)
    doc: object = {
        "list": records,
        "data": {"meta": {"n": len(records)}, draw(st.sampled_from(["data", "items"])): records},
        "other": {"export": records},
        "single": records[0],
        "scalar": draw(json_value),
        "deep": DEEP_MARK,
    }[shape]
    indent = draw(st.sampled_from([None, 2]))
    return fill_deep(json.dumps(doc, ensure_ascii=draw(st.booleans()), indent=indent), draw)


@st.composite
def jsonl_text(draw) -> str:
    lines = [json.dumps(r, ensure_ascii=draw(st.booleans())) for r in draw(json_records())]
    for _ in range(draw(st.integers(0, 3))):  # blank, broken, scalar and deep lines
        extra = draw(
            st.one_of(st.sampled_from(["", "   ", DEEP_MARK]), noise, json_value.map(json.dumps))
        )
        lines.insert(
            draw(st.integers(0, len(lines))), draw(deep_json()) if extra == DEEP_MARK else extra
        )
    return fill_deep(draw(st.sampled_from(["\n", "\r\n"])).join(lines), draw)


@st.composite
def xlsx_bytes(draw) -> bytes:
    import xlsxwriter

    labels, rows = draw(tables())
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "nan_inf_to_errors": True,
        },
    )
    # a fixed creation time: otherwise the same draws give files of other lengths a
    # second later, and Hypothesis rejects the strategy as flaky when it replays them
    book.set_properties({"created": datetime(2026, 1, 1)})
    sheet = book.add_worksheet()
    date_format = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    top, left = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    for r, row in enumerate([labels, *rows]):
        for c, value in enumerate(row):
            style = draw(st.integers(0, 11))
            at = (top + r, left + c)
            number = number_or_text(value)
            if style == 0 and isinstance(number, int | float):
                sheet.write_number(*at, float(number))
            elif style == 1:
                sheet.write_boolean(*at, draw(st.booleans()))
            elif style == 2:
                moment = st.datetimes(datetime(1900, 3, 1), datetime(9999, 12, 31))
                sheet.write_datetime(*at, draw(moment), date_format)
            elif style == 3:
                formula = draw(st.sampled_from(["=1/0", "=A1&B1", "=NA()", '="x"']))
                sheet.write_formula(*at, formula)
            elif style == 4:
                sheet.write_blank(*at, None)
            else:
                sheet.write_string(*at, value[:32_767])  # Excel's limit per cell
    if draw(st.booleans()):
        book.add_worksheet("second").write_string(0, 0, "only the first sheet is read")
    book.close()
    return buffer.getvalue()


PARQUET_EXTRAS = [
    "int", "float", "bool", "datetime", "datetime_tz", "date", "list", "struct", "binary",
    "null", "categorical", "decimal", "duration",
]  # fmt: skip


@st.composite
def parquet_bytes(draw) -> bytes:
    """A table's string columns, plus typed columns (numbers, dates, lists, structs, binary,
    decimals...) named like columns voc looks for."""
    labels, rows = draw(tables())
    n = len(rows)
    seen: set[str] = set()

    def unique(label: str) -> str:
        label = label or "column"
        while label in seen:
            label += "_"
        seen.add(label)
        return label

    def values(strategy: st.SearchStrategy) -> list:
        return draw(st.lists(st.one_of(st.none(), strategy), min_size=n, max_size=n))

    columns = [
        pl.Series(unique(label), [row[i] if i < len(row) else None for row in rows], pl.String)
        for i, label in enumerate(labels)
    ]
    for kind in draw(st.lists(st.sampled_from(PARQUET_EXTRAS), max_size=3)):
        name = unique(draw(header_for(draw(st.sampled_from(KIND_NAMES)))))
        if kind == "int":
            series = pl.Series(name, values(st.integers(-(2**63), 2**63 - 1)), pl.Int64)
        elif kind == "float":
            series = pl.Series(name, values(st.floats()), pl.Float64)
        elif kind == "bool":
            series = pl.Series(name, values(st.booleans()), pl.Boolean)
        elif kind in ("datetime", "datetime_tz"):
            series = pl.Series(name, values(st.datetimes()), pl.Datetime("us"))
            if kind == "datetime_tz":
                series = series.dt.replace_time_zone("Asia/Kathmandu", non_existent="null")
        elif kind == "date":
            series = pl.Series(name, values(st.dates()), pl.Date)
        elif kind == "list":
            series = pl.Series(name, values(st.lists(tiny_text, max_size=3)), pl.List(pl.String))
        elif kind == "struct":
            struct = st.fixed_dictionaries({"a": tiny_text, "b": st.integers(-9, 9)})
            series = pl.Series(name, values(struct), pl.Struct({"a": pl.String, "b": pl.Int64}))
        elif kind == "binary":
            series = pl.Series(name, values(st.binary(max_size=12)), pl.Binary)
        elif kind == "null":
            series = pl.Series(name, [None] * n, pl.Null)
        elif kind == "categorical":
            series = pl.Series(name, values(tiny_text), pl.String).cast(pl.Categorical)
        elif kind == "decimal":
            cents = pl.Series(name, values(st.integers(-(10**8), 10**8)), pl.Int64)
            series = cents.cast(pl.Decimal(12, 2))
        else:
            micros = pl.Series(name, values(st.integers(-(10**12), 10**12)), pl.Int64)
            series = micros.cast(pl.Duration("us"))
        columns.append(series)
    buffer = io.BytesIO()
    pl.DataFrame(columns).write_parquet(
        buffer,
        compression=draw(st.sampled_from(["zstd", "snappy", "uncompressed", "gzip", "lz4"])),
        row_group_size=draw(st.sampled_from([None, 1, 3])),
    )
    return buffer.getvalue()


def tabular_file(ext: str) -> st.SearchStrategy[bytes]:
    if ext in (".csv", ".tsv"):
        return text_file(delimited_text(tab=ext == ".tsv"))
    if ext == ".json":
        return text_file(json_text())
    if ext == ".jsonl":
        return text_file(jsonl_text())
    return (xlsx_bytes() if ext == ".xlsx" else parquet_bytes()).flatmap(damaged)


# ======================================================================================
# e-mail
# ======================================================================================
# fmt: off
ADDRESSES = [
    "jane@example.com", "Jane Doe <jane@example.com>", '"Doe, Jane" <jane.doe@example.co.uk>',
    "support@acme.test", "Acme Support <support@acme.test>", "<>", "undisclosed-recipients:;",
    "a@b", "@", "jane@", "=?utf-8?b?SsOkbmU=?= <jane@example.com>", "group: a@b.com, c@d.com;",
    "Jäne <jäne@exämple.com>", "a@b.com, c@d.com", '"unterminated <x@y.z>',
    "(comment) jane@example.com (more)",
]
CHARSETS = [
    "utf-8", "us-ascii", "iso-8859-1", "windows-1252", "utf-16", "utf-7", "koi8-r", "gb2312",
    "x-unknown", "", "unknown-8bit",
]
BODY_LINES = [
    "Hi,", "The engineer never came and nobody called me back.",
    "My bill is wrong for the third month running, please fix it.", "Thanks,",
    "Thanks, but the app still crashes when I pay.", "Best regards", "Jane", "-- ",
    "Sent from my iPhone", "Get Outlook for Android",
    "On Mon, 2 Nov 2026 at 10:15, Support <support@acme.test> wrote:",
    "> Thank you for contacting us.", ">> older quote", "-----Original Message-----",
    "From: Support <support@acme.test>", "Sent: Monday, November 2, 2026 10:15 AM",
    "To: jane@example.com", "Subject: RE: order", "---------- Forwarded message ---------",
    "Begin forwarded message:", "Am 02.11.2026 um 10:15 schrieb Support <s@acme.test>:",
    "El lun, 2 nov 2026 a las 10:15, Soporte (<s@acme.test>) escribió:", "- the app crashes",
    "* bullet", "", "", "", "x" * 300, "On " + "Monday " * 60 + "wrote:",
    "From the start of a line", ">From escaped", "<p>html in plain text</p>", "\ue0010\ue001",
    "\ue000Thanks",
]
BAD_MAIL_DATES = [
    "", "yesterday", "Mon, 32 Foo 2026 25:61:61 +9999", "Tue, 1 Jan 0001 00:00:00 +0000",
    "Fri, 31 Dec 9999 23:59:59 -2359", "Thu, 01 Jan 1970 00:00:00 GMT", "2026-11-20T10:00:00Z",
    "Tue, 1 Jan 10000 00:00:00 +0000", "Mon, 2 Nov 2026 10:15:00", "2 Nov 2026 10:15 +0100 (CET)",
]
HEADER_NAMES = [
    "From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
    "Content-Language", "Reply-To", "X-Mailer", "Received",
]
FROM_LINES = [
    "From jane@example.com Tue Nov  3 10:15:00 2026", "From - Mon Nov 02 10:15:00 2026",
    "From MAILER-DAEMON Thu Jan  1 00:00:00 1970",
    "From jane@example.com Tue Nov 3 10:15 +0100 2026", "From jane", "From ",
    "From a@b 99:99 1900",
]
# fmt: on


def _b(text: str, charset: str = "utf-8") -> bytes:
    try:
        return text.encode(charset or "utf-8", errors="replace")
    except LookupError:
        return text.encode("utf-8", errors="replace")


@st.composite
def encoded_word(draw) -> str:
    """An RFC 2047 word, well formed or not: =?charset?B|Q?payload?="""
    charset = draw(
        st.sampled_from(["utf-8", "UTF-8", "iso-8859-1", "utf-16", "x-bogus", "", "utf-8*en"])
    )
    method = draw(st.sampled_from(["B", "Q", "b", "X"]))
    if draw(st.booleans()):
        raw = _b(draw(st.one_of(sentence, noise)), charset)
        if method in "Bb":
            payload = base64.b64encode(raw).decode()
        else:
            payload = quopri.encodestring(raw, header=True).decode("ascii", "replace")
    else:
        payload = draw(st.text(alphabet=string.printable, max_size=20))
    return f"=?{charset}?{method}?{payload}?="


header_text = st.one_of(sentence, noise, encoded_word(), st.sampled_from(["", "x" * 5_000]))
date_header = st.one_of(
    st.builds(
        lambda moment, minutes: moment.replace(
            tzinfo=timezone(timedelta(minutes=minutes))
        ).strftime("%a, %d %b %Y %H:%M:%S %z"),
        st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
        st.integers(-(23 * 60 + 59), 23 * 60 + 59),
    ),
    st.sampled_from(BAD_MAIL_DATES),
    noise,
)
message_id = st.one_of(
    st.sampled_from(["<abc@example.com>", "<>", "no-brackets@x", "<a b@c>", ""]),
    st.builds("<{}@example.com>".format, tiny_text),
)


@st.composite
def mail_headers(draw) -> list[bytes]:
    lines: list[bytes] = []
    for name in draw(st.lists(st.sampled_from(HEADER_NAMES), max_size=9)):
        if name in ("From", "To", "Cc", "Reply-To"):
            value = draw(st.one_of(st.sampled_from(ADDRESSES), header_text))
        elif name == "Date":
            value = draw(date_header)
        elif name in ("Message-ID", "In-Reply-To", "References"):
            value = draw(message_id)
        elif name == "Subject":
            prefix = draw(st.sampled_from(["", "Re: ", "Fwd: ", "AW: WG: RE[2]: ", "Fw: "]))
            value = prefix + draw(header_text)
        else:
            value = draw(header_text)
        if draw(st.integers(0, 5)) == 0:  # folded
            value = value.replace(" ", "\n ", 1)
        charset = draw(st.sampled_from(["utf-8", "latin-1"]))  # raw 8-bit headers
        lines.append(name.encode() + b": " + _b(value, charset))
    if draw(st.integers(0, 6)) == 0:
        lines.insert(draw(st.integers(0, len(lines))), _b(draw(noise)))  # not a header at all
    return lines


plain_body = st.lists(st.one_of(st.sampled_from(BODY_LINES), sentence, noise), max_size=16).map(
    "\n".join
)


@st.composite
def html_body(draw) -> str:
    parts = ["<html><head><style>p{}</style><title>t</title></head><body>"]
    for _ in range(draw(st.integers(0, 8))):
        tag = draw(st.sampled_from("p div blockquote script table span a li pre".split()))
        content = draw(st.one_of(st.sampled_from(BODY_LINES), sentence, noise))
        parts.append(f"<{tag}>{content}" + draw(st.sampled_from([f"</{tag}>", ""])))
        if draw(st.booleans()):
            extra = ["<br>", "<br/>", "&amp;", "&#0;", "&#x1F600;", "&nbsp;", "<!--", "]]>"]
            parts.append(draw(st.sampled_from(extra)))
    parts.append(draw(st.sampled_from(["</body></html>", ""])))
    return "".join(parts)


@st.composite
def mime_part(draw, depth: int = 0) -> bytes:
    """Content headers, a blank line and a body: text, HTML, multipart (nested up to three
    deep, boundaries odd, closed or not) or an attachment; a Content-Transfer-Encoding
    that is applied, or only claimed."""
    kinds = ["plain", "html", "attachment", "other"] + (["multipart"] * 2 if depth < 3 else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "multipart":
        subtype = draw(st.sampled_from(["alternative", "mixed", "related", "signed", "x-weird"]))
        boundary = draw(
            st.one_of(
                st.sampled_from(["b1", "==b==", "", "a b", "x" * 80, "--", "=_Part_0"]),
                st.text(
                    string.ascii_letters + string.digits + "'()+_,-./:=? ", min_size=1, max_size=20
                ),
            )
        )
        quoted = f'"{boundary}"' if draw(st.booleans()) else boundary
        body = _b(draw(st.sampled_from(["", "This is a multi-part message.\n"])))
        for part in draw(st.lists(mime_part(depth + 1), max_size=3)):
            body += b"\n--" + _b(boundary) + b"\n" + part
        if draw(st.booleans()):
            body += b"\n--" + _b(boundary) + b"--\n"
        body += _b(draw(st.sampled_from(["", "epilogue\n"])))
        return _b(f"Content-Type: multipart/{subtype}; boundary={quoted}") + b"\n\n" + body
    charset = draw(st.sampled_from(CHARSETS))
    encodings = [
        None,
        "7bit",
        "8bit",
        "base64",
        "quoted-printable",
        "binary",
        "x-uuencode",
        "bogus",
    ]
    cte = draw(st.sampled_from(encodings))
    headers: list[str] = []
    if kind == "plain":
        text = draw(plain_body)
        headers.append("Content-Type: text/plain" + (f"; charset={charset}" if charset else ""))
    elif kind == "html":
        text = draw(html_body())
        headers.append(f'Content-Type: text/html; charset="{charset}"')
    elif kind == "attachment":
        text = draw(noise)
        filename = draw(
            st.one_of(
                st.sampled_from(["bill.pdf", "=?utf-8?q?R=C3=A9clamation.pdf?=", ""]), tiny_text
            )
        )
        headers.append(
            draw(st.sampled_from(["Content-Type: application/pdf", "Content-Type: text/plain"]))
        )
        headers.append(f'Content-Disposition: attachment; filename="{filename}"')
    else:
        text = draw(noise)
        other = [
            "Content-Type: image/png",
            "Content-Type: ",
            "Content-Type: text",
            "Content-Type: message/rfc822",
        ]
        headers.append(draw(st.sampled_from(other)))
    if cte:
        headers.append(f"Content-Transfer-Encoding: {cte}")
    raw = _b(text, charset)
    if draw(st.booleans()):  # else the encoding is only claimed
        if cte == "base64":
            raw = base64.encodebytes(raw)
        elif cte == "quoted-printable":
            raw = quopri.encodestring(raw)
    return b"\n".join(_b(h) for h in headers) + b"\n\n" + raw


@st.composite
def email_message(draw) -> bytes:
    headers = draw(mail_headers())
    if draw(st.booleans()):
        headers.append(b"MIME-Version: 1.0")
    if draw(st.integers(0, 3)) == 0:  # no MIME headers: a bare body
        body = _b(draw(plain_body), draw(st.sampled_from(["utf-8", "latin-1"])))
        message = b"\n".join(headers) + b"\n\n" + body
    else:
        message = b"\n".join(headers) + (b"\n" if headers else b"") + draw(mime_part())
    newline = draw(st.sampled_from([b"\n", b"\r\n", b"\r"]))
    return message.replace(b"\n", newline)


@st.composite
def mbox_bytes(draw) -> bytes:
    out = b""
    if draw(st.integers(0, 5)) == 0:
        out += _b(draw(plain_body)) + b"\n"  # text before the first From_ line
    for message in draw(st.lists(email_message(), max_size=5)):
        out += _b(draw(st.sampled_from(FROM_LINES))) + b"\n" + message
        out += draw(st.sampled_from([b"\n\n", b"\n", b""]))
    return out


def email_file(ext: str) -> st.SearchStrategy[bytes]:
    return byte_file(email_message() if ext == ".eml" else mbox_bytes())


# ======================================================================================
# call transcripts
# ======================================================================================
# fmt: off
SPEAKERS = [
    "Agent", "Customer", "Agent Sarah", "Caller", "AGENT", "CUSTOMER", "Speaker 1", "Speaker 2",
    "Sarah", "Tom", "Advisor (Tom)", "Kunde", "Customer Service", "A", "B", "spk_0", "", "  ",
    "Order number", "http", "Jäne", "\u0663",
]
SPOKEN = [
    "Thank you for calling Acme, how can I help?", "My bill is wrong again.",
    "Can you confirm your postcode?", "It's SW1A 1AA.", "Order number: 123", "Call at 10:30",
    "https://example.com/x", "I was charged twice on 4111 1111 1111 1111",
    "Is there anything else I can help with?", "No, thanks.", "", "-->", "<b>bold</b>",
    "&amp; &lt;", "<script>alert(1)</script>", "\ue0010\ue001",
]
VTT_HEADER_LINES = [
    "Kind: captions", "Language: en", "call_id=C-1 started_at=2026-10-01T09:14:00Z",
    "X-TIMESTAMP-MAP=LOCAL:00:00:00.000,MPEGTS:0",
]
SPEAKER_KEYS = ["speaker", "Speaker", "role", "ParticipantId", "participant", "channel", "from"]
TIME_KEYS = ["end", "EndTime", "endOffsetMillis", "start"]
TURN_KEYS = SPEAKER_KEYS + TIME_KEYS + [
    "text", "Content", "utterance", "transcript", "message", "value", "alternatives",
]
META_KEYS = [
    "call_id", "ContactId", "id", "started_at", "InitiationTimestamp", "date", "timestamp",
    "customer", "CustomerMetadata", "phone", "email", "queue", "Queue", "agent", "Agent",
    "language", "LanguageCode", "csat", "nps", "rating", "duration", "DurationMillis",
    "Participants",
]
META_WORDS = ["C-1", "Billing", "jane@example.com", "+44 20 7946 0958", "4", "4,5", "1:05", "en-GB"]
TXT_META_LINES = [
    "# call_id=C-1 started_at=2026-10-01T09:14:00", '# queue="Billing team" csat=5',
    "NOTE agent=Sarah", "#", "# date=",
]
TXT_META_KEYS = ["Call ID", "Date", "Queue", "Phone", "CSAT", "Language", "Subject"]
CALL_STEMS = [
    "call", "2026-10-01T09-14_C10024", "20261001_091400", "call_2026-13-45", "19990230",
    "call 2026.01.02 25h61", "2200-01-01",
]
# fmt: on
speaker = st.one_of(st.sampled_from(SPEAKERS), tiny_text)
utterance = st.one_of(st.sampled_from(SPOKEN), sentence, noise)


@st.composite
def timestamp(draw, sep: str = ".") -> str:
    """A cue time: well formed, or out of range, short, without a fraction, or garbage."""
    h, m, s = draw(st.integers(0, 120)), draw(st.integers(0, 99)), draw(st.integers(0, 99))
    ms = draw(st.integers(0, 9999))
    shape = draw(st.sampled_from(["full", "full", "short", "nofrac", "garbage"]))
    if shape == "full":
        return f"{h:02}:{m:02}:{s:02}{sep}{ms:03}"
    if shape == "short":
        return f"{m:02}:{s:02}{sep}{ms:03}"
    if shape == "nofrac":
        return f"{h:02}:{m:02}:{s:02}"
    return draw(tiny_text)


@st.composite
def cue_line(draw, vtt: bool) -> str:
    who, words = draw(speaker), draw(utterance)
    shapes = {
        "label": f"{who}: {words}",
        "dash": f"- {words}",
        "plain": words,
        "italic": f"<i>{words}</i>",
        "class": f"<c.yellow>{words}</c>" if vtt else f"{{\\an8}}{words}",
        "inline": f"<00:00:01.500>{words}" if vtt else f'<font color="red">{words}</font>',
    }
    if vtt:
        shapes |= {"voice": f"<v {who}>{words}", "voice_closed": f"<v.loud {who}>{words}</v>"}
    return shapes[draw(st.sampled_from(sorted(shapes)))]


@st.composite
def vtt_text(draw) -> str:
    head = draw(
        st.sampled_from(["WEBVTT", "WEBVTT - call 42", "\ufeffWEBVTT", "", "WEBVTT\tx", "webvtt"])
    )
    blocks = ["\n".join([head, *draw(st.lists(st.sampled_from(VTT_HEADER_LINES), max_size=2))])]
    if draw(st.booleans()):
        note_text = draw(
            st.sampled_from(
                ["queue=Billing csat=4", "agent: Sarah", "customer=jane@example.com", ""]
            )
        )
        blocks.append("NOTE " + note_text + draw(st.sampled_from(["", " "])) + draw(tiny_text))
    for _ in range(draw(st.integers(0, 6))):
        lines = []
        if draw(st.booleans()):
            lines.append(draw(st.one_of(st.integers(0, 99).map(str), tiny_text)))  # cue id
        cue_settings = draw(st.sampled_from(["", " align:start position:10%", " line:0"]))
        lines.append(f"{draw(timestamp())} --> {draw(timestamp())}{cue_settings}")
        lines += draw(st.lists(cue_line(vtt=True), min_size=1, max_size=3))
        blocks.append("\n".join(lines))
    separator = draw(st.sampled_from(["\n\n", "\n\n", "\r\n\r\n", "\n"]))
    return separator.join(blocks) + draw(st.sampled_from(["\n", "", "\n\n\n"]))


@st.composite
def srt_text(draw) -> str:
    blocks = []
    for i in range(1, draw(st.integers(0, 6)) + 1):
        index = draw(st.one_of(st.just(str(i)), st.integers(-1, 10**12).map(str), tiny_text))
        timing = f"{draw(timestamp(','))} --> {draw(timestamp(','))}"
        blocks.append(
            "\n".join([index, timing, *draw(st.lists(cue_line(vtt=False), min_size=1, max_size=3))])
        )
    return draw(st.sampled_from(["\n\n", "\r\n\r\n", "\n"])).join(blocks) + "\n"


when_value = st.one_of(
    date_text,
    st.integers(-(10**20), 10**20),
    st.floats(),
    st.sampled_from(["1700000000", "1700000000000", "99999999999999", "2026-10-01T09:14:00+14:00"]),
)
participants = st.lists(
    st.fixed_dictionaries(
        {"ParticipantId": speaker, "ParticipantRole": st.sampled_from(["AGENT", "CUSTOMER", "x"])}
    ),
    max_size=2,
)
meta_value = st.one_of(
    st.sampled_from(META_WORDS),
    when_value,
    json_value,
    st.just(DEEP_MARK),
    st.fixed_dictionaries({"Name": st.sampled_from(["Billing", "", "Sarah"])}),
    participants,
)
turn_text = st.one_of(
    utterance,
    utterance,
    st.builds(lambda words: {"alternatives": [{"transcript": words}]}, utterance),
    st.lists(utterance, max_size=3),
    json_value,
    st.just(DEEP_MARK),
)
labelled_line = st.builds("{}: {}".format, speaker, utterance)


@st.composite
def json_turn(draw) -> object:
    if draw(st.integers(0, 6)) == 0:
        return draw(st.one_of(labelled_line, json_value))
    turn: dict[str, object] = {}
    for key in draw(st.lists(st.sampled_from(TURN_KEYS), max_size=4)):
        if key in SPEAKER_KEYS:
            turn[key] = draw(st.one_of(speaker, speaker, json_value))
        elif key in TIME_KEYS:
            turn[key] = draw(
                st.one_of(st.floats(), st.integers(), tiny_text, st.sampled_from(["1:05", "4,5"]))
            )
        else:
            turn[key] = draw(turn_text)
    return turn


@st.composite
def json_call(draw) -> object:
    call: dict[str, object] = {
        key: draw(meta_value) for key in draw(st.lists(st.sampled_from(META_KEYS), max_size=5))
    }
    turns_key = draw(
        st.sampled_from(["turns", "Transcript", "utterances", "segments", "messages", "none"])
    )
    if turns_key != "none":
        call[turns_key] = draw(
            st.one_of(
                st.lists(json_turn(), max_size=6),
                st.lists(labelled_line, max_size=5).map("\n".join),
                json_value,
            )
        )
    return call


@st.composite
def call_json_text(draw) -> str:
    shape = draw(st.sampled_from(["call", "calls", "list", "turns", "scalar", "deep"]))
    if shape == "call":
        doc: object = draw(json_call())
    elif shape == "calls":
        key = draw(st.sampled_from(["calls", "Conversations", "items", "x"]))
        doc = {key: draw(st.lists(st.one_of(json_call(), json_value), max_size=4))}
    elif shape == "list":
        doc = draw(st.lists(st.one_of(json_call(), json_call(), json_value), max_size=4))
    elif shape == "turns":
        doc = draw(st.lists(json_turn(), max_size=6))
    elif shape == "scalar":
        doc = draw(json_value)
    else:
        doc = DEEP_MARK
    indent = draw(st.sampled_from([None, 1]))
    return fill_deep(json.dumps(doc, ensure_ascii=draw(st.booleans()), indent=indent), draw)


@st.composite
def transcript_text(draw) -> str:
    """A plain transcript: # key=value lines, a Key: value block, then dialogue lines in
    the shapes transcription tools write (labels, timestamps, otter.ai label lines)."""
    lines = [
        draw(st.sampled_from(TXT_META_LINES)) + draw(st.sampled_from(["", "x", "2026-13-45"]))
        for _ in range(draw(st.integers(0, 2)))
    ]
    if draw(st.booleans()):
        for key in draw(st.lists(st.sampled_from(TXT_META_KEYS), max_size=3)):
            lines.append(f"{key}: {draw(st.one_of(st.sampled_from(META_WORDS), date_text))}")
        lines.append("")
    for _ in range(draw(st.integers(0, 10))):
        who, words = draw(speaker), draw(utterance)
        shape = draw(
            st.sampled_from(["label", "label", "stamped", "dash_stamp", "otter", "plain", "blank"])
        )
        if shape == "label":
            lines.append(f"{who}: {words}")
        elif shape == "stamped":
            lines.append(f"[{draw(timestamp())}] {who}: {words}")
        elif shape == "dash_stamp":
            lines.append(f"{draw(timestamp())} - {who}: {words}")
        elif shape == "otter":
            lines += [f"{who}  {draw(st.integers(0, 99))}:{draw(st.integers(0, 99)):02}", words]
        elif shape == "plain":
            lines.append(words)
        else:
            lines.append("")
    return draw(st.sampled_from(["\n", "\r\n", "\r"])).join(lines)


def call_name(ext: str) -> st.SearchStrategy[str]:
    return st.sampled_from(CALL_STEMS).map(lambda stem: stem + ext)


def call_file(ext: str) -> st.SearchStrategy[bytes]:
    texts = {
        ".vtt": vtt_text(),
        ".srt": srt_text(),
        ".json": call_json_text(),
        ".txt": transcript_text(),
    }
    return text_file(texts[ext])


# ======================================================================================
# properties
# ======================================================================================
MAGIC = {
    ".xlsx": b"PK\x03\x04",
    ".parquet": b"PAR1",
    ".json": b'[{"text": ',
    ".jsonl": b'{"comment": "',
    ".csv": b"id,comment\n1,",
    ".tsv": b"id\tcomment\n",
    ".eml": b"From: a@b.com\nSubject: ",
    ".mbox": b"From a@b.com Tue Nov  3 10:15:00 2026\n",
    ".vtt": b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n",
    ".srt": b"1\n00:00:01,000 --> 00:00:02,000\n",
    ".txt": b"Agent: ",
}


@pytest.mark.parametrize(("channel", "ext"), ALL_FILES)
@given(data=st.data())
def test_arbitrary_bytes_under_every_name(channel, ext, data):
    """Any bytes at all, bare or behind the format's magic start, under each file name."""
    payload = data.draw(st.binary(max_size=4096), label="payload")
    if data.draw(st.booleans(), label="with the format's magic start"):
        payload = MAGIC[ext] + payload + (b"PAR1" if ext == ".parquet" else b"")
    name = data.draw(name_for(ext), label="name")
    check_source(channel, name, payload, data.draw(options_strategy, label="options"))


@pytest.mark.parametrize(("channel", "ext"), TABULAR_FILES)
@given(data=st.data())
def test_tabular_files_built_then_damaged(channel, ext, data):
    payload = data.draw(tabular_file(ext), label="file")
    name = data.draw(name_for(ext), label="name")
    check_source(channel, name, payload, data.draw(options_strategy, label="options"))


def mappings(labels: list[str]) -> st.SearchStrategy[tuple[tuple[str, str], ...]]:
    """``--map`` pairs as ParseOptions holds them: known and unknown roles, the file's
    columns (exact, re-cased, cut short) and columns it does not have."""
    odd_roles = [
        "Text",
        " text ",
        "TEXT",
        "textt",
        "",
        "=",
        "score kind",
        "id=",
        "téxt",
        "\u0422EXT",
    ]
    role = st.one_of(
        st.sampled_from(ROLES), st.sampled_from(ROLES), st.sampled_from(odd_roles), tiny_text
    )
    odd_columns = ["", " ", "*", "(", "\\", "[a-z]+", "column_1", "Comment (2)"]
    column = st.one_of(
        st.sampled_from(labels),
        st.sampled_from(labels).map(lambda label: f"  {label.upper()} "),
        st.sampled_from(labels).map(lambda label: label[: max(1, len(label) // 2)]),
        st.sampled_from(SCORE_KINDS),
        st.sampled_from(odd_columns),
        tiny_text,
    )
    return st.lists(st.tuples(role, column), max_size=4).map(tuple)


@pytest.mark.parametrize("channel", ["survey", "complaint"])
@given(data=st.data())
def test_tabular_random_mapping_is_followed_or_refused_cleanly(channel, data):
    """``--map`` as ParseOptions, any role and any column. A mapping voc cannot follow (an
    unknown role, an unknown score_kind, a column the file lacks) holds the file back as
    ``bad_mapping`` rows: no crash, and no record loaded."""
    labels, rows = data.draw(tables(), label="table")
    ext = data.draw(st.sampled_from([".csv", ".json", ".jsonl"]), label="ext")
    if ext == ".csv":
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows([labels, *rows])
        payload = buffer.getvalue().encode()
    else:
        records = [dict(zip(labels, row, strict=False)) for row in rows]
        lines = [json.dumps(records)] if ext == ".json" else [json.dumps(r) for r in records]
        payload = "\n".join(lines).encode()
    mapping = data.draw(mappings(labels), label="mapping")
    parsed, _ = check_source(channel, f"mapped{ext}", payload, ParseOptions(mapping=mapping))
    wanted = dict(mapping)
    unknown_role = any(role not in ROLES for role in wanted)
    bad_kind = "score_kind" in wanted and wanted["score_kind"] not in SCORE_KINDS
    if unknown_role or bad_kind:
        assert parsed.records.height == 0, "records loaded under a mapping voc cannot follow"
    refused = parsed.quarantine.filter(pl.col("reason_code") == "bad_mapping")
    if refused.height:
        assert parsed.records.height == 0
        assert all("--map" in r or "score_kind" in r for r in refused["reason"].to_list())


@pytest.mark.parametrize(("channel", "ext"), EMAIL_FILES)
@given(data=st.data())
def test_email_files_built_then_damaged(channel, ext, data):
    payload = data.draw(email_file(ext), label="file")
    name = data.draw(name_for(ext), label="name")
    check_source(channel, name, payload, data.draw(options_strategy, label="options"))


@pytest.mark.parametrize(("channel", "ext"), CALL_FILES)
@given(data=st.data())
def test_call_files_built_then_damaged(channel, ext, data):
    payload = data.draw(call_file(ext), label="file")
    name = data.draw(call_name(ext), label="name")
    check_source(channel, name, payload, data.draw(options_strategy, label="options"))


ANY_EXT = [
    ".csv", ".tsv", ".tab", ".txt", ".json", ".jsonl", ".ndjson", ".xlsx", ".xls", ".parquet",
    ".eml", ".mbox", ".mbx", ".vtt", ".srt", ".dat", "",
]  # fmt: skip
ANY_FILE = st.one_of(
    tabular_file(".csv"),
    tabular_file(".json"),
    tabular_file(".jsonl"),
    email_file(".eml"),
    email_file(".mbox"),
    call_file(".vtt"),
    call_file(".srt"),
    call_file(".json"),
    call_file(".txt"),
)


@pytest.mark.parametrize("channel", ["survey", "email", "call"])
@given(data=st.data())
def test_any_format_under_any_name_and_channel(channel, data):
    """Files in the wrong folder or with the wrong extension: a VTT named .json, an mbox
    handed to the call parser, JSON named .csv. Still no crash, still the books."""
    payload = data.draw(ANY_FILE, label="file")
    name = "fuzz" + data.draw(st.sampled_from(ANY_EXT), label="ext")
    check_source(channel, name, payload)


@st.composite
def email_text(draw) -> str:
    """A plain-text e-mail (or an mbox of them) as text, for re-encoding as a whole."""
    messages = []
    for _ in range(draw(st.integers(1, 3))):
        headers = [
            f"{name}: {draw(st.one_of(st.sampled_from(ADDRESSES), sentence, date_header, message_id))}"
            for name in draw(st.lists(st.sampled_from(HEADER_NAMES), min_size=1, max_size=6))
        ]
        messages.append("\n".join(headers) + "\n\n" + draw(plain_body))
    if len(messages) == 1 and draw(st.booleans()):
        return messages[0]
    return "".join(f"{draw(st.sampled_from(FROM_LINES[:4]))}\n{m}\n\n" for m in messages)


TEXT_FORMATS = {
    ("survey", ".csv"): delimited_text(),
    ("complaint", ".tsv"): delimited_text(tab=True),
    ("survey", ".json"): json_text(),
    ("complaint", ".jsonl"): jsonl_text(),
    ("email", ".eml"): email_text(),
    ("email", ".mbox"): email_text(),
    ("call", ".vtt"): vtt_text(),
    ("call", ".srt"): srt_text(),
    ("call", ".json"): call_json_text(),
    ("call", ".txt"): transcript_text(),
}
# encodings voc reads without being told: each must give back exactly the UTF-8 reading
SAME_TEXT_ENCODINGS = [
    "utf-8-sig",
    "utf-16",
    "utf-16-le",
    "utf-16-be",
    "utf-32",
    "cp1252",
    "latin-1",
]


def _what_was_read(parsed: ParsedSource) -> tuple:
    records = parsed.records.drop("raw_excerpt")  # an excerpt of the raw bytes may differ
    return parsed.rows_read, records.rows(), sorted(parsed.quarantine["reason_code"].to_list())


@pytest.mark.parametrize(("channel", "ext"), sorted(TEXT_FORMATS))
@given(data=st.data())
def test_the_encoding_of_a_text_file_does_not_change_what_is_read(channel, ext, data):
    """The same text saved as UTF-8, UTF-8 with a BOM, UTF-16 with or without a BOM,
    UTF-32, cp1252 or latin-1: whenever voc decodes the bytes back to the same text, it
    must read the same records and quarantine the same rows."""
    text = data.draw(TEXT_FORMATS[(channel, ext)], label="text").lstrip("\ufeff")
    encoding = data.draw(st.sampled_from(SAME_TEXT_ENCODINGS), label="encoding")
    try:
        encoded = text.encode(encoding)
        same_text = (
            decode_text(encoded)[0].lstrip("\ufeff") == decode_text(text.encode("utf-8"))[0] == text
        )
    except Exception:  # not representable in that encoding, or refused as binary
        same_text = False
    if not same_text:
        event("not read back as the same text: nothing to compare")
        return
    name = f"same{ext}"
    as_utf8, _ = check_source(channel, name, text.encode("utf-8"))
    reencoded, _ = check_source(channel, name, encoded)
    assert _what_was_read(reencoded) == _what_was_read(as_utf8), (
        f"read differently from {encoding} than from UTF-8"
    )


# ======================================================================================
# inputs the fuzzing found: minimal reproducers, failing until the parsers are fixed
# ======================================================================================
# polars 2.1.0 writes this for pl.DataFrame({"comment": ["my bill is wrong"]}) with
# compression="uncompressed", statistics=False (466 bytes)
SMALL_PARQUET = base64.b64decode(
    "UEFSMRUEFSgVKEwVAhUAAAAQAAAAbXkgYmlsbCBpcyB3cm9uZxUAFRAVECwVAhUQFQYVBgAAAgAAAAIBAAMVDBk1"
    "AAYQGRgHY29tbWVudBUAFgIWdBZ0JkomCAAZHBZKFTIWAAAAFQIZLEgEcm9vdBUCABUMJQIYB2NvbW1lbnQlAEwc"
    "AAAAFgIZHBkcJr4BHBUMGTUABhAZGAdjb21tZW50FQAWAhZ0FnQmSiYIABa4ARUUABZ0FgImCBZ0FAAAGRwYDEFS"
    "Uk9XOnNjaGVtYRigAS8vLy8vM0FBQUFBRUFBQUE4di8vL3hRQUFBQUVBQUVBQUFBS0FBc0FDQUFLQUFRQStQLy8v"
    "d3dBQUFBSUFBZ0FBQUFFQUFFQUFBQUVBQUFBN1AvLy95d0FBQUFnQUFBQUdBQUFBQUVVQUFBUUFCSUFCQUFRQUJF"
    "QUNBQUFBQXdBQUFBQUFQei8vLzhFQUFRQUJ3QUFBR052YlcxbGJuUUEAGE5Qb2xhcnMgKHB5dGhvbikgdmVyc2lv"
    "biAyLjEuMCAoYnVpbGQgN2Y5MDJiZDNmZmQyN2ZmODJkMTQyNzhhMDlhMjk1ZmYyZjdhZWQ5MikZHBwAAABkAQAA"
    "UEFSMQ=="
)


def _flip(data: bytes, offset: int, mask: int) -> bytes:
    return data[:offset] + bytes([data[offset] ^ mask]) + data[offset + 1 :]


def test_found_the_small_parquet_file_itself_is_read():
    parsed, _ = check_source("survey", "small.parquet", SMALL_PARQUET)
    assert parsed.records["text"].to_list() == ["my bill is wrong"]


@pytest.mark.parametrize(
    ("offset", "mask"),
    [
        # the interpreter aborts: "memory allocation of 2305843009213693952 bytes failed"
        pytest.param(45, 0x01, id="abort"),
        # PanicException: ... OutOfSpec("Thrift out of range")
        pytest.param(47, 0x01, id="panic-thrift-out-of-range"),
        # PanicException: ... assertion `left == right` failed
        pytest.param(54, 0x01, id="panic-left-right"),
        # PanicException: ... assertion failed: offset + length <= self.length
        pytest.param(58, 0xFF, id="panic-offset-length"),
    ],
)
def test_found_a_parquet_file_with_one_damaged_byte_is_quarantined(offset, mask):
    """polars.read_parquet on these bytes panics (pyo3's PanicException, a BaseException
    that parse_tabular's ``except Exception`` and parse_source's safety net let through)
    or aborts the interpreter outright. pyarrow.parquet.read_table raises OSError on all
    four."""
    parsed, _ = check_source("survey", "damaged.parquet", _flip(SMALL_PARQUET, offset, mask))
    assert parsed.quarantine["reason_code"].to_list() == ["unreadable_file"]


def test_found_private_use_characters_in_an_email_body():
    """email._reply_body marks long lines with U+E001<n>U+E001 and puts them back by
    index; a customer's own U+E001 0 U+E001 is taken for a marker (IndexError). U+E000, the
    other marker, is silently deleted from the customer's text."""
    data = "From: jane@example.com\n\nThe app crashes \ue0010\ue001 daily\n".encode()
    parsed, _ = check_source("email", "pua.eml", data)
    assert parsed.records["text"].to_list() == ["The app crashes \ue0010\ue001 daily"]


def test_found_an_email_saved_with_a_utf8_bom():
    """A BOM before "From:" hides every header: the message is refused as not an e-mail."""
    data = b"\xef\xbb\xbfFrom: jane@example.com\nSubject: bill\n\nMy bill is wrong.\n"
    parsed, _ = check_source("email", "bom.eml", data)
    assert parsed.records.height == 1


@pytest.mark.parametrize(
    "text",
    [
        "From: jane@example.com\nSubject: bill\n\nMy bill is wrong.\n",
        "From: a@b.com\n\nhi \u00d8",
    ],
)
def test_found_an_email_in_utf16_big_endian_without_a_bom(text):
    """decode_text reads BOM-less UTF-16 with the right byte order but names it "utf-16";
    email._parse decodes the raw bytes again with that name, i.e. little-endian: mojibake
    ("not an e-mail") or a UnicodeDecodeError (parser_error)."""
    parsed, _ = check_source("email", "be.eml", text.encode("utf-16-be"))
    assert parsed.records.height == 1


# ======================================================================================
# enormous inputs: plain tests, no timing assertions (speed lives in the benchmarks)
# ======================================================================================
def _words(size: int) -> bytes:
    unit = b"the app keeps crashing when I pay my bill and nobody calls me back "
    return (unit * (size // len(unit) + 1))[:size]


@pytest.mark.timeout(300)
def test_a_5mb_single_csv_line_is_one_record_cut_to_size():
    data = b"id,comment\n1," + _words(5_000_000) + b"\n"
    parsed, batch = check_source("survey", "huge.csv", data)
    assert (parsed.rows_read, parsed.records.height) == (1, 1)
    assert batch.feedback.height == 1
    assert batch.notes["note_code"].to_list() == ["text_cut"]


@pytest.mark.timeout(300)
def test_a_5mb_csv_line_with_an_unterminated_quote():
    data = b'id,comment\n1,"' + _words(5_000_000) + b"\n2,fine words here\n"
    parsed, _ = check_source("complaint", "huge.csv", data)
    assert parsed.rows_read >= 1


@pytest.mark.timeout(300)
def test_a_5mb_header_line_and_no_newline():
    data = b",".join(b"c%d" % i for i in range(700_000))[:5_000_000]
    parsed, _ = check_source("survey", "wide.csv", data)
    assert parsed.records.height == 0


@pytest.mark.timeout(300)
def test_100k_tiny_jsonl_lines_one_of_them_broken():
    lines = [json.dumps({"id": i, "comment": f"my bill is wrong {i}"}) for i in range(100_000)]
    lines[50_000] = '{"id": 50000, "comment": '
    parsed, batch = check_source("survey", "many.jsonl", "\n".join(lines).encode())
    assert parsed.rows_read == 100_000
    assert parsed.records.height == 99_999
    assert parsed.quarantine["reason_code"].to_list() == ["malformed_line"]
    assert batch.feedback.height == 99_999


@pytest.mark.timeout(300)
def test_a_300k_character_vtt_cue():
    words = _words(300_000).decode()
    data = (
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Agent>How can I help?\n\n"
        f"00:00:02.000 --> 01:00:00.000\n<v Customer>{words}\n"
    ).encode()
    parsed, batch = check_source("call", "long.vtt", data)
    assert parsed.records.height == 1
    assert batch.feedback.height == 1


@pytest.mark.timeout(300)
@pytest.mark.parametrize("ext", [".srt", ".txt", ".json"])
def test_a_300k_character_turn_in_other_transcripts(ext):
    words = _words(300_000).decode()
    if ext == ".srt":
        text = (
            "1\n00:00:01,000 --> 00:00:02,000\nAgent: hello\n\n"
            f"2\n00:00:02,000 --> 00:50:00,000\nCustomer: {words}\n"
        )
    elif ext == ".txt":
        text = f"Agent: hello\nCustomer: {words}\n"
    else:
        text = json.dumps({"turns": [{"speaker": "Customer", "text": words}]})
    parsed, _ = check_source("call", f"long{ext}", text.encode())
    assert parsed.records.height == 1


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(_words(300_000), id="one-300k-line"),
        pytest.param(b"my bill is wrong\n" * 18_000, id="18k-short-lines"),
        pytest.param(b"\n" * 300_000 + b"my bill is wrong", id="300k-blank-lines"),
        pytest.param(b"> quoted\n" * 30_000 + b"my bill is wrong", id="30k-quoted-lines"),
        pytest.param(b" " * 300_000 + b"wrote:\n> x", id="300k-spaces-then-wrote"),
    ],
)
def test_an_enormous_email_body(body):
    head = b"From: jane@example.com\nSubject: bill\nDate: Mon, 2 Nov 2026 10:15:00 +0000\n\n"
    parsed, _ = check_source("email", "long.eml", head + body)
    assert parsed.rows_read == 1


@pytest.mark.timeout(300)
@pytest.mark.parametrize("channel", ["survey", "call"])
def test_json_nested_100k_levels(channel):
    for doc in ("[" * 100_000 + "]" * 100_000, '{"turns":' * 100_000 + "[]" + "}" * 100_000):
        parsed, _ = check_source(channel, "deep.json", doc.encode())
        assert parsed.records.height == 0
