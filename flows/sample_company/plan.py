"""The plan: who contacts Lumen about what, when, and through which channel."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flows.sample_company.company import (
    CHANNEL_TARGET,
    FIRST_CONTACT_MIX,
    FIRST_DAY,
    FIX_LAST_NORMAL_WEEK,
    FIXED_FACTOR,
    FIXED_THEME,
    LAST_DAY,
    N_WEEKS,
    REPEAT_RATE,
    SPIKE_CITY,
    SPIKE_FACTOR,
    SPIKE_THEME,
    SPIKE_WEEK,
    THEMES,
    Customer,
    Theme,
    _london,
    _utc_offset,
    iso_week,
)

_DAY_WEIGHTS = {
    "survey": [1.1, 1.1, 1.0, 1.0, 0.95, 0.8, 0.75],
    "complaint": [1.3, 1.15, 1.05, 1.0, 0.9, 0.45, 0.25],
    "email": [1.3, 1.1, 1.0, 1.0, 0.9, 0.6, 0.6],
    "call": [1.35, 1.15, 1.05, 1.0, 0.95, 0.5, 0.2],
}
_SPIKE_DAY_WEIGHTS = [0.6, 1.7, 1.5, 1.2, 0.9, 0.6, 0.5]
_HOUR_WEIGHTS = {
    "survey": {
        7: 2,
        8: 4,
        9: 6,
        10: 6,
        11: 6,
        12: 8,
        13: 8,
        14: 5,
        15: 5,
        16: 5,
        17: 6,
        18: 8,
        19: 9,
        20: 9,
        21: 7,
        22: 4,
    },
    "complaint": {
        8: 5,
        9: 9,
        10: 10,
        11: 10,
        12: 8,
        13: 8,
        14: 9,
        15: 9,
        16: 8,
        17: 7,
        18: 5,
        19: 3,
    },
    "email": {
        7: 3,
        8: 6,
        9: 8,
        10: 8,
        11: 7,
        12: 8,
        13: 7,
        14: 7,
        15: 6,
        16: 6,
        17: 6,
        18: 6,
        19: 7,
        20: 7,
        21: 6,
        22: 4,
    },
    "call": {8: 7, 9: 10, 10: 10, 11: 9, 12: 8, 13: 8, 14: 8, 15: 7, 16: 7, 17: 6, 18: 5, 19: 3},
}
_REPEAT_CHANNEL = {
    "call": {"call": 0.55, "email": 0.25, "complaint": 0.2},
    "email": {"email": 0.55, "call": 0.25, "complaint": 0.2},
    "complaint": {"complaint": 0.45, "email": 0.3, "call": 0.25},
    "survey": {"call": 0.4, "email": 0.3, "complaint": 0.3},
}
_REPEAT_GAP_WEIGHTS = [10, 9, 8, 6, 5, 4, 4, 3, 3, 2, 2, 2, 1, 1]  # 1..14 days


@dataclass
class Contact:
    """One contact as planned and rendered (internal; the manifest holds ContactRecord)."""

    n: int
    theme: Theme
    customer: Customer
    at: datetime  # UTC, naive
    channel: str
    spike: bool = False
    repeat_of: Contact | None = None
    nth: int = 1
    form: str = ""  # nps, csat, crm, webform, legacy, mbox, eml, vtt, srt, json, txt
    language: str = "en"
    score: int | None = None
    score_kind: str | None = None
    source_id: str = ""
    file: str = ""
    row: int | None = None
    also_in: list[str] = field(default_factory=list)
    identity: str = "email"
    text: str = ""
    subject: str = ""
    turns: list[tuple[str, str]] = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    pii: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, value, where)

    @property
    def week(self) -> str:
        return iso_week(self.at.date())

    @property
    def local(self) -> datetime:
        return _london(self.at)


def _channel_probabilities() -> dict[str, list[float]]:
    """Per-theme channel mix, scaled (iterative proportional fitting) so the overall mix
    hits FIRST_CONTACT_MIX while each theme keeps its own leaning."""
    channels = list(FIRST_CONTACT_MIX)
    base = dict(FIRST_CONTACT_MIX)
    total = sum(t.weekly for t in THEMES)
    probs: dict[str, list[float]] = {}
    for _ in range(30):
        probs = {}
        for t in THEMES:
            raw = [base[c] * w for c, w in zip(channels, t.channel_weight, strict=True)]
            s = sum(raw)
            probs[t.key] = [r / s for r in raw]
        share = {
            c: sum(t.weekly * probs[t.key][i] for t in THEMES) / total
            for i, c in enumerate(channels)
        }
        base = {c: base[c] * FIRST_CONTACT_MIX[c] / share[c] for c in channels}
    return probs


def _pick_time(rng: random.Random, day: date, channel: str) -> datetime:
    hours = _HOUR_WEIGHTS[channel]
    if channel == "call" and day.weekday() == 5:
        hours = {h: w for h, w in hours.items() if 9 <= h <= 16}
    elif channel == "call" and day.weekday() == 6:
        hours = {h: w for h, w in hours.items() if 10 <= h <= 15}
    hour = rng.choices(list(hours), list(hours.values()))[0]
    local = datetime(day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60))
    return local - _utc_offset(day)


def plan_contacts(rng: random.Random, people: list[Customer]) -> list[Contact]:
    probs = _channel_probabilities()
    channels = list(CHANNEL_TARGET)
    activity = [rng.paretovariate(3.0) for _ in people]  # a few customers are busier than most
    spike_people = [
        p for p in people if p.city == SPIKE_CITY and p.outward in ("LS6", "LS4", "LS5")
    ]
    contacts: list[Contact] = []
    for week in range(N_WEEKS):
        monday = FIRST_DAY + timedelta(days=7 * week)
        for theme in THEMES:
            factor = rng.uniform(0.88, 1.12)
            if theme.key == FIXED_THEME and week > FIX_LAST_NORMAL_WEEK:
                factor *= FIXED_FACTOR
            n = round(theme.weekly * factor)
            extra = (
                round(theme.weekly * (SPIKE_FACTOR - 1))
                if (theme.key == SPIKE_THEME and week == SPIKE_WEEK)
                else 0
            )
            for i in range(n + extra):
                spike = i >= n
                channel = rng.choices(channels, probs[theme.key])[0]
                weights = _SPIKE_DAY_WEIGHTS if spike else _DAY_WEIGHTS[channel]
                day = monday + timedelta(days=rng.choices(range(7), weights)[0])
                if spike and rng.random() < 0.8:
                    customer = rng.choice(spike_people)
                else:
                    customer = rng.choices(people, activity)[0]
                contacts.append(
                    Contact(0, theme, customer, _pick_time(rng, day, channel), channel, spike=spike)
                )
    # repeats: failure demand that was not put right brings the customer back
    repeats: list[Contact] = []
    for first in contacts:
        if first.theme.demand != "failure" or rng.random() >= REPEAT_RATE:
            continue
        previous = first
        for nth in (2, 3):
            gap = rng.choices(range(1, 15), _REPEAT_GAP_WEIGHTS)[0]
            day = previous.at.date() + timedelta(days=gap)
            last = LAST_DAY
            if first.theme.key == FIXED_THEME:  # after the fix nobody needs to chase it
                last = FIRST_DAY + timedelta(days=7 * (FIX_LAST_NORMAL_WEEK + 1) - 1)
            if day > last:
                break
            moves = _REPEAT_CHANNEL[previous.channel]
            channel = rng.choices(list(moves), list(moves.values()))[0]
            follow = Contact(
                0,
                first.theme,
                first.customer,
                _pick_time(rng, day, channel),
                channel,
                spike=first.spike,
                repeat_of=previous,
                nth=nth,
            )
            repeats.append(follow)
            previous = follow
            if rng.random() >= 0.3:
                break
    everything = sorted(contacts + repeats, key=lambda c: (c.at, c.customer.email, c.theme.key))
    for n, contact in enumerate(everything, start=1):
        contact.n = n
    return everything
