"""E-mail (.eml, .mbox, an .eml-like .txt) → one record per message the customer wrote.

A message's text is its subject (without Re:/Fwd:/AW:/WG: prefixes) and the part of its
body the customer wrote this time: the text/plain part, else the text/html part as text;
quoted replies, signatures and "Sent from my iPhone" footers are cut with
``mail-parser-reply``, helped where it cuts too much or too little (see ``latest_reply``).
Attachments are never read, only named. Mail the company sent (its own domains, or the
support inbox of an mbox writing back) is not customer feedback and is quarantined.

Messages are parsed from bytes, so each part is decoded with its own declared charset;
a part that lies about its charset (or declares none) falls back to ``decode_text``.
"""

from __future__ import annotations

import codecs
import email
import email.header
import email.policy
import email.utils
import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage as MimeMessage
from pathlib import PurePath

from mailparser_reply.constants import MAIL_LANGUAGES
from mailparser_reply.parser import EmailMessage as ReplyMessage

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

CHANNEL = "email"
# mail-parser-reply languages. Left out on purpose: "pt" (not supported), "da"/"sv"/"pl"
# (their signature and header patterns match ordinary line starts such as "Take...",
# "/account/..." or "Data:" and would cut the customer's own words).
REPLY_LANGUAGES = ("en", "de", "fr", "es", "it", "nl")
# the headers at least one of which a message has; anything else is not an e-mail
_MAIL_HEADERS = frozenset(
    (
        "from to cc subject date message-id received return-path mime-version "
        "content-type sender reply-to in-reply-to references"
    ).split()
)
MBOX_SUFFIXES = {".mbox", ".mbx"}
# an mbox "From_" line: "From jane@example.com Tue Nov  3 10:15:00 2026" (a time, a year)
_FROM_LINE = re.compile(rb"^From \S+ +.*?\b\d{1,2}:\d{2}\b.*?\b(?:19|20)\d{2}\b")
_FROM_LINE_STRICT = re.compile(
    rb"^From \S+ +\w{3} \w{3} +\d{1,2} \d{1,2}:\d{2}(?::\d{2})? +(?:\S+ +)?\d{4}\s*$"
)
_MBOXRD_ESCAPE = re.compile(rb"^>(>*From )")
_SUBJECT_PREFIX = re.compile(
    r"^\s*(?:(?:re|fwd?|aw|wg|sv|antw|tr|rv|enc)\s*(?:\[\d+\]|\(\d+\))?\s*:\s*)+", re.IGNORECASE
)
_FORWARD_MARKER = re.compile(
    r"^[ \t]*(?:-{2,}[ \t]*(?:forwarded message|weitergeleitete nachricht|message transf[ée]r[ée]|"
    r"mensaje reenviado|messaggio inoltrato|doorgestuurd bericht)[ \t]*-*|"
    r"begin forwarded message:|anfang der weitergeleiteten nachricht:|d[ée]but du message r[ée]exp[ée]di[ée][ \t]*:)[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
# mobile and webmail footers the library misses (it only knows "Sent from my", "Gesendet
# von", "Envoyé depuis", ...): cut from such a line to the end
_FOOTER = re.compile(
    r"^[ \t]*(?:sent from my|sent from (?:outlook|mail for windows|yahoo mail)|gesendet von meinem|"
    r"von meinem \w+ gesendet|envoy[ée] de mon|envoy[ée] depuis|enviado desde mi|inviato da|"
    r"verzonden (?:vanaf|met) mijn|get outlook for)\b",
    re.IGNORECASE,
)
# mail-parser-reply's signature and "Sent from my" phrases ("Thanks,", "Best regards",
# "Mit freundlichen Grüßen", ...) cut everything below a line that STARTS with one; a line
# that goes on into a sentence ("Thanks, but the app still crashes.") is the customer
# talking, not signing off
_SIGNOFF = re.compile(
    r"^(?:> ?)*(?:"
    + "|".join(
        p
        for lang in REPLY_LANGUAGES
        for p in [
            *MAIL_LANGUAGES[lang].get("signatures", []),
            MAIL_LANGUAGES[lang].get("sent_from"),
        ]
        if p
    )
    + r")",
    re.IGNORECASE,
)
_ATTRIBUTION = re.compile(
    r"^[ \t]*(?:> ?)*\S.{0,200}?\b(?:wrote|schrieb|a\s+[ée]crit|escribi[óo]|ha\s+scritto|schreef|"
    r"escreveu|skrev|napsal|napisa[łl]|kirjoitti|yazd[ıi])\b.{0,200}:\s*$",
    re.IGNORECASE,
)
# Private-use characters, in the order _reply_body tries them as its two sentinels (one
# prefixes a line so no signature pattern matches it, one brackets the placeholder of a
# long line). They are chosen per text, among those the text does not hold: a customer
# may type (or paste) any character, and theirs must come through verbatim.
_PRIVATE_USE = (range(0xE000, 0xF900), range(0xF0000, 0xFFFFE), range(0x100000, 0x10FFFE))
_LONG_LINE = 250  # the library's "On ... wrote:" patterns are quadratic in a line's length
_PARAGRAPH_TAGS = frozenset("p h1 h2 h3 h4 h5 h6 blockquote pre table ul ol".split())
_BLOCK_TAGS = (
    "p div li ul ol tr table h1 h2 h3 h4 h5 h6 blockquote pre hr section article "
    "header footer dd dt"
).split()


@dataclass
class _Message:
    """What one message says, before it is decided whether it is a record."""

    position: int
    raw: bytes
    headers: dict[str, str] = field(default_factory=dict)
    sender: str | None = None
    recipients: set[str] = field(default_factory=set)
    mime: MimeMessage | None = None
    error: tuple[str, str] | None = None  # (reason_code, reason) when unreadable


def parse(name: str, data: bytes, options: ParseOptions = ParseOptions()) -> ParsedSource:
    """Records for the customer-written messages in an .eml, .mbox or .eml-like .txt."""
    try:
        return _parse(name, data, options)
    except Exception as exc:  # never escape: the file becomes one quarantine row
        return whole_file_rejected(
            CHANNEL,
            name,
            "parser_error",
            f"{PurePath(name).name} could not be parsed as e-mail: {type(exc).__name__}: {exc}",
            data[:300],
        )


def _parse(name: str, data: bytes, options: ParseOptions) -> ParsedSource:
    base = PurePath(name).name
    try:
        text, encoding = decode_text(data)
    except UndecodableError as exc:
        return whole_file_rejected(CHANNEL, name, "undecodable_file", f"{base} {exc}", data[:300])
    if not data.strip():
        return whole_file_rejected(CHANNEL, name, "empty_file", f"{base} is empty")
    if encoding.startswith(("utf-16", "utf-32")):
        # mail is ASCII-compatible on the wire; re-encode so the byte parser can read it.
        # The text decode_text read is used as it is: decoding the bytes again by the
        # codec's name would guess the byte order of BOM-less UTF-16 anew (and wrongly).
        data = text.removeprefix("\ufeff").encode("utf-8")
    elif encoding == "utf-8-sig":
        # a BOM (Notepad's "UTF-8") before "From:" or a From_ line would hide every header
        data = data.removeprefix(codecs.BOM_UTF8)

    chunks = split_mbox(data, is_mbox=suffix(name) in MBOX_SUFFIXES)
    if not chunks:
        return whole_file_rejected(
            CHANNEL, name, "empty_file", f"{base} holds no messages", data[:300]
        )
    messages = [_read_headers(i, chunk) for i, chunk in enumerate(chunks, start=1)]
    inbox = support_inbox(messages)
    company = tuple(
        d.lower().strip().lstrip("@.") for d in options.company_email_domains if d.strip()
    )

    log = QuarantineLog()
    rows: list[dict[str, object]] = []
    notes = [f"{len(messages)} message(s)"]
    if inbox:
        notes.append(f"support inbox (most messages were sent to it): {inbox}")
    for message in messages:
        ref = f"message {message.position}"
        try:
            if message.error:
                log.add(ref, message.error[0], message.error[1], message.raw)
                continue
            ref = _message_id(message.headers.get("message-id")) or ref
            outbound = _outbound_reason(message.sender, company, inbox)
            if outbound:
                log.add(ref, "outbound_email", outbound, _summary(message, None))
                continue
            row = _record(message, ref, notes)
            if isinstance(row, tuple):
                log.add(ref, row[0], row[1], _summary(message, None))
            else:
                rows.append(row)
        except Exception as exc:  # one bad message never sinks the others
            log.add(ref, "parser_error", f"{type(exc).__name__}: {exc}", message.raw)
    return ParsedSource(CHANNEL, records_frame(rows), log.frame(), len(messages), notes)


# --------------------------------------------------------------------------------------
# splitting and headers
# --------------------------------------------------------------------------------------
def split_mbox(data: bytes, is_mbox: bool = True) -> list[bytes]:
    """The messages of an mbox (or the one message of an .eml), From_ lines removed and
    mboxrd ">From " escapes undone. A From_ line starts a message at the start of the
    file or after a blank line (anywhere, when it is a complete ``From addr date`` line);
    text before the first one is a message too. Other files are one message, unless they
    start with a From_ line."""
    lines = data.splitlines(keepends=True)
    if not is_mbox and not (lines and _is_from_line(lines[0])):
        return [data] if data.strip() else []
    chunks: list[bytes] = []
    current: list[bytes] = []
    previous_blank = True
    for line in lines:
        if line.startswith(b"From ") and (
            (previous_blank and _is_from_line(line)) or _FROM_LINE_STRICT.match(line[:200])
        ):
            if b"".join(current).strip():
                chunks.append(b"".join(current))
            current, previous_blank = [], False
            continue
        current.append(_MBOXRD_ESCAPE.sub(rb"\1", line))
        previous_blank = not line.strip()
    if b"".join(current).strip():
        chunks.append(b"".join(current))
    return chunks


def _is_from_line(line: bytes) -> bool:
    return line.startswith(b"From ") and _FROM_LINE.match(line[:200]) is not None


def _read_headers(position: int, raw: bytes) -> _Message:
    message = _Message(position, raw)
    try:
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        message.mime = parsed
        for key, value in parsed.raw_items():
            message.headers.setdefault(key.lower(), _header_text(value))
    except Exception as exc:
        message.error = (
            "malformed_email",
            f"the message could not be parsed: {type(exc).__name__}: {exc}",
        )
        return message
    if not _MAIL_HEADERS & message.headers.keys():
        message.error = (
            "malformed_email",
            "not an e-mail: no From, To, Subject, Date or Message-ID header "
            "(plain text belongs in a complaint or survey file, not with e-mails)",
        )
        return message
    message.sender = _address(message.headers.get("from"))
    for header in ("to", "cc"):
        if header in message.headers:
            for _, addr in email.utils.getaddresses([message.headers[header]]):
                if "@" in addr:
                    message.recipients.add(addr.strip().lower())
    return message


def _header_text(value: str) -> str:
    """A header value as text: raw 8-bit bytes decoded, RFC 2047 words decoded, unfolded."""
    if any("\udc80" <= ch <= "\udcff" for ch in value):
        raw = value.encode("utf-8", "surrogateescape")
        try:
            value = decode_text(raw)[0]
        except UndecodableError:
            value = raw.decode("utf-8", "replace")
    if "=?" in value:
        try:
            value = str(email.header.make_header(email.header.decode_header(value)))
        except Exception:
            pass
    return " ".join(value.split())


def _address(value: str | None) -> str | None:
    if not value:
        return None
    _, addr = email.utils.parseaddr(value)
    addr = addr.strip().lower()
    if not addr:
        match = re.search(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", value)
        addr = match.group(0).lower() if match else ""
    return addr or None


def _message_id(value: str | None) -> str | None:
    if not value:
        return None
    match = re.search(r"<([^<>\s]+)>", value)
    ident = match.group(1) if match else value.strip().strip("<>").strip()
    return ident or None


def support_inbox(messages: list[_Message]) -> str | None:
    """The address most messages of a file (≥ 3 messages) were sent to: the support inbox."""
    readable = [m for m in messages if not m.error]
    if len(readable) < 3:
        return None
    counts = Counter(addr for m in readable for addr in m.recipients)
    top = counts.most_common(2)
    if not top:
        return None
    addr, n = top[0]
    if n < 2 or n * 2 < len(readable) or (len(top) > 1 and top[1][1] == n):
        return None
    return addr


def _outbound_reason(sender: str | None, company: tuple[str, ...], inbox: str | None) -> str | None:
    if not sender:
        return None
    domain = sender.rpartition("@")[2]
    for d in company:
        if domain == d or domain.endswith("." + d):
            return f"sent by {sender}, an address of the company's own domain {d}: company mail, not customer feedback"
    if inbox and sender == inbox:
        return (
            f"sent by {sender}, the support inbox most messages in this file were sent to: "
            "company mail, not customer feedback"
        )
    return None


# --------------------------------------------------------------------------------------
# one record
# --------------------------------------------------------------------------------------
def _record(message: _Message, ref: str, notes: list[str]) -> dict[str, object] | tuple[str, str]:
    headers = message.headers
    received_at = None
    raw_date = headers.get("date", "").strip()
    if raw_date:
        received_at = parse_mail_date(raw_date)
        if received_at is None:
            return "bad_date", f"unparseable Date header {excerpt(raw_date, 80)!r}"

    mime = message.mime
    assert mime is not None
    body, html_only, attachments = _body(mime)
    subject_raw = headers.get("subject", "")
    subject = clean_subject(subject_raw)
    is_forward = bool(re.match(r"^\s*(?:fwd?|wg|tr|rv|enc)\s*:", subject_raw, re.IGNORECASE))
    reply, forwarded = latest_reply(body, is_forward)
    text = "\n\n".join(part for part in (subject, reply) if part)

    defects = sorted({type(d).__name__ for part in mime.walk() for d in part.defects})
    if "CloseBoundaryNotFoundDefect" in defects:
        notes.append(f"{ref}: a multipart boundary is never closed (truncated message?)")
    language = headers.get("content-language", "").strip()
    language = re.split(r"[-_,;\s]", language.lower())[0] if language else None

    attributes = {
        "subject": subject_raw or None,
        "attachments": attachments or None,
        "in_reply_to": _message_id(headers.get("in-reply-to")),
        "html_only": html_only or None,
        "forwarded": forwarded or None,
    }
    key = _message_id(headers.get("message-id"))
    if key is None:
        digest = hashlib.sha256(
            "\x1f".join([message.sender or "", raw_date, subject_raw, body]).encode(
                "utf-8", "surrogatepass"
            )
        ).hexdigest()
        key = "sha256:" + digest
    return {
        "source_ref": ref,
        "record_key": key,
        "received_at": received_at,
        "text": text,
        "score": None,
        "score_kind": None,
        "customer": message.sender,
        "language": language or None,
        "context": None,
        "attributes": json.dumps(
            {k: v for k, v in attributes.items() if v is not None}, ensure_ascii=False
        ),
        "raw_excerpt": excerpt(_summary(message, body)),
    }


def parse_mail_date(value: str) -> datetime | None:
    """A Date header as naive UTC; None when it cannot be read."""
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is not None:
        try:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        except (OverflowError, ValueError):
            return None
    return parsed


def clean_subject(subject: str) -> str:
    return _SUBJECT_PREFIX.sub("", subject or "").strip()


def _summary(message: _Message, body: str | None) -> str:
    """A short, readable stand-in for the raw message (its start is mostly Received: lines)."""
    h = message.headers
    head = "\n".join(
        f"{k.title()}: {h[k]}" for k in ("from", "date", "subject", "message-id") if k in h
    )
    if body is None:
        raw = message.raw
        split = raw.find(b"\n\n")
        body = raw[split + 2 : split + 2 + 2000].decode("utf-8", "replace") if split >= 0 else ""
    return f"{head}\n\n{body}".strip()


# --------------------------------------------------------------------------------------
# body
# --------------------------------------------------------------------------------------
def _body(mime: MimeMessage) -> tuple[str, bool, list[str]]:
    """(body text, whether it came from HTML, attachment names)."""
    plain = html = None
    try:
        plain = mime.get_body(preferencelist=("plain",))
        html = mime.get_body(preferencelist=("html",))
    except Exception:
        pass
    if html is not None and html.get_content_type() != "text/html":
        html = None
    if plain is not None and html is not None and _part_text(plain).strip():
        html = None  # the plain part is the body; the HTML one is its alternative
    chosen = plain if html is None else html
    attachments: list[str] = []
    for part in mime.walk():
        if part.is_multipart() or part is chosen:
            continue
        ctype = part.get_content_type()
        try:
            filename = part.get_filename()
        except Exception:
            filename = None
        disposition = (part.get_content_disposition() or "").lower()
        if ctype in ("text/plain", "text/html") and not filename and disposition != "attachment":
            continue  # the other alternative of the body
        attachments.append(_header_text(filename) if filename else f"(unnamed {ctype})")
    if chosen is None:
        return "", False, attachments
    text = _part_text(chosen)
    if chosen is html:
        return html_to_text(text), True, attachments
    return text.replace("\r\n", "\n").replace("\r", "\n"), False, attachments


def _part_text(part: MimeMessage) -> str:
    payload = part.get_payload(decode=True)
    if payload is None:
        payload = b""
    if isinstance(payload, str):  # pragma: no cover - get_payload(decode=True) gives bytes
        return payload
    charset = part.get_content_charset()
    if charset:
        try:
            return payload.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass  # an unknown charset, or one the bytes do not follow
    try:
        return decode_text(payload)[0]
    except UndecodableError:
        return payload.decode("utf-8", "replace")


def html_to_text(html: str) -> str:
    """Visible text of an HTML body, one line per block; scripts, styles and quotes dropped."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "head", "title", "noscript", "template"]):
        tag.decompose()
    # quoted earlier mails: Gmail, Yahoo, Apple Mail and Thunderbird wrap them like this
    for tag in soup.select("blockquote, div.gmail_quote, div.yahoo_quoted, div.moz-cite-prefix"):
        tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for block in soup.find_all(_BLOCK_TAGS):
        if block.name in _PARAGRAPH_TAGS:
            block.insert_before("\n")  # a blank line between paragraphs
        block.insert_after("\n")
    text = soup.get_text().replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def latest_reply(body: str, is_forward: bool = False) -> tuple[str, bool]:
    """What the customer wrote this time: ``(text, forwarded)``.

    ``mail-parser-reply`` finds the reply headers ("On ... wrote:", Outlook "From: ...
    Sent: ...", "-----Original Message-----") and signatures; around it voc
    - hides lines longer than ``_LONG_LINE`` from it (its header patterns are quadratic),
    - keeps hyphen lists (it would read "- the app crashes" as a signature),
    - keeps lines that start like a sign-off but are sentences ("Thanks, but ..."),
    - treats a body that starts with a reply header as saying nothing new, unless the
      customer answered below the quote (bottom-posting),
    - drops "> " quoted lines, forward markers and mobile footers it leaves in,
    - uses the forwarded mail when a forward adds nothing of its own.
    """
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    # the library strips every line anyway; runs of blank lines are collapsed because its
    # "\s*^" patterns are quadratic in them
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(line.strip() for line in body.split("\n"))).strip()
    if not body:
        return "", False
    own, forwarded_part = body, ""
    marker = _FORWARD_MARKER.search(body)
    if marker:
        own, forwarded_part = body[: marker.start()], body[marker.end() :]
    text = _reply_body(own, own_only=True) if own.strip() else ""
    if not text and (marker or is_forward):
        source = forwarded_part if marker else body
        return _reply_body(source, own_only=False), True
    return text, False


def _cut_at_attribution(text: str) -> str:
    """Cut at an "X wrote:" line the library's patterns miss (Spanish needs two spaces
    before "escribió", Dutch Gmail puts the name after "schreef", Portuguese is unknown
    to it): a short line with a date or an address, ending in a "wrote" verb and ":",
    followed by "> " quoted lines or nothing."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if len(line) > _LONG_LINE or not _ATTRIBUTION.match(line) or not re.search(r"[\d@]", line):
            continue
        if not "\n".join(lines[:i]).strip():
            break  # nothing above it: the reply, if any, is below the quote
        rest = [other for other in lines[i + 1 :] if other.strip()]
        if not rest or rest[0].lstrip().startswith(">"):
            return "\n".join(lines[:i])
    return text


def _unused_private_use(text: str, count: int) -> list[str]:
    """``count`` private-use characters that ``text`` does not hold (fewer only when it
    holds nearly all 137 000 of them)."""
    present = set(text)
    found: list[str] = []
    for block in _PRIVATE_USE:
        for code in block:
            if chr(code) not in present:
                found.append(chr(code))
                if len(found) == count:
                    return found
    return found


def _reply_body(text: str, own_only: bool) -> str:
    if own_only:
        text = _cut_at_attribution(text)
    sentinels = _unused_private_use(text, 2)
    if len(sentinels) < 2:  # no character is free to mark lines with: keep the whole text
        return re.sub(r"\n{3,}", "\n\n", _unquoted(text)).strip()
    # characters the text does not hold, so nothing the customer wrote is taken for one
    protect, long = sentinels
    long_lines: list[str] = []

    def hide(line: str) -> str:
        if len(line) > _LONG_LINE:
            long_lines.append(line)
            return f"{long}{len(long_lines) - 1}{long}"
        stripped = line.strip()
        if _SIGNOFF.match(stripped) and _is_sentence(stripped):
            return protect + stripped
        return line

    hidden = "\n".join(hide(line) for line in text.split("\n"))
    parsed = ReplyMessage(
        text=hidden, languages=list(REPLY_LANGUAGES), keep_hyphen_lists=True
    ).read()
    first = parsed.replies[0] if parsed.replies else None
    if first is None:
        result = ""
    elif own_only and first.headers:
        # the body starts with a reply header: anything new is below the quote, unquoted
        quoted = [line for line in first.body.split("\n") if line.lstrip().startswith(">")]
        result = _unquoted(first.body) if quoted else ""
    else:
        result = first.body
    result = _unquoted(result)
    result = _cut_footer(result)
    result = re.sub(f"{long}(\\d+){long}", lambda m: long_lines[int(m.group(1))], result)
    result = result.replace(protect, "")
    return re.sub(r"\n{3,}", "\n\n", result).strip()


def _cut_footer(text: str) -> str:
    """Cut a short "Sent from my iPhone"-like line among the last three, and what follows."""
    lines = text.split("\n")
    filled = [i for i, line in enumerate(lines) if line.strip()]
    for i in filled[-3:]:
        if _FOOTER.match(lines[i]) and not _is_sentence(lines[i].strip()):
            return "\n".join(lines[:i])
    return text


def _unquoted(text: str) -> str:
    return "\n".join(line for line in text.split("\n") if not line.lstrip().startswith(">"))


def _is_sentence(line: str) -> bool:
    """A line that goes on after its sign-off words is a sentence, not a sign-off."""
    words = line.split()
    return len(words) > 6 or (len(words) > 3 and line.rstrip()[-1:] in ".!?")
