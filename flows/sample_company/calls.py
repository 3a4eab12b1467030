"""Calls: transcripts in WebVTT, SRT, JSON and plain text."""

from __future__ import annotations

import json
import random
from datetime import datetime

from flows.sample_company.company import WEEKS, _iso_z, _london, iso_week
from flows.sample_company.manifest import InboxWriter
from flows.sample_company.plan import Contact


def _cues(
    rng: random.Random, turns: list[tuple[str, str]], protect: list[str]
) -> list[tuple[float, float, str, str]]:
    """Caption cues (start, end, speaker, text): long turns split at ~14 words, never inside
    one of the ``protect`` strings (planted PII stays whole in one cue)."""
    cues = []
    t = rng.uniform(0.2, 1.5)
    glue = "\u2060"  # word joiner: holds a protected string together while splitting
    for speaker, text in turns:
        for value in protect:
            text = text.replace(value, value.replace(" ", glue))
        words = text.split(" ")
        for i in range(0, len(words), 14):
            chunk = " ".join(words[i : i + 14]).replace(glue, " ")
            length = max(1.2, len(chunk.split()) / rng.uniform(2.3, 3.1))
            cues.append((t, t + length, speaker, chunk))
            t += length + rng.uniform(0.05, 0.4)
        t += rng.uniform(0.3, 2.5)
    return cues


def _stamp(seconds: float, sep: str) -> str:
    ms = int(round(seconds * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _vtt(call_id: str, at: datetime, email: str, queue: str, agent: str, cues) -> str:
    out = [
        f"WEBVTT\n\nNOTE call_id={call_id} started_at={_iso_z(at)} customer={email} queue={queue}\n"
    ]
    for start, end, speaker, text in cues:
        voice = f"Agent {agent}" if speaker == "agent" else "Customer"
        out.append(f"{_stamp(start, '.')} --> {_stamp(end, '.')}\n<v {voice}>{text}\n")
    return "\n".join(out)


def _srt(cues) -> str:
    return "\n".join(
        f"{i}\n{_stamp(start, ',')} --> {_stamp(end, ',')}\n{'Agent' if speaker == 'agent' else 'Caller'}: {text}\n"
        for i, (start, end, speaker, text) in enumerate(cues, start=1)
    )


def write_calls(rng: random.Random, inbox_writer: InboxWriter, contacts: list[Contact]) -> None:
    # long: numbers the calls, then writes each in its own transcript format (VTT, SRT, JSON, text);
    # the random draws stay in this order (same seed, same bytes)
    calls = sorted(
        (c for c in contacts if c.form in ("vtt", "srt", "json", "txt")), key=lambda c: c.at
    )
    number = 100_228
    for c in calls:
        number += rng.randint(1, 4)
        c.source_id = f"C-{number}"
    for c in calls:
        agent_name = c.extra["agent"]
        protect = [value for _kind, value, _where in c.pii]
        folder = f"calls/{c.week}"
        stamp = _london(c.at)
        if c.form == "vtt":
            rel = f"{folder}/{c.source_id}.vtt"
            data = _vtt(
                c.source_id,
                c.at,
                c.customer.email,
                c.theme.queue,
                agent_name,
                _cues(rng, c.turns, protect),
            )
        elif c.form == "srt":
            rel = f"{folder}/{c.at:%Y-%m-%dT%H-%M}_{c.source_id}.srt"
            data = _srt(_cues(rng, c.turns, protect))
        elif c.form == "json":
            rel = f"{folder}/{c.source_id}.json"
            phone = c.customer.phone
            e164 = "+44" + phone[1:].replace(" ", "")
            doc = {
                "call_id": c.source_id,
                "started_at": _iso_z(c.at),
                "duration_seconds": int(_cues(rng, c.turns, protect)[-1][1]) + rng.randint(20, 400),
                "customer": {"email": c.customer.email, "phone": e164},
                "queue": c.theme.queue,
                "agent": agent_name,
                "turns": [{"speaker": who, "text": text} for who, text in c.turns],
            }
            data = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
        else:
            rel = f"{folder}/call_{stamp:%Y-%m-%d}_{c.source_id}.txt"
            data = "".join(
                f"{'Agent' if who == 'agent' else 'Customer'}: {text}\n" for who, text in c.turns
            )
        c.file = rel
        inbox_writer.write(rel, data.encode("utf-8"))
        inbox_writer.tally(rel, contacts=1)
    # planted: an empty transcript, and a call where the customer never spoke
    number += 2
    rel = f"calls/{WEEKS[3]}/C-{number}.vtt"
    inbox_writer.write(rel, b"")
    inbox_writer.plant(
        "empty_file",
        rel,
        f"C-{number}.vtt",
        None,
        "quarantine",
        "empty transcript: no cues, no text",
    )
    number += 3
    at = datetime(2026, 11, 4, 14, 12, 5)
    silent = {
        "call_id": f"C-{number}",
        "started_at": _iso_z(at),
        "duration_seconds": 41,
        "customer": {"email": None, "phone": "+447700900000"},
        "queue": "general",
        "agent": "Jordan",
        "turns": [
            {
                "speaker": "agent",
                "text": "Thanks for calling Lumen, you're through to Jordan, how can I help?",
            },
            {
                "speaker": "agent",
                "text": "Hello? ... I can't hear anything on the line, I'm going to end the call now.",
            },
        ],
    }
    rel = f"calls/{iso_week(at.date())}/C-{number}.json"
    inbox_writer.write(rel, (json.dumps(silent, indent=2) + "\n").encode())
    inbox_writer.plant(
        "no_customer_turns",
        rel,
        f"C-{number}",
        None,
        "quarantine",
        "the customer never speaks: no feedback text",
    )
