"""Call transcripts (.vtt, .srt, JSON turns, plain "Speaker: text" .txt) → one record per call.

The customer's turns are the feedback text; the agent's turns are kept as context. Who is
who comes from the speaker labels ("Agent Sarah", "Caller", "AGENT"/"CUSTOMER"); when the
labels are just names, from what people say ("thank you for calling", "how can I help"),
else the first speaker is taken to be the agent. A call is the same record next time by
its call id, else by a hash of its words, so a renamed or moved file is not a new call.

Metadata (call id, start time, customer, queue, agent, language, CSAT) comes from the
file: WebVTT NOTE blocks and header lines, JSON keys (matched case-insensitively, Amazon
Connect Contact Lens included), a leading "Key: value" block or ``# key=value`` lines of
a .txt; the start time else from a date in the file name. A call whose file names no
customer is known by what the caller answers when the agent asks for the e-mail address or
phone number on the account (identification, before redaction takes it out of the text).
"""

from __future__ import annotations

import functools
import hashlib
import html
import io
import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import PurePath
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from flows.intake.pii import identifiers_in
from flows.intake.sources.base import (
    ParsedSource,
    ParseOptions,
    QuarantineLog,
    UndecodableError,
    decode_text,
    excerpt,
    records_frame,
    suffix,
    whole_file_rejected,
)
from flows.intake.sources.dates import parse_date_column

CHANNEL = "call"
SCORE_KINDS = ("nps", "csat", "rating", "ces", "csat_binary")

# speaker labels, as whole words of the label; agent words win ("Customer Service")
AGENT_WORDS = frozenset(
    (
        "agent advisor adviser rep representative operator support csr associate "
        "specialist consultant staff bot ivr service services care helpdesk supervisor "
        "assistant employee technician tech mitarbeiter berater beraterin kundenservice "
        "conseiller conseillere agente asesor operatore"
    ).split()
)
CUSTOMER_WORDS = frozenset(
    (
        "customer caller client member user cust consumer subscriber holder patient guest "
        "kunde kundin anrufer anruferin cliente appelant klant beller"
    ).split()
)
# what agents say; the unknown speaker who says most of these is the agent
_AGENT_PHRASES = re.compile(
    r"thank(?:s| you) for (?:calling|holding|waiting|your patience|contacting)|"
    r"how (?:can|may|could) i (?:help|assist)|what can i do for you|"
    r"(?:is there )?anything else (?:i can|we can|today)|is there anything else|"
    r"my name is \w+(?: \w+)?,? (?:and i|i'?m|i am|how)|calling from|you'?re (?:through|speaking) to|"
    r"for (?:security|verification) (?:purposes|reasons)|can you (?:confirm|verify) your|"
    r"vielen dank f[üu]r ihren anruf|wie kann ich (?:ihnen )?helfen|"
    r"merci (?:de|pour) votre appel|comment puis-je vous aider|"
    r"gracias por (?:su )?llamada|en qu[ée] puedo ayudar",
    re.IGNORECASE,
)
# "Speaker: text", "Agent Sarah: text", "Advisor (Tom): text", "Sarah [00:01:02]: text"
_LABEL = re.compile(
    r"^(?P<label>[^\W\d_][\w.'’\- ]{0,38}?(?:\s*\([^():]{1,30}\))?)\s*"
    r"(?:[\[(]\s*\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?\s*[\])])?\s*:(?!//)\s*(?P<rest>.*)$"
)
# otter.ai style: "Speaker 1  0:03" alone on a line, the words on the next lines
_LABEL_LINE = re.compile(
    r"^(?P<label>[^\W\d_][\w.'’\- ]{0,38}?)\s{2,}\(?\d{1,2}:\d{2}(?::\d{2})?\)?\s*$"
)
_TIMESTAMP = re.compile(
    r"^\s*[\[(]?(?P<t>\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?)(?:\s?[AaPp][Mm])?[\])]?\s*(?:[-–|]\s*)?"
)
_DASH = re.compile(r"^\s*[-–—]+\s+")
# WebVTT cue tags voc drops (others, like a customer's "<script>", are text)
_VTT_TAG = re.compile(
    r"</?(?:c|i|b|u|v|ruby|rt|lang|font)(?:[.\s][^<>]*)?>|<\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?>",
    re.IGNORECASE,
)
_VOICE = re.compile(r"<v(?:\.[\w-]+)*[ \t]+([^<>\s][^<>]*)>", re.IGNORECASE)
_SRT_TAG = re.compile(r"</?(?:b|i|u|font)(?:\s[^<>]*)?>|\{\\[^{}]*\}", re.IGNORECASE)
# a date (and time) in a file name: 2026-10-01T09-14_C10024.srt, call_2026-10-01.txt,
# 20261001_091400.vtt
_NAME_DATE = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d{2})(?P<s>[-_.]?)(?P<m>\d{2})(?P=s)(?P<d>\d{2})"
    r"(?:[T _-]?(?P<H>\d{2})[-_.:h]?(?P<M>\d{2})(?:[-_.:m]?(?P<S>\d{2}))?)?(?!\d)"
)
_GENERIC_LABEL = re.compile(r"(?i)(?:speaker|spk|ch|channel|participant)[\s_-]*\d+|[A-Z]")
_NORM = re.compile(r"[\s_\-.]")
MAX_TURNS_DEPTH = 4  # how deep a turn's text may be nested ({"alternatives":[{"transcript"}]})

# JSON keys, compared lower-cased without "_", "-" or spaces
_ID_KEYS = ("callid", "contactid", "conversationid", "interactionid", "id")
_DATE_KEYS = tuple(
    (
        "startedat starttime starttimestamp initiationtimestamp date datetime timestamp "
        "calldate createdat started"
    ).split()
)
_CUSTOMER_KEYS = tuple(
    (
        "customeremail customer caller customerphone phone ani callerid customernumber "
        "phonenumber email from"
    ).split()
)
_CUSTOMER_SUBKEYS = tuple(
    "email emailaddress mail phone phonenumber number ani id customerid".split()
)
_TURN_KEYS = tuple(("turns transcript utterances segments messages dialogue conversation").split())
_SPEAKER_KEYS = tuple(
    ("speaker role participant participantid participantrole channel speakerlabel from").split()
)
_TEXT_KEYS = ("text", "content", "utterance", "transcript", "message", "body", "value")
_QUEUE_KEYS = ("queue", "queuename", "skill", "department", "team")
_AGENT_KEYS = ("agent", "agentname", "advisor", "rep", "agentid")
_LANGUAGE_KEYS = ("language", "languagecode", "locale", "lang")
_SCORE_KEYS = (
    ("csat", "csat"),
    ("csatscore", "csat"),
    ("satisfaction", "csat"),
    ("nps", "nps"),
    ("npsscore", "nps"),
    ("ces", "ces"),
    ("rating", "rating"),
)
_DURATION_KEYS = ("durationseconds", "duration", "callduration", "durationsec", "talktime")
_DURATION_MS_KEYS = ("durationms", "durationmillis", "totalconversationdurationmillis")
_END_KEYS = ("end", "endtime", "endseconds", "endoffset")
_END_MS_KEYS = ("endoffsetmillis", "endms", "endmillis")
_NESTED_META = tuple(
    ("customermetadata metadata call contact conversationcharacteristics attributes").split()
)
_CALL_LISTS = tuple(("calls conversations contacts items records data results transcripts").split())
# keys that make a leading "Key: value" block of a .txt metadata rather than dialogue
_TXT_META_ONLY = frozenset(
    (
        "callid contactid id date startedat starttime time datetime queue duration phone "
        "email customeremail customerphone language csat nps agentname calldate ani "
        "callerid conversationid interactionid skill"
    ).split()
)


class Malformed(ValueError):
    """The file is not a transcript in the format its name says."""


class Empty(Malformed):
    """The file is a transcript with nothing said in it."""


@dataclass
class Turn:
    speaker: str | None  # the label as written ("Agent Sarah"), None when nobody is named
    text: str
    end: float | None = None  # seconds from the start of the call


@dataclass
class Call:
    ref: str
    turns: list[Turn]
    meta: dict[str, object] = field(default_factory=dict)  # normalised key → value
    duration: float | None = None
    fmt: str = ""
    raw: object = None
    forced_roles: dict[str, str] = field(default_factory=dict)  # label → role, from the file


@dataclass
class Problem:
    ref: str
    code: str
    reason: str
    raw: object = None


def parse(name: str, data: bytes, options: ParseOptions = ParseOptions()) -> ParsedSource:
    """One record per call in a transcript file; what cannot be read is quarantined."""
    try:
        return _parse(name, data, options)
    except Exception as exc:  # never escape: the file becomes one quarantine row
        return whole_file_rejected(
            CHANNEL,
            name,
            "parser_error",
            f"{PurePath(name).name} could not be parsed as a call transcript: "
            f"{type(exc).__name__}: {exc}",
            data[:300],
        )


def _parse(name: str, data: bytes, options: ParseOptions) -> ParsedSource:
    base = PurePath(name).name
    try:
        text, _ = decode_text(data)
    except UndecodableError as exc:
        return whole_file_rejected(CHANNEL, name, "undecodable_file", f"{base} {exc}", data[:300])
    text = text.lstrip("\ufeff")
    if not text.strip():
        return whole_file_rejected(CHANNEL, name, "empty_transcript", f"{base} is empty")
    fmt = detect_format(name, text)
    try:
        items = {"vtt": read_vtt, "srt": read_srt, "json": read_json, "txt": read_txt}[fmt](
            base, text
        )
    except Empty as exc:
        return whole_file_rejected(CHANNEL, name, "empty_transcript", f"{base}: {exc}", text[:300])
    except Malformed as exc:
        return whole_file_rejected(
            CHANNEL, name, "malformed_transcript", f"{base}: {exc}", text[:300]
        )
    except RecursionError:
        return whole_file_rejected(
            CHANNEL,
            name,
            "malformed_transcript",
            f"{base}: nested too deeply to be a transcript",
            text[:300],
        )

    zone = local_zone(options)
    name_date = date_from_name(base)
    if name_date is not None:
        name_date = _to_utc(name_date, zone)  # a time in a file name is local time
    log = QuarantineLog()
    rows: list[dict[str, object]] = []
    for item in items:
        if isinstance(item, Problem):
            log.add(item.ref, item.code, item.reason, item.raw)
            continue
        try:
            row = _record(item, name_date, options)
        except Exception as exc:  # one bad call never sinks the others
            log.add(item.ref, "parser_error", f"{type(exc).__name__}: {exc}", item.raw)
            continue
        if isinstance(row, Problem):
            log.add(row.ref, row.code, row.reason, row.raw)
        else:
            rows.append(row)
    notes = [f"{fmt} transcript, {len(items)} call(s)"]
    return ParsedSource(CHANNEL, records_frame(rows), log.frame(), len(items), notes)


def detect_format(name: str, text: str) -> str:
    ext = suffix(name)
    head = text.lstrip()[:200]
    if head.startswith("WEBVTT"):
        return "vtt"
    if ext in (".vtt", ".srt", ".json", ".txt"):
        return ext[1:]
    if head[:1] in "[{":
        return "json"
    if re.match(r"\d+\s*\n\s*\d{1,2}:\d{2}:\d{2}[,.]\d+\s*-->", head):
        return "srt"
    return "txt"


# --------------------------------------------------------------------------------------
# one record
# --------------------------------------------------------------------------------------
def _call_duration(call: Call, turns: list[Turn]) -> float | None:
    """The call's length: as the format gives it, else from its metadata, else the end of
    its last timed turn."""
    duration = call.duration
    if duration is None:
        duration = _duration(call.meta)
    if duration is None:
        ends = [t.end for t in turns if t.end is not None]
        duration = max(ends) if ends else None
    return duration


def _content_key(raw_date: object, customer: str | None, turns: list[Turn]) -> str:
    """The record key of a call without an id: a hash of its start, customer and words."""
    lines = [str(raw_date or ""), customer or ""]
    lines += [f"{(t.speaker or '').strip().lower()}\t{' '.join(t.text.split())}" for t in turns]
    return "sha256:" + hashlib.sha256("\n".join(lines).encode("utf-8", "surrogatepass")).hexdigest()


def _record(
    call: Call, name_date: datetime | None, options: ParseOptions
) -> dict[str, object] | Problem:
    turns = [t for t in call.turns if t.text.strip()]
    if not turns:
        return Problem(
            call.ref, "empty_transcript", f"{call.ref}: the call has no spoken words", call.raw
        )
    meta = call.meta

    received_at = None
    raw_date = _first(meta, _DATE_KEYS)
    if raw_date not in (None, ""):
        received_at = parse_when(raw_date, options)
        if received_at is None:
            return Problem(
                call.ref,
                "bad_date",
                f"unparseable call start time {excerpt(str(raw_date), 60)!r}",
                call.raw,
            )
    if received_at is None:
        received_at = name_date

    roles, inferred = assign_roles(turns, call.forced_roles)
    customer_turns = [t.text for t in turns if roles[t.speaker] == "customer"]
    agent_turns = [t.text for t in turns if roles[t.speaker] == "agent"]

    call_id = _scalar(_first(meta, _ID_KEYS))
    customer = _customer(meta)  # the file's own; the record key depends on it alone
    spoken = _spoken_identifiers(turns, roles)
    known = _customer_values(meta) + spoken
    who = customer or next((v for v in spoken if "@" in v), spoken[0] if spoken else None)
    score, score_kind, score_raw = _score(meta)
    duration = _call_duration(call, turns)
    agent_name = _name(_first(meta, _AGENT_KEYS)) or _agent_from_labels(turns, roles)
    language = _scalar(_first(meta, _LANGUAGE_KEYS))
    if language:
        language = re.split(r"[-_\s]", language.strip().lower())[0] or None

    key = call_id or _content_key(raw_date, customer, turns)
    attributes = {
        "format": call.fmt,
        "duration_seconds": round(duration, 3) if duration is not None else None,
        "turns": len(turns),
        "customer_turns": len(customer_turns),
        "queue": _name(_first(meta, _QUEUE_KEYS)),
        "agent": agent_name,
        "roles_inferred": inferred or None,
        "score_raw": score_raw,
    }
    return {
        "source_ref": call.ref,
        "record_key": key,
        "received_at": received_at,
        "text": "\n".join(customer_turns),
        "score": score,
        "score_kind": score_kind,
        "customer": who,
        "customer_also": [v for v in dict.fromkeys(known) if v != who] or None,
        "language": language,
        "context": "\n".join(agent_turns) or None,
        "attributes": json.dumps(
            {k: v for k, v in attributes.items() if v is not None}, ensure_ascii=False
        ),
        "raw_excerpt": excerpt(call.raw if call.raw is not None else _transcript(turns)),
    }


def _transcript(turns: list[Turn]) -> str:
    return "\n".join(f"{t.speaker or '?'}: {t.text}" for t in turns)


# --------------------------------------------------------------------------------------
# speakers
# --------------------------------------------------------------------------------------
def role_of_label(label: str | None) -> str | None:
    """The role a speaker label names ("agent", "customer"), or None."""
    if not label:
        return None
    words = set(re.findall(r"[^\W\d_]+", label.lower()))
    if words & AGENT_WORDS:
        return "agent"
    if words & CUSTOMER_WORDS or "account holder" in label.lower():
        return "customer"
    return None


def assign_roles(
    turns: list[Turn], forced: dict[str, str] | None = None
) -> tuple[dict[str | None, str], bool]:
    """Each speaker's role, and whether any was inferred rather than read off a label.

    A speaker named as a role is that role. Unknown speakers: when an agent is named,
    they are customers; else the one who says agent phrases most is the agent (the
    first speaker when nobody does) and the rest are customers. A call with one unknown
    speaker (a voicemail, a transcript without labels) is the customer's, unless that
    speaker talks like an agent.
    """
    forced = forced or {}
    order: list[str | None] = []
    for turn in turns:
        if turn.speaker not in order:
            order.append(turn.speaker)
    roles: dict[str | None, str] = {}
    unknown = []
    for speaker in order:
        role = forced.get(speaker or "") or role_of_label(speaker)
        if role:
            roles[speaker] = role
        else:
            unknown.append(speaker)
    if not unknown:
        return roles, False
    hits = {s: 0 for s in unknown}
    for turn in turns:
        if turn.speaker in hits:
            hits[turn.speaker] += len(_AGENT_PHRASES.findall(turn.text))
    agent: int | None = None  # index into unknown (a speaker may be None: no label)
    if "agent" not in roles.values():
        best = max(range(len(unknown)), key=lambda i: hits[unknown[i]])  # first of the best
        if hits[unknown[best]] > 0:
            agent = best
        elif len(order) > 1:
            agent = 0
    for i, speaker in enumerate(unknown):
        roles[speaker] = "agent" if i == agent else "customer"
    return roles, True


def _agent_from_labels(turns: list[Turn], roles: dict[str | None, str]) -> str | None:
    """The agent's name from a label: "Agent Sarah" → "Sarah", "Sarah" (inferred) → "Sarah"."""
    for turn in turns:
        if (
            roles.get(turn.speaker) != "agent"
            or not turn.speaker
            or _GENERIC_LABEL.fullmatch(turn.speaker)
        ):
            continue
        words = re.findall(r"[^\W_][\w.'’-]*", turn.speaker)
        rest = [w for w in words if w.lower() not in AGENT_WORDS]
        if rest and not all(
            w.isdigit() or w.lower() in {"speaker", "spk", "ch", "channel"} for w in rest
        ):
            return " ".join(rest)
    return None


def _label_tiers(candidates: list[str]) -> set[str]:
    """Which "X:" line starts are speakers. Role words and labels seen twice are; when
    fewer than two such exist, name-like labels ("Sarah", "Speaker 1") are too. So an
    "Order number: 123" line inside a turn stays text."""
    counts: dict[str, int] = {}
    for label in candidates:
        counts[label] = counts.get(label, 0) + 1
    strong = {lab for lab, n in counts.items() if role_of_label(lab) or n >= 2}
    if len(strong) >= 2:
        return strong
    namelike = {
        lab
        for lab in counts
        if len(lab.split()) <= 3 and all(w[:1].isupper() or w[:1].isdigit() for w in lab.split())
    }
    return strong | namelike


def _split_label(line: str) -> tuple[str, str] | None:
    match = _LABEL_LINE.match(line)
    if match:
        return match.group("label").strip(), ""
    match = _LABEL.match(line)
    if not match:
        return None
    label, rest = match.group("label").strip(), match.group("rest").strip()
    if len(label.split()) > 4 or (label[-1:].isdigit() and rest[:1].isdigit()):
        return None  # "Speaker 2  0:04" or "Call at 10:30" is a time, not a speaker
    return label, rest


def _turns_from_lines(
    lines: list[tuple[str | None, str, float | None]], join: str = " "
) -> list[Turn]:
    """Turns from (voice, text, end) lines: a line without a voice may start with a
    speaker label; one without either continues the previous speaker."""
    candidates = []
    for voice, text, _ in lines:
        if voice is None:
            split = _split_label(_DASH.sub("", text))
            if split:
                candidates.append(split[0])
    speakers = _label_tiers(candidates)
    turns: list[Turn] = []
    current: str | None = None
    for voice, text, end in lines:
        if voice is not None:
            current = voice
        else:
            split = _split_label(_DASH.sub("", text))
            if split and split[0] in speakers:
                current, text = split
        text = text.strip()
        if turns and turns[-1].speaker == current:
            if text:
                turns[-1].text = f"{turns[-1].text}{join}{text}" if turns[-1].text else text
            turns[-1].end = end if end is not None else turns[-1].end
        elif text or voice is not None or current is not None:
            turns.append(Turn(current, text, end))
    return [t for t in turns if t.text]


# --------------------------------------------------------------------------------------
# WebVTT and SubRip
# --------------------------------------------------------------------------------------
def read_vtt(base: str, text: str) -> list[Call | Problem]:
    import webvtt
    from webvtt.errors import MalformedCaptionError, MalformedFileError

    if not text.lstrip().startswith("WEBVTT"):
        text = "WEBVTT\n\n" + text  # a header-less file is still cues
    try:
        vtt = webvtt.from_string(text.lstrip())
    except (MalformedFileError, MalformedCaptionError, ValueError) as exc:
        raise Malformed(f"not readable as WebVTT: {exc}") from None
    meta: dict[str, object] = {}
    for line in vtt.metadata:
        _meta_line(line, meta)
    comments = list(vtt.header_comments) + [c for cap in vtt.captions for c in cap.comments]
    for comment in comments + list(vtt.footer_comments):
        for line in comment.split("\n"):
            _meta_line(line, meta)
    lines: list[tuple[str | None, str, float | None]] = []
    last_end = None
    for caption in vtt.captions:
        end = caption.end_time.in_milliseconds() / 1000
        last_end = end if last_end is None else max(last_end, end)
        for raw_line in caption.lines:
            for voice, segment in _voice_segments(raw_line):
                lines.append((voice, html.unescape(_VTT_TAG.sub("", segment)), end))
    if not vtt.captions:
        raise Empty("has no captions (cues with 00:00:01.000 --> 00:00:04.000 times)")
    turns = _turns_from_lines(lines)
    return [Call(base, turns, meta, last_end, "vtt", None)]


def _voice_segments(line: str) -> list[tuple[str | None, str]]:
    """A cue line split at its voice spans: "<v A>hi</v><v B>yo" → [(A, hi), (B, yo)]."""
    segments: list[tuple[str | None, str]] = []
    pos, voice = 0, None
    for match in _VOICE.finditer(line):
        if match.start() > pos and line[pos : match.start()].strip():
            segments.append((voice, line[pos : match.start()]))
        voice, pos = match.group(1).strip(), match.end()
    segments.append((voice, line[pos:]))
    return segments


def read_srt(base: str, text: str) -> list[Call | Problem]:
    import webvtt
    from webvtt.errors import MalformedCaptionError, MalformedFileError

    try:
        srt = webvtt.from_buffer(io.StringIO(text.strip() + "\n"), format="srt")
    except (MalformedFileError, MalformedCaptionError, ValueError) as exc:
        raise Malformed(
            f"not readable as SubRip (numbered cues with 00:00:01,000 --> times): {exc}"
        ) from None
    if not srt.captions:
        raise Malformed("has no readable cues")
    lines: list[tuple[str | None, str, float | None]] = []
    last_end = None
    for caption in srt.captions:
        end = caption.end_time.in_milliseconds() / 1000
        last_end = end if last_end is None else max(last_end, end)
        for raw_line in caption.lines:
            lines.append((None, _SRT_TAG.sub("", raw_line), end))
    return [Call(base, _turns_from_lines(lines), {}, last_end, "srt", None)]


# --------------------------------------------------------------------------------------
# plain text
# --------------------------------------------------------------------------------------
def read_txt(base: str, text: str) -> list[Call | Problem]:
    raw_lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    meta: dict[str, object] = {}
    # "# call_id=C-1 started_at=..." / "NOTE ..." lines anywhere before the dialogue
    body: list[str] = []
    for line in raw_lines:
        stripped = line.strip()
        if not body and (stripped.startswith("#") or stripped.startswith("NOTE")):
            _meta_line(stripped.lstrip("#").removeprefix("NOTE").strip(), meta)
            continue
        body.append(line)
    # a leading "Key: value" block that names a call id, a date, a queue... is metadata
    block_end = next((i for i, line in enumerate(body) if not line.strip() and i > 0), None)
    if block_end is not None:
        block = [line for line in body[:block_end] if line.strip()]
        pairs = [_split_label(line) for line in block]
        if pairs and all(pairs) and any(_norm(p[0]) in _TXT_META_ONLY for p in pairs if p):
            for p in pairs:
                if p:
                    meta.setdefault(_norm(p[0]), p[1])
            body = body[block_end:]
    lines: list[tuple[str | None, str, float | None]] = []
    for line in body:
        match = _TIMESTAMP.match(line)
        if match:
            line = line[match.end() :]
        if line.strip():
            lines.append((None, line, None))
    if not lines:
        raise Empty("has no spoken words")
    # a line's time is when it starts, so it gives no duration
    return [Call(base, _turns_from_lines(lines), meta, None, "txt", None)]


def _seconds(stamp: str) -> float | None:
    parts = stamp.replace(",", ".").split(":")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        return None
    seconds = 0.0
    for value in values:
        seconds = seconds * 60 + value
    return seconds


def _meta_line(line: str, meta: dict[str, object]) -> None:
    """``key=value key2="two words"`` pairs, or one ``Key: value``, into ``meta``."""
    line = line.strip()
    if not line:
        return
    pairs = re.findall(r"([A-Za-z][\w.-]*)\s*=\s*(\"[^\"]*\"|'[^']*'|\S+)", line)
    if pairs:
        for key, value in pairs:
            meta.setdefault(_norm(key), value.strip("\"'"))
        return
    match = re.match(r"^([A-Za-z][\w .-]{0,40}?)\s*:\s*(.+)$", line)
    if match:
        meta.setdefault(_norm(match.group(1)), match.group(2).strip())


# --------------------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------------------
def read_json(base: str, text: str) -> list[Call | Problem]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise Malformed(f"is not valid JSON: {exc}") from None
    if isinstance(data, dict):
        if _turns_key(data) is not None:
            return [_json_call(base, data, None, 1)]
        lowered = {_norm(k): v for k, v in data.items()}
        for key in _CALL_LISTS:
            if isinstance(lowered.get(key), list):
                data = lowered[key]
                break
        else:
            raise Malformed(
                "holds no call: expected an object with turns (turns/transcript/utterances/"
                'segments/Transcript) or a list of such calls, e.g. {"calls": [...]}'
            )
    if not isinstance(data, list):
        raise Malformed("holds no call: expected an object or a list of calls")
    if not data:
        raise Malformed("is an empty list: no calls")
    dicts = [d for d in data if isinstance(d, dict)]
    if (
        dicts
        and not any(_turns_key(d) is not None for d in dicts)
        and all(_looks_like_turn(d) for d in dicts)
    ):
        return [_json_call(base, {"turns": data}, None, 1)]  # a bare list of turns: one call
    return [_json_call(base, item, base, n) for n, item in enumerate(data, start=1)]


def _json_call(base: str, item: object, container: str | None, n: int) -> Call | Problem:
    raw = _json_excerpt(item)
    if not isinstance(item, dict):
        ref = f"{container}#{n}" if container else base
        return Problem(
            ref, "malformed_transcript", f"call {n} is a {type(item).__name__}, not an object", raw
        )
    meta = _json_meta(item)
    call_id = _scalar(_first(meta, _ID_KEYS))
    ref = f"{container}#{call_id or n}" if container else base
    key = _turns_key(item)
    if key is None:
        return Problem(
            ref,
            "malformed_transcript",
            "no turns: expected a list under turns/transcript/utterances/segments/Transcript",
            raw,
        )
    raw_turns = item[key]
    if isinstance(raw_turns, str):  # a transcript as one string of "Speaker: text" lines
        try:
            calls = read_txt(ref, raw_turns)
        except Malformed:
            calls = []
        if not calls or isinstance(calls[0], Problem):
            return Problem(ref, "empty_transcript", f"{ref}: the call has no spoken words", raw)
        call = calls[0]
        assert isinstance(call, Call)
        call.meta = {**call.meta, **meta}
        call.fmt, call.raw = "json", raw
        return call
    if not isinstance(raw_turns, list):
        return Problem(
            ref,
            "malformed_transcript",
            f"{key!r} is a {type(raw_turns).__name__}, not a list of turns",
            raw,
        )
    participants = _participants(item)
    turns: list[Turn] = []
    forced: dict[str, str] = {}
    for turn in raw_turns:
        if isinstance(turn, str):
            split = _split_label(turn)
            turns.append(Turn(split[0], split[1]) if split else Turn(None, turn))
            continue
        if not isinstance(turn, dict):
            continue
        low = {_norm(k): v for k, v in turn.items()}
        speaker = _scalar(_first(low, _SPEAKER_KEYS))
        if speaker is not None and speaker in participants:
            forced[speaker] = participants[speaker]
        words = _text_of(_first(low, _TEXT_KEYS), MAX_TURNS_DEPTH)
        end = _number(_first(low, _END_KEYS))
        end_ms = _number(_first(low, _END_MS_KEYS))
        if end is None and end_ms is not None:
            end = end_ms / 1000
        turns.append(Turn(speaker, words or "", end))
    if not [t for t in turns if t.text.strip()]:
        return Problem(ref, "empty_transcript", f"{ref}: the call has no spoken words", raw)
    return Call(ref, turns, meta, None, "json", raw, forced)


def _turns_key(item: dict) -> str | None:
    lowered = {_norm(k): k for k in item}
    for key in _TURN_KEYS:
        if key in lowered and isinstance(item[lowered[key]], list | str):
            return lowered[key]
    return None


def _looks_like_turn(item: dict) -> bool:
    keys = {_norm(k) for k in item}
    return bool(keys & set(_TEXT_KEYS)) and bool(keys & set(_SPEAKER_KEYS))


def _json_meta(item: dict) -> dict[str, object]:
    """The call's keys, normalised, with one level of nested metadata objects folded in
    (Contact Lens ``CustomerMetadata``, ``metadata``...); the call's own keys win."""
    meta: dict[str, object] = {}
    for key, value in item.items():
        if _norm(key) in _NESTED_META and isinstance(value, dict):
            for k, v in value.items():
                meta.setdefault(_norm(k), v)
    for key, value in item.items():
        if _norm(key) not in _NESTED_META:
            meta[_norm(key)] = value
    return meta


def _participants(item: dict) -> dict[str, str]:
    """Contact Lens ``Participants``: ParticipantId → role, when ids are not role names."""
    out: dict[str, str] = {}
    for key, value in item.items():
        if _norm(key) != "participants" or not isinstance(value, list):
            continue
        for p in value:
            if isinstance(p, dict):
                low = {_norm(k): v for k, v in p.items()}
                pid, role = (
                    _scalar(low.get("participantid") or low.get("id")),
                    _scalar(low.get("participantrole") or low.get("role")),
                )
                if pid and role_of_label(role):
                    out[pid] = role_of_label(role) or ""
    return out


def _text_of(value: object, depth: int) -> str | None:
    """A turn's words: a string, a number, or nested one level or two inside objects and
    lists ({"alternatives": [{"transcript": ...}]}); deeper nesting is not words."""
    if value is None or depth <= 0:
        return None
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        parts = [_text_of(v, depth - 1) for v in value[:1000]]
        return " ".join(p for p in parts if p) or None
    if isinstance(value, dict):
        low = {_norm(k): v for k, v in value.items()}
        return _text_of(_first(low, _TEXT_KEYS + ("alternatives",)), depth - 1)
    return None


def _json_excerpt(item: object) -> str:
    try:
        return json.dumps(item, ensure_ascii=False)[:2000]
    except (ValueError, TypeError, RecursionError):
        return f"({type(item).__name__} that cannot be shown)"


# --------------------------------------------------------------------------------------
# metadata values
# --------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=4096)
def _norm(key: str) -> str:
    return _NORM.sub("", str(key).lower())


def _first(meta: dict[str, object], keys: tuple[str, ...]) -> object:
    for key in keys:
        value = meta.get(key)
        if value not in (None, "", [], {}):
            return value
    return None


def _scalar(value: object) -> str | None:
    if value is None or isinstance(value, dict | list | bool):
        return None
    text = str(value).strip()
    return text or None


def _name(value: object) -> str | None:
    """A queue or agent: a string, or an object with a name ({"Name": "Billing"})."""
    if isinstance(value, dict):
        low = {_norm(k): v for k, v in value.items()}
        value = _first(low, ("name", "username", "displayname", "id", "arn"))
    return _scalar(value)


def _number(value: object) -> float | None:
    """A finite number from a number, "4", "4,5" or "1:05"; None otherwise."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = (
            float(value)
            if isinstance(value, int | float)
            else float(str(value).strip().replace(",", "."))
        )
        return number if math.isfinite(number) else None
    except (ValueError, OverflowError):
        seconds = (
            _seconds(str(value).strip())
            if re.fullmatch(r"\d+:\d{2}(:\d{2})?", str(value).strip())
            else None
        )
        return seconds


def _customer_candidates(meta: dict[str, object]) -> list[str]:
    values: list[str] = []
    for key in _CUSTOMER_KEYS:
        value = meta.get(key)
        if isinstance(value, dict):
            low = {_norm(k): v for k, v in value.items()}
            for sub in _CUSTOMER_SUBKEYS:
                if _scalar(low.get(sub)):
                    values.append(str(_scalar(low.get(sub))))
        elif _scalar(value):
            values.append(str(_scalar(value)))
    return values


def _customer_values(meta: dict[str, object]) -> list[str]:
    """Every identifier the file gives the customer (an e-mail address, a phone, an id with
    digits), for linking them as one customer; a bare name links nobody."""
    return [v for v in _customer_candidates(meta) if "@" in v or sum(ch.isdigit() for ch in v) >= 4]


# an agent asking who the caller is; the caller's next words answer it
_ID_QUESTION = re.compile(
    r"\b(e-?mail|phone|mobile|number (on|for) the account|registered|"
    r"number\b.{0,25}\b(reach|call|contact) you)\b",
    re.IGNORECASE,
)


def _spoken_identifiers(turns: list[Turn], roles: dict[str | None, str]) -> list[str]:
    """The e-mail addresses and phone numbers the caller gives in answer to the agent's
    identification question ("What's the email address on the account?"), in order. Only
    answers count: a number read out elsewhere in the call may be anybody's."""
    found: list[str] = []
    asked = False
    for turn in turns:
        if roles[turn.speaker] == "agent":
            asked = bool(_ID_QUESTION.search(turn.text))
        elif asked:
            found += identifiers_in(turn.text)
    return list(dict.fromkeys(found))


def _customer(meta: dict[str, object]) -> str | None:
    """The customer's e-mail address if the call names one, else a phone, else an id."""
    values = _customer_candidates(meta)
    for value in values:
        if re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
            return value.lower()
    for value in values:
        if re.fullmatch(r"[+()\d][\d\s().\-/]{5,}\d", value):
            return value
    return values[0] if values else None


def _score(meta: dict[str, object]) -> tuple[float | None, str | None, str | None]:
    for key, kind in _SCORE_KEYS:
        value = meta.get(key)
        if value in (None, ""):
            continue
        number = _number(value)
        if number is None:
            return None, None, str(value)[:40]
        return number, kind, None
    return None, None, None


def _duration(meta: dict[str, object]) -> float | None:
    for key in _DURATION_KEYS:
        value = _number(meta.get(key))
        if value is not None:
            return value
    for key in _DURATION_MS_KEYS:
        value = _number(meta.get(key))
        if value is not None:
            return value / 1000
    return None


def parse_when(value: object, options: ParseOptions = ParseOptions()) -> datetime | None:
    """A start time as naive UTC: ISO 8601, epoch seconds or milliseconds, or any format
    ``flows.intake.sources.dates`` knows. None when it cannot be read or is implausible."""
    parsed: datetime | None = None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) or (
        isinstance(value, str) and re.fullmatch(r"\d{9,13}(\.\d+)?", value.strip())
    ):
        number = float(value)
        if number > 1e11:
            number /= 1000
        try:
            parsed = datetime.fromtimestamp(number, tz=UTC).replace(tzinfo=None)
        except (OverflowError, OSError, ValueError):
            return None
    elif isinstance(value, str):
        text = value.strip()
        zone = local_zone(options)
        try:
            parsed = _to_utc(datetime.fromisoformat(text), zone)
        except (ValueError, OverflowError):
            series = pl.Series([text[:100]], dtype=pl.String)
            if zone is UTC:
                parsed = parse_date_column(series, options.date_order).values[0]
            else:
                parsed = parse_date_column(series, options.date_order, str(zone)).values[0]
    if parsed is None or not 1970 <= parsed.year <= 2200:
        return None
    return parsed


def local_zone(options: ParseOptions) -> tzinfo:
    """The zone of times written without an offset (``ParseOptions.source_timezone``)."""
    name = getattr(options, "source_timezone", "UTC") or "UTC"
    if name.upper() in ("UTC", "Z", "GMT"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _to_utc(value: datetime, zone: tzinfo) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC).replace(tzinfo=None)


def date_from_name(name: str) -> datetime | None:
    """A date, and a time if there is one, in a file name; None when there is none."""
    for match in _NAME_DATE.finditer(PurePath(name).stem):
        g = match.groupdict()
        try:
            return datetime(
                int(g["y"]),
                int(g["m"]),
                int(g["d"]),
                int(g["H"] or 0),
                int(g["M"] or 0),
                int(g["S"] or 0),
            )
        except ValueError:
            continue
    return None
