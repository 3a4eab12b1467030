"""The sample company's inbox: eight weeks of Lumen Broadband customer contacts.

``voc demo`` writes this inbox and runs the pipeline on it; every later feature (themes,
routing, emerging themes, fix verification, the dashboard) is shown and tested on it. So
it is built to look like a real inbox rather than a test fixture:

- about 5,000 contacts from about 1,700 customers over 2026-W40..W47, in the formats real
  tools export (Qualtrics CSV, SurveyMonkey XLSX, a CRM case CSV, a web-form JSONL, a
  cp1252 legacy CSV, mbox and .eml, WebVTT/SRT/JSON/plain call transcripts);
- 15 underlying themes, most of them failure demand, each written with many openers,
  core sentences, details, emotions and closers in several registers, with typos, texting
  style and a little German, French, Spanish and Polish;
- two stories to find: broadband outages spike in Leeds in the last week, and the app
  login loop falls away after a fix shipped at the end of week 5;
- repeat contacts (same customer, same theme, 1-14 days later, often on another channel),
  PII planted in the text, and bad records planted on purpose.

Everything is drawn from ``random.Random`` seeded by strings, never from the clock or
``hash()``, so the same seed gives byte-identical files. The answer key is the returned
``SampleManifest``, also written to ``inbox.parent / "sample_manifest.json"``.

What its people write and say (the themes' sentences, names and places, mail and call
phrases, the urgent contacts) is data: ``texts/*.yaml`` beside this module, read once at
import. This module holds how they are drawn and written out.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import shutil
import unicodedata
import zipfile
from collections import Counter
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from importlib import resources
from pathlib import Path

import polars as pl
import yaml

TEXT_FILES = (
    "what_customers_say",
    "other_languages",
    "people_and_places",
    "products",
    "mail_and_calls",
    "writing_style",
    "urgent",
)


def load_texts() -> dict[str, dict]:
    """The sample company's texts, by file (``texts/<name>.yaml``, shipped as package data);
    lists where the generator draws from them, tuples restored below where it needs them."""
    folder = resources.files("flows.sample_company") / "texts"
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return {
        name: yaml.load((folder / f"{name}.yaml").read_text(encoding="utf-8"), Loader=loader)
        for name in TEXT_FILES
    }


_TEXTS = load_texts()

COMPANY = "Lumen Broadband"
DOMAIN = "lumen-broadband.example"
SUPPORT_ADDRESS = f"support@{DOMAIN}"
SUPPORT_FROM = f"Lumen Support <{SUPPORT_ADDRESS}>"
FIRST_DAY = date(2026, 9, 28)  # Monday of 2026-W40
N_WEEKS = 8
LAST_DAY = FIRST_DAY + timedelta(days=7 * N_WEEKS - 1)  # Sunday of 2026-W47
# British Summer Time ends on Sunday 25 October 2026; contacts are all in the daytime, so
# the local date is the UTC date and a contact's ISO week is the same in either.
_BST_ENDS = date(2026, 10, 25)
N_CUSTOMERS = 1_900
REPEAT_RATE = 0.155  # a few repeats fall after the last day: ~15% of failure contacts repeat
SPIKE_THEME, SPIKE_WEEK, SPIKE_FACTOR = "outage", 7, 4.5  # week index 7 = 2026-W47
FIXED_THEME, FIX_LAST_NORMAL_WEEK, FIXED_FACTOR = "login_loop", 4, 0.12  # fix after W44
MANIFEST_NAME = "sample_manifest.json"

CHANNEL_TARGET = {"survey": 0.40, "complaint": 0.25, "email": 0.20, "call": 0.15}
# first contacts only: repeats (~13% of all contacts) never arrive as surveys, so the first
# contacts lean towards surveys for the whole inbox to land on CHANNEL_TARGET
FIRST_CONTACT_MIX = {"survey": 0.458, "complaint": 0.241, "email": 0.183, "call": 0.118}


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


WEEKS = [iso_week(FIRST_DAY + timedelta(days=7 * i)) for i in range(N_WEEKS)]


def _utc_offset(day: date) -> timedelta:
    return timedelta(hours=1) if day < _BST_ENDS else timedelta(0)


def _london(at: datetime) -> datetime:
    """UTC (naive) to Europe/London local time (naive)."""
    return at + _utc_offset(at.date())


def _aware_london(at: datetime) -> datetime:
    return _london(at).replace(tzinfo=timezone(_utc_offset(at.date())))


def _iso_z(at: datetime, millis: int | None = None) -> str:
    if millis is None:
        return at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return at.strftime("%Y-%m-%dT%H:%M:%S") + f".{millis:03d}Z"


# --------------------------------------------------------------------------------------
# themes
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Theme:
    key: str
    label: str
    demand: str  # "failure" or "value"
    department: str
    weekly: int  # contacts a week before repeats, spikes and fixes
    channel_weight: tuple[float, float, float, float]  # survey, complaint, email, call
    crm_category: str
    product: str
    queue: str
    webform_topic: str
    survey_part: str
    billing: bool = False


THEMES: tuple[Theme, ...] = (
    Theme(
        "engineer_no_show",
        "Engineer no-show / where is my engineer",
        "failure",
        "Field Operations",
        48,
        (0.8, 1.2, 1.0, 1.3),
        "Engineer Visit",
        "Broadband",
        "engineer",
        "Engineer appointments",
        "Installation or engineer visit",
    ),
    Theme(
        "charged_twice",
        "Charged twice / double direct debit",
        "failure",
        "Billing",
        32,
        (0.6, 1.5, 1.1, 1.2),
        "Billing",
        "Broadband",
        "billing",
        "Billing and payments",
        "Billing",
        billing=True,
    ),
    Theme(
        "login_loop",
        "Can't log in to My Lumen / password reset loop",
        "failure",
        "Digital",
        42,
        (0.8, 0.8, 1.3, 1.3),
        "Online Account",
        "My Lumen App",
        "digital",
        "My Lumen app or website",
        "App or website",
    ),
    Theme(
        "outage",
        "Broadband outage / connection keeps dropping",
        "failure",
        "Network",
        44,
        (0.7, 1.1, 1.0, 1.6),
        "Technical - Fault",
        "Broadband",
        "faults",
        "Faults and service",
        "Broadband connection",
    ),
    Theme(
        "slow_speeds",
        "Speeds far below what was promised",
        "failure",
        "Network",
        40,
        (1.2, 1.0, 0.9, 0.9),
        "Technical - Speed",
        "Broadband",
        "faults",
        "Faults and service",
        "Broadband speed",
    ),
    Theme(
        "router_delivery",
        "Router / equipment not delivered",
        "failure",
        "Logistics",
        30,
        (0.7, 1.0, 1.4, 1.2),
        "Orders & Delivery",
        "Equipment",
        "orders",
        "Orders and deliveries",
        "Equipment or delivery",
    ),
    Theme(
        "price_rise",
        "Unexpected price rise / confusing bill",
        "failure",
        "Billing & Pricing",
        46,
        (1.0, 1.3, 1.0, 0.8),
        "Billing",
        "Bundle",
        "billing",
        "Billing and payments",
        "Price or bill",
        billing=True,
    ),
    Theme(
        "refund_missing",
        "Refund not received after cancelling",
        "failure",
        "Billing",
        26,
        (0.5, 1.5, 1.3, 1.0),
        "Billing - Refund",
        "Broadband",
        "billing",
        "Billing and payments",
        "Billing",
        billing=True,
    ),
    Theme(
        "hold_times",
        "Long hold times / callbacks that never came",
        "failure",
        "Customer Service",
        36,
        (1.6, 1.0, 0.8, 0.3),
        "Customer Service",
        "General",
        "general",
        "Something else",
        "Customer service",
    ),
    Theme(
        "how_to_setup",
        "How do I set up Wi-Fi / the TV box",
        "failure",
        "Digital Self-Service",
        38,
        (0.6, 0.3, 1.4, 2.0),
        "Technical - How To",
        "Equipment",
        "tech",
        "Something else",
        "Setting up equipment",
    ),
    Theme(
        "tv_buffering",
        "TV app buffering / channels missing",
        "failure",
        "TV Product",
        30,
        (1.0, 0.9, 1.0, 1.1),
        "Technical - TV",
        "TV",
        "tv",
        "Faults and service",
        "TV service",
    ),
    Theme(
        "home_move",
        "Moving home / transfer my service",
        "value",
        "Sales (Home Moves)",
        32,
        (0.7, 0.5, 1.5, 1.8),
        "Home Move",
        "Bundle",
        "moves",
        "Moving home",
        "Moving home",
    ),
    Theme(
        "upgrade",
        "Upgrade / add TV or mobile",
        "value",
        "Sales",
        28,
        (0.8, 0.2, 1.4, 2.0),
        "Sales",
        "Bundle",
        "sales",
        "Something else",
        "Upgrading or adding services",
    ),
    Theme(
        "cancel",
        "Cancel / leave at end of contract",
        "value",
        "Retention",
        30,
        (0.8, 0.9, 1.2, 1.5),
        "Cancellation",
        "Broadband",
        "retention",
        "Leaving Lumen",
        "Leaving Lumen",
        billing=True,
    ),
    Theme(
        "praise",
        "Praise: fast install, friendly engineer, great speeds",
        "value",
        "Customer Experience",
        50,
        (2.0, 0.1, 0.5, 0.3),
        "Compliment",
        "Broadband",
        "general",
        "Something else",
        "Installation or engineer visit",
    ),
)
THEME_BY_KEY = {t.key: t for t in THEMES}
SURVEY_PARTS = _TEXTS["what_customers_say"]["survey_parts"]

TEXT: dict[str, dict[str, list[str]]] = _TEXTS["what_customers_say"]["text"]

SPIKE_TEXT: dict[str, list[str]] = _TEXTS["what_customers_say"]["spike_text"]

OPENERS = _TEXTS["what_customers_say"]["openers"]
VALUE_OPENERS = _TEXTS["what_customers_say"]["value_openers"]
EMOTIONS = _TEXTS["what_customers_say"]["emotions"]
GENERIC_ASKS = _TEXTS["what_customers_say"]["generic_asks"]
CLOSERS = _TEXTS["what_customers_say"]["closers"]
REPEAT_LINES = _TEXTS["what_customers_say"]["repeat_lines"]
SURVEY_TAILS_NEG = _TEXTS["what_customers_say"]["survey_tails_neg"]
SURVEY_TAILS_VALUE = _TEXTS["what_customers_say"]["survey_tails_value"]
SURVEY_PREFIXES = _TEXTS["what_customers_say"]["survey_prefixes"]
CSAT_BETTER = _TEXTS["what_customers_say"]["csat_better"]
CSAT_REASONS = _TEXTS["what_customers_say"]["csat_reasons"]
PRAISE_BITS = _TEXTS["what_customers_say"]["praise_bits"]

FOREIGN: dict[str, dict[str, list[str] | dict[str, list[str]]]] = _TEXTS["other_languages"][
    "foreign"
]
DAYS_FOREIGN = _TEXTS["other_languages"]["days_foreign"]
QUALTRICS_LANG = {"en": "EN-GB", "de": "DE", "fr": "FR", "es": "ES-ES", "pl": "PL"}

FIRST_NAMES = _TEXTS["people_and_places"]["first_names"]
LAST_NAMES = _TEXTS["people_and_places"]["last_names"]
FOREIGN_NAMES = {k: tuple(v) for k, v in _TEXTS["people_and_places"]["foreign_names"].items()}
CITIES: dict[str, tuple[float, list[str], str, float, float, list[str]]] = {
    k: tuple(v) for k, v in _TEXTS["people_and_places"]["cities"].items()
}
SPIKE_CITY = "Leeds"
SPIKE_OUTWARDS = ["LS6", "LS6", "LS6", "LS4", "LS5"]
SPIKE_AREAS = _TEXTS["people_and_places"]["spike_areas"]
STREETS = _TEXTS["people_and_places"]["streets"]
_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
AGENTS = _TEXTS["people_and_places"]["agents"]
ENGINEERS = _TEXTS["people_and_places"]["engineers"]
COURIERS = _TEXTS["people_and_places"]["couriers"]
PACKAGES = [tuple(p) for p in _TEXTS["products"]["packages"]]
TV_CHANNELS = _TEXTS["products"]["tv_channels"]
DEVICES = _TEXTS["products"]["devices"]
ROUTERS = _TEXTS["products"]["routers"]
TV_BOXES = _TEXTS["products"]["tv_boxes"]
ERRORS = _TEXTS["products"]["errors"]
SLOTS = _TEXTS["products"]["slots"]
# documented test card numbers (Luhn-valid, belong to nobody)
TEST_CARDS = [
    "4111111111111111",
    "4242424242424242",
    "5555555555554444",
    "5105105105105100",
    "4000056655665556",
    "5200828282828210",
    "4012888888881881",
    "2223003122003222",
]
EMAIL_DOMAINS = ["example.com", "example.org", "example.net"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


@dataclass
class Customer:
    email: str
    first: str
    last: str
    phone: str
    mobile: bool
    city: str
    outward: str
    postcode: str
    area: str
    account: str
    language: str
    years: int
    house: str
    street: str

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


def _ascii(text: str) -> str:
    text = text.replace("ł", "l").replace("Ł", "L").replace("ß", "ss").replace("'", "")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace(" ", "")


def make_customers(rng: random.Random, n: int = N_CUSTOMERS) -> list[Customer]:
    mobiles = rng.sample(range(1000), 1000)
    landlines = {city: rng.sample(range(1000), 1000) for city in CITIES}
    accounts = rng.sample(range(1_000_000, 9_999_999), n)
    cities = list(CITIES)
    city_weights = [CITIES[c][0] for c in cities]
    emails: set[str] = set()
    people: list[Customer] = []
    for i in range(n):
        language = "en"
        if rng.random() < 0.055:
            language = rng.choice(["de", "fr", "es", "pl"])
        if language == "en":
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        else:
            firsts, lasts = FOREIGN_NAMES[language]
            first, last = rng.choice(firsts), rng.choice(lasts)
        f, l_ = _ascii(first).lower(), _ascii(last).lower()
        pattern = rng.choice(
            [
                "{f}.{l}",
                "{f}.{l}",
                "{f}{l}{nn}",
                "{i}.{l}",
                "{l}.{f}{yy}",
                "{f}{i2}{nn}",
                "{f}_{l}",
                "{f}.{l}{nn}",
            ]
        )
        local = pattern.format(
            f=f, l=l_, i=f[0], i2=l_[0], nn=rng.randint(1, 99), yy=rng.randint(60, 99)
        )
        domain = rng.choice(EMAIL_DOMAINS)
        email = f"{local}@{domain}"
        while email in emails:
            email = f"{local}{rng.randint(2, 999)}@{domain}"
        emails.add(email)
        city = rng.choices(cities, city_weights)[0]
        _, outwards, landline, _, _, areas = CITIES[city]
        idx = rng.randrange(len(outwards))
        outward = outwards[idx]
        area = areas[idx]
        postcode = f"{outward} {rng.randint(1, 9)}{rng.choice(_INWARD_LETTERS)}{rng.choice(_INWARD_LETTERS)}"
        mobile = bool(mobiles) and rng.random() < 0.5
        if mobile:
            phone = f"07700 900{mobiles.pop():03d}"
        else:
            phone = landline.format(landlines[city].pop())
        people.append(
            Customer(
                email=email,
                first=first,
                last=last,
                phone=phone,
                mobile=mobile,
                city=city,
                outward=outward,
                postcode=postcode,
                area=area,
                account=str(40_000_000 + accounts[i] % 10_000_000).zfill(8),
                language=language,
                years=rng.choice([2, 2, 3, 3, 4, 5, 6, 8, 10, 12, 15]),
                house=str(rng.randint(1, 180)),
                street=rng.choice(STREETS),
            )
        )
    return people


# --------------------------------------------------------------------------------------
# the plan: who contacts about what, when, and through which channel
# --------------------------------------------------------------------------------------
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


TOPIC = _TEXTS["what_customers_say"]["topic"]
SUPPORT_REPLIES = _TEXTS["mail_and_calls"]["support_replies"]
GREETINGS = _TEXTS["mail_and_calls"]["greetings"]
SIGNOFFS = _TEXTS["mail_and_calls"]["signoffs"]
MOBILE_SIGS = _TEXTS["mail_and_calls"]["mobile_sigs"]
AGENT_GREETINGS = _TEXTS["mail_and_calls"]["agent_greetings"]
AGENT_ID_CHECKS = _TEXTS["mail_and_calls"]["agent_id_checks"]
SPOKEN_PREFIXES = _TEXTS["mail_and_calls"]["spoken_prefixes"]
GENERIC_PROBES = _TEXTS["mail_and_calls"]["generic_probes"]
REACTIONS = _TEXTS["mail_and_calls"]["reactions"]
AGENT_CLOSES = _TEXTS["mail_and_calls"]["agent_closes"]
CRM_ACTIONS = _TEXTS["mail_and_calls"]["crm_actions"]
_MISSPELLINGS = _TEXTS["writing_style"]["misspellings"]
_TEXTING = [tuple(t) for t in _TEXTS["writing_style"]["texting"]]


_KEEP_CASE = {
    *AGENTS,
    *ENGINEERS,
    *COURIERS,
    "I",
    "I'm",
    "I've",
    "I'd",
    "I'll",
    "Lumen",
    "Netflix",
    "Leeds",
    "Channel",
    "Dave",
    "BBC",
    "ITV",
    "Teams",
    "Ofcom",
    "Live",
    "TV",
}


def _lower_first(text: str) -> str:
    """Lower-case a sentence's first letter when something is put in front of it, unless
    the first word is a name, "I", or an acronym."""
    first = re.split(r"[\s,.]", text, maxsplit=1)[0]
    if (
        not first
        or first in _KEEP_CASE
        or (len(first) > 1 and first[1].isupper())
        or first.startswith("{")
    ):
        return text
    return text[0].lower() + text[1:]


def _ordinal(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _money(value: float) -> str:
    return f"£{value:,.2f}"


class _Context(dict):
    """Placeholder values for one contact, drawn only when a sentence first asks for one
    (so a contact costs the random draws it uses, not all sixty)."""

    def __init__(self, makers: dict) -> None:
        super().__init__()
        self._makers = makers

    def __missing__(self, key: str) -> str:
        value = self._makers[key]()
        self[key] = value
        return value

    def but(self, **overrides: str) -> _Context:
        """The same values, with some replaced."""
        other = _Context(self._makers)
        other.update(self)
        other.update(overrides)
        return other


class Writer:
    """Turns a planned contact into words, drawing every choice from one seeded RNG."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        # the sentences (templates) the current contact was written from: the answer key
        # of urgent contacts is read from them (``urgent_key``); recording draws nothing
        self.used: list[str] = []

    # ---- pieces --------------------------------------------------------------------
    def note(self, sentence: str) -> str:
        """Remember a sentence chosen without ``fill``; returns it unchanged."""
        self.used.append(sentence)
        return sentence

    def fill(self, template: str, ctx: dict[str, str]) -> str:
        self.used.append(template)
        return re.sub(r"\{(\w+)\}", lambda m: ctx[m.group(1)], template)

    def date_text(self, day: date) -> str:
        style = self.rng.randrange(7)
        if style == 0:
            return f"{_ordinal(day.day)} {MONTHS[day.month - 1]}"
        if style == 1:
            return f"{day.day} {MONTHS[day.month - 1]}"
        if style == 2:
            return f"{day.day} {MONTHS[day.month - 1][:3]}"
        if style == 3:
            return f"{day.day:02d}/{day.month:02d}"
        if style == 4:
            return f"the {_ordinal(day.day)}"
        if style == 5:
            return f"{WEEKDAYS[day.weekday()]} the {_ordinal(day.day)}"
        return f"{day.day:02d}/{day.month:02d}/{day.year}"

    def context(self, c: Contact) -> _Context:
        """The values a contact's {placeholders} take, each drawn the first time it is used."""
        rng = self.rng
        today = c.local.date()
        before = today - timedelta(days=rng.randint(1, 6))
        weekday = before.weekday()
        pk = rng.randrange(len(PACKAGES))
        package_now, paid = PACKAGES[pk]
        package_new = PACKAGES[pk + 1][0] if pk + 1 < len(PACKAGES) else "Gigabit 900 with TV"
        price_old = rng.choice([25, 28, 30, 32, 35, 38, 40, 45, 50, 55]) + rng.choice(
            [0.0, 0.5, 0.99, 0.0]
        )
        price_new = price_old + rng.choice([2.5, 3, 3.5, 4.2, 5, 6, 7.5, 9])
        spike_here = c.customer.city == SPIKE_CITY and c.customer.outward in SPIKE_OUTWARDS
        prev = c.repeat_of
        new_city = rng.choice([x for x in CITIES if x != c.customer.city])
        pick = rng.choice

        def day_offset(low: int, high: int) -> str:
            return self.date_text(today + timedelta(days=rng.randint(low, high)))

        makers = {
            "day": lambda: WEEKDAYS[weekday],
            "day_next": lambda: WEEKDAYS[(today.weekday() + rng.randint(1, 3)) % 7],
            "date": lambda: day_offset(-25, -2),
            "date_future": lambda: day_offset(2, 14),
            "end_date": lambda: day_offset(10, 90),
            "move_date": lambda: day_offset(7, 40),
            "month": lambda: MONTHS[(today.month - 1 - rng.randint(1, 2)) % 12],
            "slot": lambda: pick(SLOTS),
            "late_time": lambda: pick(
                ["2pm", "half 3", "4:30", "6pm", "quarter to 5", "3 o'clock"]
            ),
            "time": lambda: pick(
                ["8pm", "about 7", "half 9", "lunchtime", "10 last night", "6 o'clock"]
            ),
            "days": lambda: pick(
                [
                    "3 days",
                    "four days",
                    "a week",
                    "10 days",
                    "nearly two weeks",
                    "5 days",
                    "two days",
                ]
            ),
            "weeks": lambda: pick(["two weeks", "3 weeks", "a month", "six weeks", "a fortnight"]),
            "hold": lambda: pick(
                [
                    "45 minutes",
                    "an hour and a half",
                    "over an hour",
                    "2 hours",
                    "50 mins",
                    "40 minutes",
                    "an hour",
                    "55 minutes",
                ]
            ),
            "n": lambda: pick(["3", "three", "four", "5", "six", "several"]),
            "nd": lambda: str(rng.randint(2, 5)),
            "ordinal": lambda: pick(["second", "third", "fourth", "3rd", "2nd"]),
            "wage": lambda: str(pick([80, 95, 110, 120, 140, 160])),
            "fee": lambda: str(pick([5, 6, 8, 10, 12, 15, 25])),
            "dd_day": lambda: _ordinal(pick([1, 5, 10, 15, 20, 28])),
            "account": lambda: c.customer.account,
            "ref": lambda: pick(["LB", "CAS-", "F", "REF"]) + str(rng.randint(100000, 9999999)),
            "order": lambda: f"ORD-{rng.randint(100000, 999999)}",
            "amount": lambda: _money(
                pick([24.99, 29.5, 32, 34.99, 38.5, 41.25, 45, 49.99, 52.4, 58, 63.75, 72.1, 85])
            ),
            "amount_small": lambda: _money(pick([5, 6.5, 7.5, 8, 10, 12, 15])).replace(".00", ""),
            "refund": lambda: _money(rng.randint(30, 260) + pick([0, 0.5, 0.25, 0.99])),
            "price_old": lambda: _money(price_old),
            "price_new": lambda: _money(price_new),
            "pct": lambda: pick(["8.8%", "9%", "11%", "14%", "6.5%", "£4 a month"]),
            "years": lambda: str(c.customer.years),
            "package_now": lambda: package_now,
            "package_new": lambda: package_new,
            "paid": lambda: str(paid),
            "speed": lambda: str(rng.randint(max(2, paid // 25), max(6, int(paid * 0.4)))),
            "speed_good": lambda: str(int(paid * rng.uniform(1.02, 1.12))),
            "courier": lambda: pick(COURIERS),
            "router": lambda: pick(ROUTERS),
            "tvbox": lambda: pick(TV_BOXES),
            "tv_channel": lambda: pick(TV_CHANNELS),
            "device": lambda: pick(DEVICES),
            "error": lambda: pick(ERRORS),
            "area": lambda: c.customer.area,
            "new_area": lambda: pick(CITIES[new_city][5]) + ", " + new_city,
            "new_outward": lambda: pick(CITIES[new_city][1]),
            "engineer": lambda: pick(ENGINEERS),
            "agent": lambda: pick(AGENTS),
            "spike_area": lambda: c.customer.area if spike_here else pick(SPIKE_AREAS),
            "spike_outward": lambda: c.customer.outward if spike_here else pick(SPIKE_OUTWARDS),
            "prev_day": lambda: WEEKDAYS[prev.local.weekday()] if prev else WEEKDAYS[weekday],
            "prev_date": lambda: self.date_text(prev.local.date() if prev else before),
            "credit": lambda: str(pick([5, 10, 15, 20, 25, 30])),
            "department": lambda: c.theme.department,
            "topic": lambda: TOPIC[c.theme.key],
            "first": lambda: c.customer.first,
            "part_of_day": lambda: (
                "morning"
                if c.local.hour < 12
                else ("afternoon" if c.local.hour < 18 else "evening")
            ),
        }
        for key, names in DAYS_FOREIGN.items():
            makers[key] = lambda names=names: names[weekday]
        return _Context(makers)

    def pick(self, c: Contact, part: str, ctx: dict[str, str]) -> str:
        if c.spike and part in SPIKE_TEXT and self.rng.random() < 0.8:
            bank = SPIKE_TEXT[part]
        else:
            bank = TEXT[c.theme.key][part]
        return self.fill(self.rng.choice(bank), ctx)

    def repeat_line(self, c: Contact, ctx: dict[str, str]) -> str:
        if c.nth >= 3 and self.rng.random() < 0.6:
            bank = REPEAT_LINES["third"]
        elif c.repeat_of is not None and self.rng.random() < 0.7:
            bank = REPEAT_LINES[c.repeat_of.channel]
        else:
            bank = REPEAT_LINES["any"]
        return self.fill(self.rng.choice(bank), ctx)

    def texting(self, text: str) -> str:
        out = text.lower()
        for pattern, replacement, p in _TEXTING:
            if self.rng.random() < p:
                out = re.sub(pattern, replacement, out)
        if self.rng.random() < 0.5:
            out = re.sub(r"\.\s+", " ", out)
        out = out.rstrip(".")
        if self.rng.random() < 0.2:
            out += self.rng.choice(["!!", "!!!", " ffs", " :(", "??", " smh"])
        return out

    def typos(self, text: str, k: int = 1) -> str:
        words = text.split(" ")
        spots = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
        for i in self.rng.sample(spots, min(k, len(spots))):
            w = words[i]
            low = w.lower()
            if low in _MISSPELLINGS and self.rng.random() < 0.7:
                words[i] = _MISSPELLINGS[low] if w == low else _MISSPELLINGS[low].capitalize()
                continue
            j = self.rng.randrange(1, len(w) - 1)
            op = self.rng.randrange(3)
            if op == 0:
                words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
            elif op == 1:
                words[i] = w[:j] + w[j + 1 :]
            else:
                words[i] = w[:j] + w[j] + w[j:]
        return " ".join(words)

    def style(self, text: str, texting: float, typo: float) -> str:
        if self.rng.random() < texting:
            text = self.texting(text)
        if self.rng.random() < typo:
            text = self.typos(text, self.rng.choice([1, 1, 2]))
        return text

    # ---- registers -----------------------------------------------------------------
    def sentences(
        self, c: Contact, ctx: dict[str, str], *, formal: bool = False, closer: bool = True
    ) -> list[str]:
        """The sentences of a complaint, e-mail or case description, in order."""
        rng = self.rng
        out: list[str] = []
        failure = c.theme.demand == "failure"
        if rng.random() < (0.45 if formal else 0.35):
            out.append(self.fill(rng.choice(OPENERS if failure else VALUE_OPENERS), ctx))
        if c.repeat_of is not None:
            out.append(self.repeat_line(c, ctx))
        out.append(self.pick(c, "core", ctx))
        bank = list(TEXT[c.theme.key]["detail"])
        if c.spike:
            bank += SPIKE_TEXT["detail"] * 2
        for template in rng.sample(bank, rng.choice([0, 1, 1, 2, 2, 3])):
            out.append(self.fill(template, ctx))
        if failure and rng.random() < 0.45:
            out.insert(rng.randint(len(out) - 1, len(out)), self.note(rng.choice(EMOTIONS)))
        if rng.random() < 0.6:
            bank = TEXT[c.theme.key]["ask"] if (rng.random() < 0.7 or not failure) else GENERIC_ASKS
            out.append(self.fill(rng.choice(bank), ctx))
        if closer and rng.random() < 0.2:
            out.append(rng.choice(CLOSERS))
        return self._dedupe(out)

    @staticmethod
    def _dedupe(sentences: list[str]) -> list[str]:
        seen: list[str] = []
        for s in sentences:
            if s not in seen:
                seen.append(s)
        return seen

    def join(self, sentences: list[str], *, multiline: float) -> str:
        text = sentences[0]
        for s in sentences[1:]:
            r = self.rng.random()
            text += ("\n\n" if r < multiline / 2 else "\n" if r < multiline else " ") + s
        return text

    def foreign_text(self, c: Contact, ctx: dict[str, str], *, short: bool = False) -> str:
        bank = FOREIGN[c.language]
        core = self.fill(self.rng.choice(bank["core"][c.theme.key]), ctx)
        if short:
            if self.rng.random() < 0.5:
                core += " " + self.fill(self.rng.choice(bank["detail"]), ctx)
            return core
        parts = [self.rng.choice(bank["open"]), core]
        parts += [
            self.fill(d, ctx) for d in self.rng.sample(bank["detail"], self.rng.choice([1, 1, 2]))
        ]
        parts.append(self.rng.choice(bank["close"]))
        return self.join([p for p in parts if p], multiline=0.5)

    def wants_foreign(self, c: Contact) -> bool:
        return c.customer.language != "en" and c.theme.key in FOREIGN[c.customer.language]["core"]

    def nps_verbatim(self, c: Contact, ctx: dict[str, str]) -> str:
        rng = self.rng
        if self.wants_foreign(c):
            c.language = c.customer.language
            return self.foreign_text(c, ctx, short=True)
        failure = c.theme.demand == "failure"
        tails = SURVEY_TAILS_NEG if failure else SURVEY_TAILS_VALUE
        details = TEXT[c.theme.key]["detail"]
        r = rng.random()
        if c.theme.key == "praise" and r < 0.35:
            bits = PRAISE_BITS
            text = f"{rng.choice(bits['how']).capitalize()} {rng.choice(bits['what'])}"
            extra = self.fill(rng.choice(bits["extra"]), ctx)
            text = f"{text}, {extra}" if extra else text
        elif r < 0.16:
            text = self.pick(c, "short", ctx)
        elif r < 0.34:
            text = self.pick(c, "core", ctx)
        elif r < 0.56:
            text = f"{self.pick(c, 'short', ctx).rstrip('.!?')}{rng.choice(['. ', ', ', ' - '])}{self.note(rng.choice(tails))}"
        elif r < 0.74:
            text = f"{self.pick(c, 'core', ctx)} {self.fill(rng.choice(details), ctx)}"
        elif r < 0.86:
            text = (
                f"{self.pick(c, 'short', ctx).rstrip('.!?')}. {self.fill(rng.choice(details), ctx)}"
            )
        else:
            a, b = self.pick(c, "short", ctx), self.pick(c, "short", ctx)
            joint = rng.choice([". ", " and ", ", "])
            text = a if a == b else f"{a.rstrip('.!?')}{joint}{_lower_first(b)}"
        if len(text.split()) > 25:
            text = self.pick(c, "short", ctx)
        prefix = rng.choice(SURVEY_PREFIXES)
        if prefix:
            text = prefix + _lower_first(text)
        return self.style(text, texting=0.15, typo=0.12)

    def csat_verbatim(self, c: Contact, ctx: dict[str, str]) -> str:
        rng = self.rng
        if self.wants_foreign(c):
            c.language = c.customer.language
            return self.foreign_text(c, ctx, short=True)
        kind = "failure" if c.theme.demand == "failure" else "value"
        r = rng.random()
        if r < 0.45:
            text = self.fill(rng.choice(CSAT_BETTER[kind]), ctx)
            if rng.random() < 0.55:
                text = f"{text.rstrip('.')} {self.fill(rng.choice(CSAT_REASONS[kind]), ctx)}."
            elif rng.random() < 0.5:
                text = f"{text} {self.pick(c, 'short', ctx).rstrip('.')}."
            if rng.random() < 0.25:
                text = rng.choice(
                    ["Simple: ", "Honestly? ", "Easy - ", "Um, ", "To be honest, "]
                ) + _lower_first(text)
        elif r < 0.75:
            tails = SURVEY_TAILS_NEG if kind == "failure" else SURVEY_TAILS_VALUE
            text = f"{self.pick(c, 'short', ctx).rstrip('.!?')}{rng.choice(['. ', ', ', ' - '])}{self.note(rng.choice(tails))}"
        elif r < 0.87:
            text = self.pick(c, "short", ctx)
        else:
            text = self.pick(c, "core", ctx)
        return self.style(text, texting=0.12, typo=0.1)

    def description(self, c: Contact, ctx: dict[str, str]) -> str:
        """A complaint in the customer's own words: web form, or a CRM case logged by e-mail."""
        if self.wants_foreign(c):
            c.language = c.customer.language
            return self.foreign_text(c, ctx)
        text = self.join(self.sentences(c, ctx, formal=True), multiline=0.35)
        return self.style(text, texting=0.06, typo=0.12)

    def agent_note(self, c: Contact, ctx: dict[str, str]) -> str:
        """A CRM case written up by the agent who took the call."""
        rng = self.rng
        said = self.join(self.sentences(c, ctx)[:4], multiline=0.0)
        lead = rng.choice(
            [
                'Customer called in. States: "{said}"',
                "Cust called re {topic}. Cust advises: {said}",
                'Inbound call. Customer says: "{said}"',
                'Customer rang to complain. In their words: "{said}"',
                'Call from account holder.\n"{said}"',
            ]
        )
        actions = [self.fill(a, ctx) for a in rng.sample(CRM_ACTIONS, rng.randint(1, 3))]
        return lead.format(said=said, topic=TOPIC[c.theme.key]) + "\n" + "\n".join(actions)

    def subject(self, c: Contact, ctx: dict[str, str]) -> str:
        rng = self.rng
        text = self.fill(rng.choice(TEXT[c.theme.key]["subject"]), ctx)
        if c.repeat_of is not None and rng.random() < 0.3:
            text = (
                rng.choice(["Chasing: ", "2nd request - ", "FOLLOW UP: ", "Still waiting - "])
                + text
            )
        if rng.random() < 0.1:
            text = text.lower()
        if rng.random() < 0.05:
            text = text.upper()
        return text

    def email_body(self, c: Contact, ctx: dict[str, str]) -> str:
        rng = self.rng
        if self.wants_foreign(c):
            c.language = c.customer.language
            body = self.foreign_text(c, ctx)
            return f"{body}\n{c.customer.name}"
        greeting = self.fill(rng.choice(GREETINGS), ctx)
        sentences = self.sentences(c, ctx, formal=rng.random() < 0.5, closer=False)
        body = self.join(sentences, multiline=0.45)
        body = self.style(body, texting=0.05, typo=0.1)
        signoff = rng.choice(SIGNOFFS)
        name = rng.choice([c.customer.first, c.customer.name, c.customer.name, c.customer.first[0]])
        parts = [greeting, body, f"{signoff}\n{name}"] if greeting else [body, f"{signoff}\n{name}"]
        return "\n\n".join(parts)

    def call_turns(self, c: Contact, ctx: dict[str, str], identity: str) -> list[tuple[str, str]]:
        """A call as (speaker, text) turns; speaker is "agent" or "customer". ``identity``
        is what the customer gives when asked: "email", "phone", "postcode" or "" (nothing)."""
        rng = self.rng
        agent = rng.choice(AGENTS)
        c.extra["agent"] = agent
        turns = [("agent", self.fill(rng.choice(AGENT_GREETINGS), ctx.but(agent=agent)))]
        opening = self.pick(c, "core", ctx)
        if c.repeat_of is not None:
            opening = f"{self.repeat_line(c, ctx)} {opening}"
        prefix = rng.choice(SPOKEN_PREFIXES)
        if prefix and not prefix.endswith(". "):
            opening = _lower_first(opening)
        turns.append(("customer", prefix + opening))
        if identity:
            turns.append(("agent", rng.choice(AGENT_ID_CHECKS[identity])))
            if identity == "email":
                said = rng.choice(
                    ["Yes, it's {v}.", "It's {v}.", "It should be {v}.", "{v}"]
                ).format(v=c.customer.email)
                c.pii.append(("email", c.customer.email, "text"))
            elif identity == "phone":
                phone = self.spoken_phone(c.customer.phone)
                said = rng.choice(
                    ["It's {v}.", "My mobile's {v}.", "{v}, that's the one.", "Should be {v}."]
                ).format(v=phone)
                c.pii.append(("phone", phone, "text"))
            else:
                said = f"It's {c.customer.name}, {c.customer.postcode}."
                c.pii.append(("postcode", c.customer.postcode, "text"))
            turns.append(("customer", said))
        generic = GENERIC_PROBES["failure" if c.theme.demand == "failure" else "value"]
        turns.append(("agent", rng.choice(TEXT[c.theme.key]["probe"] + generic)))
        details = [
            self.fill(d, ctx)
            for d in rng.sample(TEXT[c.theme.key]["detail"], rng.choice([1, 1, 2]))
        ]
        if c.theme.demand == "failure" and rng.random() < 0.5:
            details.append(self.note(rng.choice(EMOTIONS)))
        said = " ".join(details)
        filler = rng.choice(["", "", "Yeah. ", "Um, ", "So, ", "Well, ", "Yeah, "])
        turns.append(("customer", filler + (_lower_first(said) if filler.endswith(", ") else said)))
        turns.append(("agent", self.pick(c, "agent", ctx)))
        if rng.random() < 0.7:
            mood = "good" if (c.theme.demand == "value" or rng.random() < 0.5) else "flat"
            turns.append(("customer", self.note(rng.choice(REACTIONS[mood]))))
        turns.append(("agent", rng.choice(AGENT_CLOSES)))
        return turns

    def spoken_phone(self, phone: str) -> str:
        style = self.rng.randrange(3)
        if style == 0:
            return phone
        if style == 1:
            return phone.replace(" ", "")
        return "+44 " + phone[1:] if phone.startswith("0") else phone


# --------------------------------------------------------------------------------------
# scores, forms and PII
# --------------------------------------------------------------------------------------
_NPS_WEIGHTS = {
    "failure": [8, 5, 7, 9, 9, 10, 9, 5, 3, 1, 0.5],
    "value": [0, 0, 0.3, 0.5, 1, 2, 6, 9, 9, 6, 3],
    "cancel": [3, 2, 3, 4, 5, 6, 5, 3, 2, 0.5, 0.2],
    "praise": [0, 0, 0, 0, 0, 0, 0, 0.3, 1.5, 5, 9],
}
_CSAT_WEIGHTS = {
    "failure": [30, 30, 25, 10, 5],
    "how_to_setup": [8, 12, 25, 35, 20],
    "value": [2, 5, 15, 40, 38],
    "praise": [0, 0, 1, 20, 79],
}
PII_SENTENCES = _TEXTS["what_customers_say"]["pii_sentences"]


def _iban(rng: random.Random, country: str) -> str:
    if country == "GB":
        bban = "WEST" + "".join(str(rng.randrange(10)) for _ in range(14))
    else:  # DE: 8-digit bank code + 10-digit account
        bban = "".join(str(rng.randrange(10)) for _ in range(18))
    digits = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    check = 98 - int(digits) % 97
    compact = f"{country}{check:02d}{bban}"
    return (
        " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
        if rng.random() < 0.7
        else compact
    )


def _card(rng: random.Random) -> str:
    number = rng.choice(TEST_CARDS)
    style = rng.randrange(3)
    if style == 0:
        return " ".join(number[i : i + 4] for i in range(0, 16, 4))
    if style == 1:
        return "-".join(number[i : i + 4] for i in range(0, 16, 4))
    return number


def _pii_sentence(rng: random.Random, c: Contact, writer: Writer) -> str:
    kinds = ["email", "phone", "postcode", "address", "account_number"]
    if c.form == "srt":  # a SubRip call carries no e-mail address, only a phone number
        kinds.remove("email")
    if c.theme.billing:
        kinds += ["card", "card", "bank", "bank", "iban"]
    kind = rng.choice(kinds)
    template = rng.choice(PII_SENTENCES[kind])
    cust = c.customer
    if kind == "email":
        value = cust.email
    elif kind == "phone":
        value = writer.spoken_phone(cust.phone)
    elif kind == "card":
        value = _card(rng)
    elif kind == "postcode":
        value = cust.postcode
    elif kind == "address":
        street = f"{cust.house} {cust.street}"
        value = f"{street}, {cust.postcode}"
        c.pii.append(("address", street, "text"))
        c.pii.append(("postcode", cust.postcode, "text"))
        return template.format(v=value)
    elif kind == "bank":
        sort = f"{rng.randint(10, 99)}-{rng.randint(10, 99)}-{rng.randint(10, 99)}"
        acct = f"{rng.randint(10_000_000, 99_999_999)}"
        c.pii.append(("sort_code", sort, "text"))
        c.pii.append(("bank_account", acct, "text"))
        return template.format(sort=sort, acct=acct)
    elif kind == "iban":
        value = _iban(rng, "DE" if cust.language == "de" else "GB")
    else:
        value = cust.account
    c.pii.append((kind, value, "text"))
    return template.format(v=value)


def assign_forms(rng: random.Random, contacts: list[Contact]) -> None:
    """Which file format each contact arrives in, its score, and what identifies the customer."""
    for c in contacts:
        theme = c.theme
        if c.channel == "survey":
            c.form = "nps" if rng.random() < (0.8 if theme.key == "praise" else 0.68) else "csat"
            if c.form == "nps":
                key = theme.key if theme.key in ("cancel", "praise") else theme.demand
                c.score, c.score_kind = rng.choices(range(11), _NPS_WEIGHTS[key])[0], "nps"
            else:
                key = theme.key if theme.key in ("how_to_setup", "praise") else theme.demand
                c.score, c.score_kind = rng.choices(range(1, 6), _CSAT_WEIGHTS[key])[0], "csat"
        elif c.channel == "complaint":
            r = rng.random()
            if theme.billing and c.customer.language == "en" and r < 0.2:
                c.form = "legacy"
            else:
                c.form = "webform" if rng.random() < 0.2 else "crm"
        elif c.channel == "email":
            c.form = "mbox"
        else:
            c.form = rng.choices(["vtt", "srt", "json", "txt"], [0.3, 0.2, 0.3, 0.2])[0]
        c.identity = {"srt": "phone_in_text", "txt": "email_in_text"}.get(c.form, "email")
    # a handful of formal escalations arrive as loose .eml files
    escalations = [
        c for c in contacts if c.form == "mbox" and c.nth >= 2 and c.theme.demand == "failure"
    ]
    for c in rng.sample(escalations, min(5, len(escalations))):
        c.form = "eml"


def render(writer: Writer, contacts: list[Contact]) -> None:
    rng = writer.rng
    for c in contacts:
        writer.used = c.extra.setdefault("templates", [])
        ctx = writer.context(c)
        c.extra["ctx"] = ctx
        pii_rate = {
            "nps": 0.02,
            "csat": 0.02,
            "crm": 0.07,
            "webform": 0.08,
            "legacy": 0.12,
            "mbox": 0.08,
            "eml": 0.6,
        }.get(c.form, 0.0)
        if c.form == "nps":
            c.text = writer.nps_verbatim(c, ctx)
        elif c.form == "csat":
            c.text = writer.csat_verbatim(c, ctx)
        elif c.form in ("crm", "webform", "legacy"):
            c.subject = writer.subject(c, ctx)
            if c.form == "crm" and c.customer.language == "en" and rng.random() < 0.35:
                c.text = writer.agent_note(c, ctx)
                c.extra["crm_channel"] = "Phone"
            else:
                if c.form == "legacy":
                    c.text = writer.join(writer.sentences(c, ctx, formal=True), multiline=0.0)
                    if rng.random() < 0.15:
                        c.text = (
                            "I run a small café from home and rely on the phone line. " + c.text
                        )
                else:
                    c.text = writer.description(c, ctx)
                c.extra["crm_channel"] = rng.choices(
                    ["Email", "Web", "Letter", "Chat", "Social"], [40, 30, 8, 15, 7]
                )[0]
        elif c.form in ("mbox", "eml"):
            c.subject = writer.subject(c, ctx)
            if c.form == "eml":
                c.subject = (
                    rng.choice(
                        [
                            "Formal complaint - ",
                            "ESCALATION: ",
                            "Complaint escalation - ",
                            "Final response requested - ",
                        ]
                    )
                    + c.subject
                )
            c.text = writer.email_body(c, ctx)
            if c.form == "eml":
                c.text = c.text.replace(
                    "\n\n",
                    "\n\nI wish to make a formal complaint and would like this escalated to your complaints team. "
                    "If I do not receive a final response within eight weeks I will refer the matter to the Ombudsman.\n\n",
                    1,
                )
        else:
            identity = {"srt": "phone", "txt": "email"}.get(c.form) or rng.choice(
                ["postcode", "email", "", ""]
            )
            c.turns = writer.call_turns(c, ctx, identity)
        if c.spike and c.local.weekday() == 0:  # on the Monday itself it started "this morning"
            c.text = re.sub(r"(?i)since monday", "since this morning", c.text)
            c.turns = [
                (who, re.sub(r"(?i)since monday", "since this morning", t)) for who, t in c.turns
            ]
        if pii_rate and rng.random() < pii_rate:
            sentence = _pii_sentence(rng, c, writer)
            if c.form in ("mbox", "eml"):
                head, sep, tail = c.text.rpartition("\n\n")  # before the sign-off
                c.text = f"{head} {sentence}{sep}{tail}" if head else f"{sentence}\n\n{c.text}"
            else:
                c.text = f"{c.text} {sentence}"
        elif c.turns and rng.random() < 0.04:
            sentence = _pii_sentence(rng, c, writer)
            for i in range(len(c.turns) - 1, -1, -1):
                if c.turns[i][0] == "customer":
                    c.turns[i] = ("customer", f"{c.turns[i][1]} {sentence}")
                    break


# --------------------------------------------------------------------------------------
# the manifest (the answer key)
# --------------------------------------------------------------------------------------
@dataclass
class ContactRecord:
    contact_id: str  # the generator's own id, K00001...
    channel: str  # survey, complaint, email, call
    file: str  # relative to the inbox, with forward slashes
    source_id: str  # ResponseId, Respondent ID, Case Number, webform id, Message-ID, call id
    row: int | None  # 1-based data row in a tabular file (after any header rows)
    timestamp: str  # UTC, ISO 8601 with Z
    week: str  # ISO week, e.g. 2026-W40
    theme: str
    demand: str  # failure or value
    department: str
    customer_email: str
    customer_phone: str
    identity_in_source: str  # email (a field), email_in_text, phone_in_text
    score: int | None
    score_kind: str | None  # nps (0-10) or csat (1-5)
    language: str
    repeat_of: str | None  # contact_id of the previous contact on the same theme
    also_in: list[str] = field(default_factory=list)  # other files carrying the same record


@dataclass
class BadRecord:
    kind: str
    file: str
    ref: str  # the record's id, or the file name for a whole-file problem
    row: int | None  # 1-based data row in a tabular file
    expected: str  # quarantine | load | truncate | duplicate | not_feedback
    reason: str  # what a sensible quarantine reason or load note says
    contact_id: str | None = None  # when the record loads, the contact it is


@dataclass
class PlantedPII:
    kind: (
        str  # email, phone, card, postcode, address, sort_code, bank_account, iban, account_number
    )
    value: str  # exactly as it appears in the file
    contact_id: str
    file: str
    where: str  # text (the feedback text) or signature (an e-mail signature)


@dataclass
class FileCount:
    records: int  # what a parser reads from it (a whole-file reject is 1)
    contacts: int  # records that are contacts and load into feedback
    duplicates: int  # records already seen (same id) in this or an earlier file
    quarantined: int  # planted bad records that must be quarantined
    not_feedback: int  # outbound company e-mail


@dataclass
class SampleManifest:
    company: str
    support_address: str
    seed: int
    weeks: list[str]
    first_day: str
    last_day: str
    themes: list[dict]
    spike: dict
    fix: dict
    contacts: list[ContactRecord]
    bad_records: list[BadRecord]
    pii: list[PlantedPII]
    files: dict[str, FileCount]
    weekly_theme_counts: dict[str, dict[str, int]]
    channel_counts: dict[str, int]
    distinct_customers: int
    # urgent contacts (#18): every (file, source_id, kind) that should be flagged, and the
    # contacts planted for it in files of their own (not in ``contacts``)
    flags: list[dict[str, str]] = field(default_factory=list)
    urgent_contacts: list[PlantedUrgent] = field(default_factory=list)

    def to_json(self) -> str:
        # vars() rather than dataclasses.asdict: the same dict, without a deep copy of 5,000 records
        doc = {f.name: getattr(self, f.name) for f in fields(self)}
        doc["contacts"] = [vars(c) for c in self.contacts]
        doc["bad_records"] = [vars(b) for b in self.bad_records]
        doc["pii"] = [vars(p) for p in self.pii]
        doc["files"] = {k: vars(v) for k, v in self.files.items()}
        doc["urgent_contacts"] = [vars(p) for p in self.urgent_contacts]
        return json.dumps(doc, ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> SampleManifest:
        raw = json.loads(text)
        raw["contacts"] = [ContactRecord(**c) for c in raw["contacts"]]
        raw["bad_records"] = [BadRecord(**b) for b in raw["bad_records"]]
        raw["pii"] = [PlantedPII(**p) for p in raw["pii"]]
        raw["files"] = {k: FileCount(**v) for k, v in raw["files"].items()}
        raw["urgent_contacts"] = [PlantedUrgent(**p) for p in raw.get("urgent_contacts", [])]
        return cls(**raw)


class _InboxWriter:
    """Writes files under the inbox and keeps the accounts the manifest reports."""

    def __init__(self, inbox: Path) -> None:
        self.inbox = inbox
        self.files: dict[str, FileCount] = {}
        self.bad: list[BadRecord] = []

    def write(self, rel: str, data: bytes) -> None:
        path = self.inbox / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.files.setdefault(rel, FileCount(0, 0, 0, 0, 0))

    def tally(
        self,
        rel: str,
        *,
        contacts: int = 0,
        duplicates: int = 0,
        quarantined: int = 0,
        not_feedback: int = 0,
    ) -> None:
        f = self.files.setdefault(rel, FileCount(0, 0, 0, 0, 0))
        f.contacts += contacts
        f.duplicates += duplicates
        f.quarantined += quarantined
        f.not_feedback += not_feedback
        f.records = f.contacts + f.duplicates + f.quarantined + f.not_feedback

    def plant(
        self,
        kind: str,
        rel: str,
        ref: str,
        row: int | None,
        expected: str,
        reason: str,
        contact: Contact | None = None,
    ) -> None:
        self.bad.append(
            BadRecord(kind, rel, ref, row, expected, reason, _cid(contact) if contact else None)
        )
        if expected == "quarantine":
            self.tally(rel, quarantined=1)


def _cid(c: Contact) -> str:
    return f"K{c.n:05d}"


# --------------------------------------------------------------------------------------
# surveys
# --------------------------------------------------------------------------------------
Q1 = "How likely are you to recommend Lumen Broadband to a friend or colleague?"
Q2 = "What is the main reason for your score?"
Q3 = "Which part of our service was this about?"
QUALTRICS_COLUMNS = [
    ("StartDate", "Start Date", {"ImportId": "startDate", "timeZone": "Europe/London"}),
    ("EndDate", "End Date", {"ImportId": "endDate", "timeZone": "Europe/London"}),
    ("Status", "Response Type", {"ImportId": "status"}),
    ("IPAddress", "IP Address", {"ImportId": "ipAddress"}),
    ("Progress", "Progress", {"ImportId": "progress"}),
    ("Duration (in seconds)", "Duration (in seconds)", {"ImportId": "duration"}),
    ("Finished", "Finished", {"ImportId": "finished"}),
    ("RecordedDate", "Recorded Date", {"ImportId": "recordedDate", "timeZone": "Europe/London"}),
    ("ResponseId", "Response ID", {"ImportId": "_recordId"}),
    ("RecipientLastName", "Recipient Last Name", {"ImportId": "recipientLastName"}),
    ("RecipientFirstName", "Recipient First Name", {"ImportId": "recipientFirstName"}),
    ("RecipientEmail", "Recipient Email", {"ImportId": "recipientEmail"}),
    ("ExternalReference", "External Data Reference", {"ImportId": "externalDataReference"}),
    ("LocationLatitude", "Location Latitude", {"ImportId": "locationLatitude"}),
    ("LocationLongitude", "Location Longitude", {"ImportId": "locationLongitude"}),
    ("DistributionChannel", "Distribution Channel", {"ImportId": "distributionChannel"}),
    ("UserLanguage", "User Language", {"ImportId": "userLanguage"}),
    ("Q1", Q1, {"ImportId": "QID1"}),
    ("Q2", Q2, {"ImportId": "QID2_TEXT"}),
    ("Q3", Q3, {"ImportId": "QID3"}),
]
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _csv_bytes(rows: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    buf = io.StringIO(newline="")
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buf.getvalue().encode(encoding)


def _qualtrics_row(
    rng: random.Random,
    *,
    customer: Customer,
    at: datetime,
    score: str,
    text: str,
    part: str,
    response_id: str,
    language: str,
) -> list[str]:
    local = _london(at)
    duration = rng.randint(35, 540)
    lat, lon = CITIES[customer.city][3:5]
    ip = f"{rng.choice(['192.0.2', '198.51.100', '203.0.113'])}.{rng.randint(1, 254)}"
    fmt = "%Y-%m-%d %H:%M:%S"
    return [
        (local - timedelta(seconds=duration)).strftime(fmt),
        local.strftime(fmt),
        "IP Address",
        ip,
        "100",
        str(duration),
        "True",
        (local + timedelta(seconds=rng.randint(0, 2))).strftime(fmt),
        response_id,
        customer.last,
        customer.first,
        customer.email,
        customer.account,
        f"{lat + rng.uniform(-0.05, 0.05):.4f}",
        f"{lon + rng.uniform(-0.05, 0.05):.4f}",
        "email",
        QUALTRICS_LANG[language],
        score,
        text,
        part,
    ]


def write_qualtrics(
    rng: random.Random, inbox_writer: _InboxWriter, contacts: list[Contact], people: list[Customer]
) -> None:
    header = [
        [m for m, _, _ in QUALTRICS_COLUMNS],
        [q for _, q, _ in QUALTRICS_COLUMNS],
        [json.dumps(i, separators=(",", ":")) for _, _, i in QUALTRICS_COLUMNS],
    ]
    used: set[str] = set()

    def response_id() -> str:
        while True:
            rid = "R_" + "".join(rng.choice(_ALNUM) for _ in range(15))
            if rid not in used:
                used.add(rid)
                return rid

    nps = [c for c in contacts if c.form == "nps"]
    for c in nps:
        c.source_id = response_id()
        c.extra["part"] = c.theme.survey_part if rng.random() < 0.85 else rng.choice(SURVEY_PARTS)
    # planted: the hostile SQL verbatim, as one customer typed it
    hostile = next(
        c
        for c in nps
        if c.theme.key == "charged_twice" and c.week == WEEKS[3] and c.language == "en"
    )
    hostile.text = (
        "Robert'); DROP TABLE feedback;-- is what I'd like to do to your billing system "
        "after you charged me twice"
    )
    hostile.pii = []
    bad_rows = {  # week index: (kind, score, text, expected reason)
        1: [("empty_verbatim", "7", "", "no feedback text")],
        2: [("na_verbatim", "8", "N/A", "no feedback text (just N/A)")],
        3: [("empty_verbatim", "3", "", "no feedback text")],
        4: [
            (
                "nps_out_of_range",
                "11",
                "Excellent service, couldn't fault it",
                "score 11 is outside the NPS range 0-10",
            )
        ],
        5: [
            (
                "nps_out_of_range",
                "-1",
                "terrible, would give minus if I could",
                "score -1 is outside the NPS range 0-10",
            )
        ],
    }
    for w, week in enumerate(WEEKS):
        monday = FIRST_DAY + timedelta(days=7 * w)
        start = (
            monday - timedelta(days=1) if w == N_WEEKS - 1 else monday
        )  # W47 repeats W46's Sunday
        rows = sorted(
            (c for c in nps if start <= c.local.date() <= monday + timedelta(days=6)),
            key=lambda c: c.at,
        )
        entries: list[tuple[Contact | None, list[str], tuple | None]] = []
        for c in rows:
            if "qualtrics_row" not in c.extra:  # the overlap repeats the very same row
                c.extra["qualtrics_row"] = _qualtrics_row(
                    rng,
                    customer=c.customer,
                    at=c.at,
                    score=str(c.score),
                    text=c.text,
                    part=c.extra["part"],
                    response_id=c.source_id,
                    language=c.language,
                )
            entries.append(
                (
                    c,
                    c.extra["qualtrics_row"],
                    None,
                )
            )
        for bad in bad_rows.get(w, []):
            customer = rng.choice(people)
            at = datetime.combine(
                monday + timedelta(days=rng.randint(0, 4)), datetime.min.time()
            ) + timedelta(hours=rng.randint(9, 19))
            rid = response_id()
            row = _qualtrics_row(
                rng,
                customer=customer,
                at=at,
                score=bad[1],
                text=bad[2],
                part=rng.choice(SURVEY_PARTS),
                response_id=rid,
                language="en",
            )
            entries.insert(rng.randint(1, len(entries) - 1), (None, row, (bad, rid)))
        rel = f"surveys/qualtrics_nps_{week}.csv"
        for number, (c, _row, bad) in enumerate(entries, start=1):
            if c is not None:
                if c.week == week:
                    c.file, c.row = rel, number
                    inbox_writer.tally(rel, contacts=1)
                else:  # the overlap: already in last week's export
                    c.also_in.append(rel)
                    inbox_writer.tally(rel, duplicates=1)
                    inbox_writer.plant(
                        "overlap_duplicate",
                        rel,
                        c.source_id,
                        number,
                        "duplicate",
                        f"same ResponseId as in {c.file} (overlapping export)",
                    )
            else:
                (kind, _s, _t, reason), rid = bad
                inbox_writer.plant(kind, rel, rid, number, "quarantine", reason)
        inbox_writer.write(
            rel, b"\xef\xbb\xbf" + _csv_bytes(header + [row for _, row, _ in entries])
        )
    inbox_writer.bad.append(
        BadRecord(
            "hostile_sql_text",
            hostile.file,
            hostile.source_id,
            hostile.row,
            "load",
            "stored as inert text; parameterised SQL means nothing runs",
            _cid(hostile),
        )
    )


CSAT_COLUMNS = [
    "Respondent ID",
    "Collector ID",
    "Start Date",
    "End Date",
    "Email Address",
    "How satisfied were you with how we handled your contact?",
    "What could we have done better?",
]


def _us_date(at: datetime) -> str:
    return _london(at).strftime("%m/%d/%Y %I:%M:%S %p")


def write_csat(
    rng: random.Random, inbox_writer: _InboxWriter, contacts: list[Contact], people: list[Customer]
) -> None:
    rel = "surveys/csat_post_contact.xlsx"
    rows = sorted((c for c in contacts if c.form == "csat"), key=lambda c: c.at)
    respondent = 118_204_551_000
    records: list[tuple[Contact | None, dict]] = []
    for c in rows:
        respondent += rng.randint(3, 400)
        c.source_id = str(respondent)
        started = c.at - timedelta(seconds=rng.randint(25, 240))
        records.append(
            (
                c,
                {
                    "id": respondent,
                    "collector": rng.choice([431_204_877, 431_204_877, 431_209_310]),
                    "start": _us_date(started),
                    "end": _us_date(c.at),
                    "email": c.customer.email,
                    "score": str(c.score),
                    "text": c.text,
                },
            )
        )
    for kind, text, reason in [
        ("na_verbatim", "N/A", "no feedback text (just N/A)"),
        ("empty_verbatim", "", "no feedback text"),
    ]:
        at_index = rng.randint(5, len(records) - 5)
        anchor = records[at_index][1]
        customer = rng.choice(people)
        rid = anchor["id"] + 1
        records.insert(
            at_index + 1,
            (
                None,
                {
                    "id": rid,
                    "collector": 431_204_877,
                    "start": anchor["start"],
                    "end": anchor["end"],
                    "email": customer.email,
                    "score": str(rng.randint(3, 5)),
                    "text": text,
                    "kind": kind,
                    "reason": reason,
                },
            ),
        )
    # ids step by 3 or more, so the planted rows' "anchor + 1" ids are free and in order
    for number, (c, rec) in enumerate(records, start=1):  # 1-based after both header rows
        if c is not None:
            c.source_id, c.file, c.row = str(rec["id"]), rel, number
            inbox_writer.tally(rel, contacts=1)
        else:
            inbox_writer.plant(
                rec["kind"], rel, str(rec["id"]), number, "quarantine", rec["reason"]
            )
    frame = pl.DataFrame(
        {
            CSAT_COLUMNS[0]: [None] + [r["id"] for _, r in records],
            CSAT_COLUMNS[1]: [None] + [r["collector"] for _, r in records],
            CSAT_COLUMNS[2]: [""] + [r["start"] for _, r in records],
            CSAT_COLUMNS[3]: [""] + [r["end"] for _, r in records],
            CSAT_COLUMNS[4]: [""] + [r["email"] for _, r in records],
            CSAT_COLUMNS[5]: ["Response"] + [r["score"] for _, r in records],
            CSAT_COLUMNS[6]: ["Open-Ended Response"] + [r["text"] for _, r in records],
        },
        schema={
            CSAT_COLUMNS[0]: pl.Int64,
            CSAT_COLUMNS[1]: pl.Int64,
            **{c: pl.String for c in CSAT_COLUMNS[2:]},
        },
    )
    from xlsxwriter import Workbook  # installed with polars' excel extra

    buf = io.BytesIO()
    workbook = Workbook(buf, {"in_memory": True})
    workbook.set_properties({"created": datetime(2026, 11, 23, 6, 0, 0), "author": "SurveyMonkey"})
    frame.write_excel(workbook, worksheet="Sheet1", autofit=True)
    workbook.close()
    inbox_writer.write(rel, buf.getvalue())


def write_unreadable(rng: random.Random, inbox_writer: _InboxWriter) -> None:
    # a Word file someone saved next to the survey exports: no channel reads .docx
    rel = "surveys/survey_questions.docx"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in [
            (
                "[Content_Types].xml",
                '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
            ),
            (
                "word/document.xml",
                f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>{Q1} {Q2} {Q3}</w:t></w:r></w:p></w:body></w:document>',
            ),
        ]:
            info = zipfile.ZipInfo(name, date_time=(2026, 9, 1, 9, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, body)
    inbox_writer.write(rel, buf.getvalue())
    inbox_writer.plant(
        "unsupported_file",
        rel,
        "survey_questions.docx",
        None,
        "quarantine",
        "a .docx file is not a survey format voc reads",
    )
    # a CRM export that got mangled on the way: random bytes
    rel = "complaints/crm_cases_corrupt.csv"
    junk = bytearray(rng.randbytes(4096))
    for i in range(0, 4096, 97):
        junk[i] = 0
    inbox_writer.write(rel, bytes(junk))
    inbox_writer.plant(
        "binary_file",
        rel,
        "crm_cases_corrupt.csv",
        None,
        "quarantine",
        "undecodable: binary content (NUL bytes), not text",
    )
    rel = "calls/README.md"
    inbox_writer.write(
        rel,
        (
            b"# Call transcripts\n\nExported nightly from the contact-centre platform, one folder per ISO week.\n"
            b"Formats: WebVTT (.vtt), SubRip (.srt), JSON and plain text.\n"
        ),
    )
    inbox_writer.plant(
        "unsupported_file",
        rel,
        "README.md",
        None,
        "quarantine",
        "a .md file is not a call format voc reads",
    )


# --------------------------------------------------------------------------------------
# complaints
# --------------------------------------------------------------------------------------
CRM_COLUMNS = [
    "Case Number",
    "Date Opened",
    "Contact Email",
    "Contact Phone",
    "Product",
    "Category",
    "Subject",
    "Description",
    "Status",
    "Priority",
    "Channel",
]
_EXPORTED_AT = datetime(2026, 11, 23, 6, 0, 0)


def _phone_as_written(rng: random.Random, phone: str) -> str:
    style = rng.randrange(4)
    if style == 0:
        return "+44 " + phone[1:]
    if style == 1:
        return phone.replace(" ", "")
    return phone


def _pasted_log(rng: random.Random, length: int) -> str:
    events = [
        "[WAN] PPPoE link down (LCP echo timeout)",
        "[WAN] PPPoE session up, IPv4 acquired",
        "[DSL] Showtime: DS 38.2 Mbps US 7.9 Mbps",
        "[DSL] Loss of signal",
        "[WIFI] 5GHz channel change 36 -> 100 (DFS)",
        "[SYS] Watchdog reset",
        "[DHCP] lease renewed for 192.168.1.64",
        "[WAN] DNS resolver unreachable",
    ]
    lines: list[str] = []
    at = datetime(2026, 11, 1, 0, 0, 0)
    size = 0
    while size < length:
        at += timedelta(seconds=rng.randint(3, 400))
        line = f"{at:%Y-%m-%d %H:%M:%S} lumen-hub kernel: {rng.choice(events)}"
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)


def write_crm(
    rng: random.Random, inbox_writer: _InboxWriter, contacts: list[Contact], people: list[Customer]
) -> None:
    cases = sorted((c for c in contacts if c.form == "crm"), key=lambda c: c.at)
    number = 418_230
    for c in cases:
        number += rng.randint(1, 9)
        c.source_id = f"{number:08d}"

    def row_of(c: Contact) -> list[str]:
        age = (_EXPORTED_AT - c.at).days
        if age > 12:
            status = rng.choices(["Closed", "Resolved", "Open"], [60, 30, 10])[0]
        else:
            status = rng.choices(
                ["Open", "In Progress", "Pending Customer", "Escalated", "Resolved"],
                [35, 30, 10, 10, 15],
            )[0]
        urgent = c.theme.key in ("outage", "engineer_no_show") or c.nth >= 3
        priority = rng.choices(["High", "Medium", "Low"], [50, 40, 10] if urgent else [15, 55, 30])[
            0
        ]
        email = c.customer.email
        if rng.random() < 0.05:  # typed by hand into the CRM
            local, domain = email.split("@")
            email = ".".join(p.capitalize() for p in local.split(".")) + "@" + domain.capitalize()
        category = (
            c.theme.crm_category
            if rng.random() < 0.9
            else rng.choice(["General Enquiry", "Other", "Complaint"])
        )
        return [
            c.source_id,
            c.local.strftime("%d/%m/%Y %H:%M"),
            email,
            _phone_as_written(rng, c.customer.phone),
            c.theme.product,
            category,
            c.subject,
            c.text,
            status,
            priority,
            c.extra.get("crm_channel", "Web"),
        ]

    # planted: a customer pasted 200,000 characters of router log into the description
    longest = next(
        c
        for c in cases
        if c.theme.key == "outage"
        and c.local.month == 11
        and c.extra.get("crm_channel") != "Phone"
        and c.language == "en"
        and not c.pii
    )
    head = longest.text + "\n\nHere is the log from my router, you can see it dropping:\n"
    longest.text = head + _pasted_log(rng, 200_000 - len(head))
    longest.text = longest.text[:200_000]
    for month, name in [(9, "2026-09"), (10, "2026-10"), (11, "2026-11")]:
        rel = f"complaints/crm_cases_{name}.csv"
        month_cases = [c for c in cases if c.local.month == month]
        lines: list[tuple[str, Contact | None, tuple | None]] = []  # (csv text, contact, bad)
        for c in month_cases:
            lines.append((_csv_bytes([row_of(c)]).decode(), c, None))
        if month == 9:  # the same case exported twice
            j = rng.randint(3, len(lines) - 6)
            lines.insert(j + 4, (lines[j][0], None, ("exact_duplicate", lines[j][1])))
        if month == 10:
            customer = rng.choice(people)
            number += 3
            malformed = (
                f"{number:08d},14/10/2026 10:02,{customer.email},{customer.phone},Broadband,Billing,"
                "Bill wrong again,Hi, my bill is wrong again, I was charged for TV, which I don't have, "
                "and nobody answers the phone,Open,Medium,Web\r\n"
            )
            lines.insert(
                rng.randint(20, len(lines) - 20),
                (malformed, None, ("malformed_csv_line", f"{number:08d}")),
            )
            customer = rng.choice(people)
            number += 2
            row = [
                f"{number:08d}",
                "yesterday",
                customer.email,
                customer.phone,
                "Broadband",
                "Technical - Fault",
                "No internet",
                "Internet has been off since the weekend, please help, I work from home.",
                "Open",
                "High",
                "Phone",
            ]
            lines.insert(
                rng.randint(20, len(lines) - 20),
                (_csv_bytes([row]).decode(), None, ("unparseable_date", f"{number:08d}")),
            )
        body = "".join(text for text, _, _ in lines)
        inbox_writer.write(rel, (_csv_bytes([CRM_COLUMNS]).decode() + body).encode("utf-8"))
        for n, (_text, c, bad) in enumerate(lines, start=1):
            if c is not None:
                c.file, c.row = rel, n
                inbox_writer.tally(rel, contacts=1)
            elif bad[0] == "exact_duplicate":
                inbox_writer.tally(rel, duplicates=1)
                inbox_writer.plant(
                    "exact_duplicate",
                    rel,
                    bad[1].source_id,
                    n,
                    "duplicate",
                    f"the same case (Case Number {bad[1].source_id}) twice in one export",
                )
            elif bad[0] == "malformed_csv_line":
                inbox_writer.plant(
                    "malformed_csv_line",
                    rel,
                    bad[1],
                    n,
                    "quarantine",
                    "malformed line: more fields than the header (unquoted commas)",
                )
            else:
                inbox_writer.plant(
                    "unparseable_date", rel, bad[1], n, "quarantine", "unparseable date 'yesterday'"
                )
    inbox_writer.bad.append(
        BadRecord(
            "oversized_text",
            longest.file,
            longest.source_id,
            longest.row,
            "truncate",
            f"a {len(longest.text):,}-character description (a pasted router log); loaded, cut to the text limit",
            _cid(longest),
        )
    )


def write_webform(rng: random.Random, inbox_writer: _InboxWriter, contacts: list[Contact]) -> None:
    rel = "complaints/webform_complaints.jsonl"
    forms = sorted((c for c in contacts if c.form == "webform"), key=lambda c: c.at)
    number = 208_311
    for c in forms:
        number += rng.randint(1, 6)
        c.source_id = f"WF-{number}"
    script = next(
        c for c in forms if c.theme.key in ("price_rise", "charged_twice") and c.language == "en"
    )
    script.text = (
        "<script>alert('x')</script> my bill is wrong, " + script.text[0].lower() + script.text[1:]
    )
    control = next(
        c for c in forms if c.theme.key == "outage" and c.language == "en" and c.n > script.n
    )
    control.text = (
        "My router keeps dropping\x00\x1b[31m every single evening \u202eand the light goes red\u202c. "
        + control.text
    )
    lines = []
    for n, c in enumerate(forms, start=1):
        c.file, c.row = rel, n
        record = {
            "id": c.source_id,
            "submitted_at": _iso_z(c.at, rng.randrange(1000)),
            "customer": {"email": c.customer.email, "name": c.customer.name},
            "topic": c.theme.webform_topic,
            "message": c.text,
        }
        lines.append(json.dumps(record, ensure_ascii=False))
        inbox_writer.tally(rel, contacts=1)
    inbox_writer.write(rel, ("\n".join(lines) + "\n").encode("utf-8"))
    inbox_writer.bad.append(
        BadRecord(
            "hostile_html_text",
            rel,
            script.source_id,
            script.row,
            "load",
            "stored as text, shown escaped; never executed",
            _cid(script),
        )
    )
    inbox_writer.bad.append(
        BadRecord(
            "control_characters",
            rel,
            control.source_id,
            control.row,
            "load",
            "NUL, ANSI escape and right-to-left override characters removed",
            _cid(control),
        )
    )


LEGACY_COLUMNS = [
    "Complaint Ref",
    "Date Logged",
    "Account No",
    "Customer Name",
    "Email",
    "Amount (£)",
    "Complaint Details",
    "Handler",
]


def write_legacy(
    rng: random.Random, inbox_writer: _InboxWriter, contacts: list[Contact], people: list[Customer]
) -> None:
    rel = "complaints/legacy_billing_complaints.csv"
    rows = sorted((c for c in contacts if c.form == "legacy"), key=lambda c: c.at)
    handlers = ["Renée B.", "José M.", "Sam K.", "Anaïs P.", "Dave H."]
    entries: list[tuple[Contact | None, list[str]]] = []
    for n, c in enumerate(rows, start=1):
        c.source_id = f"BC-2026-{400 + n * 3:04d}"
        c.at = datetime.combine(
            c.local.date(), datetime.min.time()
        )  # the old system keeps dates only
        amount = re.search(r"£(\d+(?:\.\d\d)?)", c.text)
        entries.append(
            (
                c,
                [
                    c.source_id,
                    c.at.strftime("%d/%m/%Y"),
                    c.customer.account,
                    c.customer.name,
                    c.customer.email,
                    amount.group(1) if amount else "",
                    c.text,
                    rng.choice(handlers),
                ],
            )
        )
    customer = rng.choice([p for p in people if p.language == "en"])
    bad_ref = f"BC-2026-{400 + (len(rows) + 1) * 3:04d}"
    entries.insert(
        rng.randint(5, len(entries) - 5),
        (
            None,
            [
                bad_ref,
                "31/02/2026",
                customer.account,
                customer.name,
                customer.email,
                "42.00",
                "Charged £42.00 for a café package I never ordered, please refund.",
                "Renée B.",
            ],
        ),
    )
    for n, (c, _row) in enumerate(entries, start=1):
        if c is not None:
            c.file, c.row = rel, n
            inbox_writer.tally(rel, contacts=1)
        else:
            inbox_writer.plant(
                "unparseable_date", rel, bad_ref, n, "quarantine", "unparseable date '31/02/2026'"
            )
    inbox_writer.write(
        rel,
        _csv_bytes(
            [LEGACY_COLUMNS] + [row for _, row in entries], delimiter=";", encoding="cp1252"
        ),
    )


# --------------------------------------------------------------------------------------
# e-mail
# --------------------------------------------------------------------------------------
def _minimal_pdf(title: str, lines: list[str]) -> bytes:
    """A small, valid one-page PDF (a bill the customer attached)."""
    text = " ".join(f"({line.replace('(', '[').replace(')', ']')}) Tj T*" for line in lines)
    stream = f"BT /F1 11 Tf 14 TL 56 780 Td ({title}) Tj T* T* {text} ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def _message_id(rng: random.Random, c: Contact | None) -> str:
    token = "".join(rng.choice("0123456789abcdef") for _ in range(24))
    if c is None:
        return f"<{token}.{rng.randint(1000, 9999)}@mail.{DOMAIN}>"
    domain = c.customer.email.split("@")[1]
    style = rng.randrange(3)
    if style == 0:
        return f"<CA+{token[:18].upper()}{rng.randint(10, 99)}@mail.{domain}>"
    if style == 1:
        return f"<{token}@{domain}>"
    return f"<{token[:8]}-{token[8:12]}-{token[12:16]}-{token[16:]}@mx.{domain}>"


def _quote(text: str) -> str:
    return "\n".join(">" if not line else f"> {line}" for line in text.split("\n"))


def _html(text: str) -> str:
    from html import escape

    paragraphs = "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in text.split("\n\n"))
    return (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        "<style>p{margin:0 0 12px 0;font-family:Calibri,sans-serif}</style></head>"
        f'<body><div dir="ltr">{paragraphs}</div></body></html>'
    )


def _office_hours(rng: random.Random, at: datetime) -> datetime:
    """When Lumen's reply to something received at ``at`` (UTC) goes out: 2-20 hours later,
    moved into 08:00-19:59 London time."""
    reply = at + timedelta(hours=rng.randint(2, 20), minutes=rng.randrange(60))
    local = _london(reply)
    if not 8 <= local.hour < 20:
        day = local.date() + timedelta(days=1 if local.hour >= 20 else 0)
        local = datetime(
            day.year, day.month, day.day, rng.randint(8, 10), rng.randrange(60), rng.randrange(60)
        )
        reply = local - _utc_offset(day)
    return reply


def _support_reply(rng: random.Random, c: Contact, first: str) -> str:
    ctx = c.extra["ctx"].but(first=first)
    return re.sub(r"\{(\w+)\}", lambda m: ctx[m.group(1)], rng.choice(SUPPORT_REPLIES))


def build_email(rng: random.Random, c: Contact, boundary: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = (
        f"{c.customer.name} <{c.customer.email}>" if rng.random() < 0.9 else c.customer.email
    )
    msg["To"] = rng.choice([SUPPORT_ADDRESS, SUPPORT_FROM])
    body = c.text
    subject = c.subject
    prev = c.repeat_of
    if prev is not None and (prev.form in ("mbox", "eml") or rng.random() < 0.4):
        # a reply to what Lumen sent after the previous contact, quoting it
        reply = _office_hours(rng, prev.at)
        if reply >= c.at:  # Lumen answered before the customer wrote again
            reply = prev.at + (c.at - prev.at) / 2
        replied_at = _aware_london(reply.replace(microsecond=0))
        when = f"{replied_at:%a}, {replied_at.day} {replied_at:%b %Y at %H:%M}"
        body += f"\n\nOn {when}, Lumen Support <{SUPPORT_ADDRESS}> wrote:\n" + _quote(
            _support_reply(rng, prev, c.customer.first)
        )
        base = (
            prev.subject
            if prev.form in ("mbox", "eml") and prev.subject
            else f"Your Lumen case {c.extra['ctx']['ref']}"
        )
        subject = "Re: " + re.sub(r"^(Re: )+", "", base)
        msg["In-Reply-To"] = (
            prev.source_id if prev.source_id.startswith("<") else f"<case-{prev.n}@{DOMAIN}>"
        )
        msg["References"] = msg["In-Reply-To"]
    if rng.random() < 0.12:
        phone = c.customer.phone
        body += f"\n\n-- \n{c.customer.name}\n{rng.choice(['', 'Mobile: ', 'Tel: ', 'M: '])}{phone}"
        c.pii.append(("phone", phone, "signature"))
    elif rng.random() < 0.18:
        body += "\n\n" + rng.choice(MOBILE_SIGS)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(_aware_london(c.at))
    msg["Message-ID"] = c.source_id
    attach = rng.random() < 0.025
    if attach:
        head, sep, tail = c.text.rpartition("\n\n")
        body = body.replace(
            c.text, f"{head}\n\nI've attached a copy of my latest bill.{sep}{tail}", 1
        )
    if rng.random() < 0.03 and not attach:
        msg.set_content(_html(body), subtype="html")
        c.extra["html_only"] = True
    else:
        msg.set_content(body)
    if attach:
        month = MONTHS[c.local.month - 2]
        pdf = _minimal_pdf(
            f"Lumen Broadband - bill for {month} 2026",
            [
                f"Account {c.customer.account}",
                f"Total due: {c.extra['ctx']['price_new']}",
                "Direct debit collected on the 1st",
            ],
        )
        msg.add_attachment(
            pdf, maintype="application", subtype="pdf", filename=f"Lumen_bill_{month}.pdf"
        )
        msg.set_boundary(boundary)
        c.extra["attachment"] = True
    c.extra["email_text"] = body
    return msg


def _mbox_entry(
    sender: str, at: datetime | None, msg: EmailMessage, raw_date: str | None = None
) -> bytes:
    data = msg.as_bytes(policy=policy.default)
    if raw_date is not None:  # a header the email package would refuse to write
        data = re.sub(rb"(?m)^Date:.*$", b"Date: " + raw_date.encode(), data, count=1)
    body = re.sub(rb"(?m)^(>*From )", rb">\1", data)
    stamp = at.strftime("%a %b %d %H:%M:%S %Y") if at else "Thu Jan  1 00:00:00 1970"
    return f"From {sender} {stamp}\n".encode() + body.rstrip(b"\n") + b"\n\n"


def write_emails(
    rng: random.Random, inbox_writer: _InboxWriter, contacts: list[Contact], people: list[Customer]
) -> None:
    mails = sorted((c for c in contacts if c.form in ("mbox", "eml")), key=lambda c: c.at)
    for c in mails:
        c.source_id = _message_id(rng, c)
    boundary_n = 0
    entries_by_week: dict[str, list[tuple[datetime, bytes, Contact | None, tuple | None]]] = {
        w: [] for w in WEEKS
    }
    loose = 0
    for c in mails:
        boundary_n += 1
        msg = build_email(rng, c, f"===============lumen{boundary_n:06d}==")
        if c.form == "eml":
            loose += 1
            rel = f"emails/loose/complaint_escalation_{loose:03d}.eml"
            msg["Cc"] = f"complaints@{DOMAIN}"
            c.file = rel
            inbox_writer.write(rel, msg.as_bytes(policy=policy.SMTP))
            inbox_writer.tally(rel, contacts=1)
            continue
        entries_by_week[c.week].append((c.at, _mbox_entry(c.customer.email, c.at, msg), c, None))
    for w, week in enumerate(WEEKS):
        week_mails = [e[2] for e in entries_by_week[week]]
        # Lumen's own replies, exported with the inbox: outbound, not feedback
        early = [c for c in week_mails if c.local.weekday() <= 3 and c.customer.language == "en"]
        for c in rng.sample(early, 1 + (w % 2)):
            reply = EmailMessage()
            reply["From"] = SUPPORT_FROM
            reply["To"] = f"{c.customer.name} <{c.customer.email}>"
            reply["Subject"] = "Re: " + (c.subject or "Your enquiry")
            at = _office_hours(rng, c.at)
            reply["Date"] = format_datetime(_aware_london(at))
            mid = _message_id(rng, None)
            reply["Message-ID"] = mid
            reply["In-Reply-To"] = c.source_id
            reply.set_content(
                _support_reply(rng, c, c.customer.first) + "\n\n" + _quote(c.extra["email_text"])
            )
            entries_by_week[week].append(
                (at, _mbox_entry(SUPPORT_ADDRESS, at, reply), None, ("outbound", mid))
            )
        if w == 2:  # a message whose Date header is garbage
            customer = rng.choice([p for p in people if p.language == "en"])
            bad = EmailMessage()
            bad["From"] = f"{customer.name} <{customer.email}>"
            bad["To"] = SUPPORT_ADDRESS
            bad["Subject"] = "No internet again"
            bad["Date"] = format_datetime(_aware_london(datetime(2026, 10, 15, 9, 0)))
            mid = _message_id(rng, None).replace(f"mail.{DOMAIN}", customer.email.split("@")[1])
            bad["Message-ID"] = mid
            bad.set_content(
                f"Hi,\n\nThe internet has gone off again this morning. Can someone call me?\n\nThanks\n{customer.first}"
            )
            at = datetime(2026, 10, 15, 9, 0)
            entries_by_week[week].append(
                (
                    at,
                    _mbox_entry(customer.email, None, bad, raw_date="Thursday afternoon-ish"),
                    None,
                    ("garbage_date", mid),
                )
            )
        rel = f"emails/support_inbox_{week}.mbox"
        entries = sorted(entries_by_week[week], key=lambda e: e[0])
        for _at, _data, c, bad in entries:
            if c is not None:
                c.file, c.row = rel, None
                inbox_writer.tally(rel, contacts=1)
            elif bad[0] == "outbound":
                inbox_writer.tally(rel, not_feedback=1)
                inbox_writer.plant(
                    "outbound_email",
                    rel,
                    bad[1],
                    None,
                    "not_feedback",
                    f"sent by {SUPPORT_ADDRESS}: the company's reply, not customer feedback",
                )
            else:
                inbox_writer.plant(
                    "garbage_date_header",
                    rel,
                    bad[1],
                    None,
                    "quarantine",
                    "unparseable Date header 'Thursday afternoon-ish' (and the mbox From_ line says 1970)",
                )
        inbox_writer.write(rel, b"".join(data for _, data, _, _ in entries))


# --------------------------------------------------------------------------------------
# calls
# --------------------------------------------------------------------------------------
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


def write_calls(rng: random.Random, inbox_writer: _InboxWriter, contacts: list[Contact]) -> None:
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


URGENT_SENTENCES: dict[str, str] = _TEXTS["urgent"]["urgent_sentences"]
ESCALATION_SENTENCE = "refer the matter to the Ombudsman"  # every formal-complaint .eml
SAID_REPEAT_SENTENCES = set(_TEXTS["urgent"]["said_repeat_sentences"])


def _count_at_least_three(template: str, ctx: dict) -> bool:
    if "{n}" in template:
        return ctx.get("n") not in (None, "several")
    if "{nd}" in template:
        return int(ctx.get("nd") or 0) >= 3
    if "{ordinal}" in template:
        return ctx.get("ordinal") in ("third", "fourth", "3rd")
    return True


REPEAT_NTH = 3
REPEAT_WINDOW = timedelta(days=30)
_KEY_WORD = re.compile(r"[^\W_]+")


def _key_words(text: str) -> list[str]:
    return _KEY_WORD.findall(text.replace("’", "'").replace("'", "").lower())


def _survived(template: str, text: str) -> bool:
    """Whether a sentence written into a contact is still in its final text: typos and
    texting change a word or two, the survey's length cap or a call note's cut drop it."""
    runs = [_key_words(part) for part in re.split(r"\{\w+\}", template)]
    pairs = {(a, b) for run in runs for a, b in zip(run, run[1:], strict=False)}
    words = _key_words(text)
    if not pairs:
        return any(w in words for run in runs for w in run)
    have = set(zip(words, words[1:], strict=False))
    return len(pairs & have) / len(pairs) >= 0.34


def _customer_text(c: Contact) -> str:
    """What voc stores as the contact's text: subject and body, or the customer's turns."""
    if c.turns:
        return "\n".join(t for who, t in c.turns if who == "customer")
    return f"{c.subject}\n\n{c.text}" if c.subject else c.text


def urgent_key(contacts: list[Contact]) -> list[tuple[Contact, str]]:
    """(contact, kind) for every generated contact that is urgent: from the labelled
    sentences it was written from, and repeat failures from the plan (the third or later
    contact by one customer on one theme within 30 days) or from what the customer says
    ("this is the third time I've contacted you")."""
    out: list[tuple[Contact, str]] = []
    for c in contacts:
        text = _customer_text(c)
        kinds = {
            URGENT_SENTENCES[t]
            for t in c.extra.get("templates", [])
            if t in URGENT_SENTENCES and _survived(t, text)
        }
        if c.form == "eml" and ESCALATION_SENTENCE in c.text:
            kinds.add("regulator")
        ctx = c.extra.get("ctx", {})
        if any(
            t in SAID_REPEAT_SENTENCES and _count_at_least_three(t, ctx) and _survived(t, text)
            for t in c.extra.get("templates", [])
        ):
            kinds.add("repeat_failure")
        out += [(c, k) for k in sorted(kinds)]
    by_story: dict[tuple[str, str], list[Contact]] = {}
    for c in sorted(contacts, key=lambda c: (c.at, c.n)):
        by_story.setdefault((c.customer.email, c.theme.key), []).append(c)
    said = {id(c) for c, kind in out if kind == "repeat_failure"}
    for story in by_story.values():
        for i, c in enumerate(story):
            if id(c) in said:
                continue
            if sum(1 for p in story[: i + 1] if c.at - p.at <= REPEAT_WINDOW) >= REPEAT_NTH:
                out.append((c, "repeat_failure"))
    return out


@dataclass
class PlantedUrgent:
    """A contact planted for the urgent-contact benchmark (not one of ``contacts``)."""

    contact_id: str  # U001...
    channel: str
    file: str
    source_id: str
    timestamp: str
    language: str
    customer_email: str
    kinds: list[str]  # empty: a hard negative (reads urgent, is not)
    note: str


PLANTED_URGENT: list[tuple[tuple[str, ...], str, str, int, str, str, str]] = [
    (tuple(kinds), *rest) for kinds, *rest in _TEXTS["urgent"]["planted_urgent"]
]
PLANTED_STORIES: dict[str, list[tuple[tuple[str, ...], str, int, str]]] = {
    tag: [(tuple(kinds), *rest) for kinds, *rest in story]
    for tag, story in _TEXTS["urgent"]["planted_stories"].items()
}


def _planted_customer(rng: random.Random, tag: str) -> tuple[str, str]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email = f"{_ascii(first).lower()}.{_ascii(last).lower()}.u{ord(tag[0]) + len(tag)}@example.net"
    return f"{first} {last}", email


def write_urgent(
    rng: random.Random, inbox_writer: _InboxWriter
) -> tuple[list[PlantedUrgent], list[dict[str, str]]]:
    """Write the planted urgent contacts and hard negatives to files of their own (the
    generated inbox is not touched): a survey CSV, a web-form JSONL, .eml messages in
    emails/urgent/ and JSON call transcripts (C-9…) in the week folders of calls/. Returns them and their flags."""
    items = [
        (kinds, ch, lang, day, tag, subj, text)
        for kinds, ch, lang, day, tag, subj, text in PLANTED_URGENT
    ]
    for tag, story in PLANTED_STORIES.items():
        items += [(kinds, ch, "en", day, tag, "", text) for kinds, ch, day, text in story]
    people: dict[str, tuple[str, str]] = {}
    planted: list[PlantedUrgent] = []
    surveys: list[list[str]] = []
    forms: list[str] = []
    for n, (kinds, channel, language, day, tag, subject, text) in enumerate(items, start=1):
        if tag not in people:
            people[tag] = _planted_customer(rng, tag)
        name, email = people[tag]
        local = datetime.combine(FIRST_DAY + timedelta(days=day), datetime.min.time()) + timedelta(
            hours=rng.randint(8, 19), minutes=rng.randrange(60)
        )
        at = local - _utc_offset(local.date())
        cid = f"U{n:03d}"
        if channel == "survey":
            rel, source = "surveys/pulse_survey_urgent.csv", f"PS-{7000 + n}"
            score = "0" if kinds else str(rng.choice([3, 5, 6, 7, 8]))
            surveys.append([source, _iso_z(at), email, score, text])
        elif channel == "complaint":
            rel, source = "complaints/webform_escalations.jsonl", f"WE-{51000 + n}"
            record = {
                "id": source,
                "submitted_at": _iso_z(at),
                "customer": {"email": email, "name": name},
                "topic": "Escalation",
                "message": text,
            }
            forms.append(json.dumps(record, ensure_ascii=False))
        elif channel == "email":
            source = f"<urgent.{n:03d}.{rng.randrange(16**8):08x}@mail.example.net>"
            rel = f"emails/urgent/{cid}.eml"
            msg = EmailMessage()
            msg["From"] = f"{name} <{email}>"
            msg["To"] = SUPPORT_ADDRESS
            msg["Subject"] = subject or "Broadband"
            msg["Date"] = format_datetime(_aware_london(at))
            msg["Message-ID"] = source
            msg.set_content(f"{text}\n\n{name.split()[0]}\n")
            inbox_writer.write(rel, msg.as_bytes(policy=policy.default))
            inbox_writer.tally(rel, contacts=1)
        else:
            source = f"C-9{n:05d}"
            rel = f"calls/{iso_week(at.date())}/{source}.json"
            doc = {
                "call_id": source,
                "started_at": _iso_z(at),
                "duration_seconds": rng.randint(120, 900),
                "customer": {"email": email, "phone": None},
                "queue": "general",
                "agent": rng.choice(AGENTS),
                "turns": [
                    {"speaker": "agent", "text": "Thanks for calling Lumen, how can I help?"},
                    {"speaker": "customer", "text": text},
                    {
                        "speaker": "agent",
                        "text": "I'm sorry to hear that, let me look into it now.",
                    },
                ],
            }
            inbox_writer.write(rel, (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode())
            inbox_writer.tally(rel, contacts=1)
        planted.append(
            PlantedUrgent(
                cid,
                channel,
                rel,
                source,
                _iso_z(at),
                language,
                email,
                list(kinds),
                "planted" if kinds else "hard negative",
            )
        )
    rel = "surveys/pulse_survey_urgent.csv"
    inbox_writer.write(
        rel, _csv_bytes([["id", "submitted_at", "email", "nps", "comment"], *surveys])
    )
    inbox_writer.tally(rel, contacts=len(surveys))
    rel = "complaints/webform_escalations.jsonl"
    inbox_writer.write(rel, ("\n".join(forms) + "\n").encode("utf-8"))
    inbox_writer.tally(rel, contacts=len(forms))
    flags = [
        {"file": p.file, "source_id": p.source_id, "kind": k, "contact_id": p.contact_id}
        for p in planted
        for k in p.kinds
    ]
    return planted, flags


# --------------------------------------------------------------------------------------
# the whole inbox
# --------------------------------------------------------------------------------------
def _clear(inbox: Path) -> None:
    if not inbox.exists() or not any(inbox.iterdir()):
        return
    if not (inbox.parent / MANIFEST_NAME).exists():
        raise FileExistsError(
            f"{inbox} already holds files and is not a sample inbox voc wrote; choose an empty folder"
        )
    shutil.rmtree(inbox)


def generate_sample(inbox: Path, *, seed: int = 7) -> SampleManifest:
    """Write Lumen Broadband's eight-week inbox under ``inbox`` and return its answer key,
    also written to ``inbox.parent / "sample_manifest.json"``. Same seed, same bytes."""
    inbox = Path(inbox)
    _clear(inbox)
    inbox.mkdir(parents=True, exist_ok=True)

    def rng(part: str) -> random.Random:
        return random.Random(f"voc-sample/{seed}/{part}")

    people = make_customers(rng("people"))
    contacts = plan_contacts(rng("plan"), people)
    assign_forms(rng("forms"), contacts)
    render(Writer(rng("text")), contacts)
    inbox_writer = _InboxWriter(inbox)
    write_qualtrics(rng("qualtrics"), inbox_writer, contacts, people)
    write_csat(rng("csat"), inbox_writer, contacts, people)
    write_crm(rng("crm"), inbox_writer, contacts, people)
    write_webform(rng("webform"), inbox_writer, contacts)
    write_legacy(rng("legacy"), inbox_writer, contacts, people)
    write_emails(rng("email"), inbox_writer, contacts, people)
    write_calls(rng("calls"), inbox_writer, contacts)
    write_unreadable(rng("junk"), inbox_writer)
    planted, planted_flags = write_urgent(rng("urgent"), inbox_writer)
    flags = [
        {"file": c.file, "source_id": c.source_id, "kind": kind, "contact_id": _cid(c)}
        for c, kind in urgent_key(contacts)
    ] + planted_flags

    records = [
        ContactRecord(
            contact_id=_cid(c),
            channel=c.channel,
            file=c.file,
            source_id=c.source_id,
            row=c.row,
            timestamp=_iso_z(c.at),
            week=c.week,
            theme=c.theme.key,
            demand=c.theme.demand,
            department=c.theme.department,
            customer_email=c.customer.email,
            customer_phone=c.customer.phone,
            identity_in_source=c.identity,
            score=c.score,
            score_kind=c.score_kind,
            language=c.language,
            repeat_of=_cid(c.repeat_of) if c.repeat_of else None,
            also_in=c.also_in,
        )
        for c in contacts
    ]
    pii = [
        PlantedPII(kind, value, _cid(c), c.file, where)
        for c in contacts
        for kind, value, where in c.pii
    ]
    weekly = {week: {t.key: 0 for t in THEMES} for week in WEEKS}
    for c in contacts:
        weekly[c.week][c.theme.key] += 1
    spike_monday = FIRST_DAY + timedelta(days=7 * SPIKE_WEEK)
    manifest = SampleManifest(
        company=COMPANY,
        support_address=SUPPORT_ADDRESS,
        seed=seed,
        weeks=WEEKS,
        first_day=FIRST_DAY.isoformat(),
        last_day=LAST_DAY.isoformat(),
        themes=[
            {"key": t.key, "label": t.label, "demand": t.demand, "department": t.department}
            for t in THEMES
        ],
        spike={
            "theme": SPIKE_THEME,
            "week": WEEKS[SPIKE_WEEK],
            "factor": SPIKE_FACTOR,
            "area": "Leeds (LS6, Headingley / Hyde Park)",
            "started_on": spike_monday.isoformat(),
        },
        fix={
            "theme": FIXED_THEME,
            "last_normal_week": WEEKS[FIX_LAST_NORMAL_WEEK],
            "shipped_on": (FIRST_DAY + timedelta(days=7 * (FIX_LAST_NORMAL_WEEK + 1))).isoformat(),
            "residual_share": FIXED_FACTOR,
        },
        contacts=records,
        bad_records=inbox_writer.bad,
        pii=pii,
        files=dict(sorted(inbox_writer.files.items())),
        weekly_theme_counts=weekly,
        channel_counts=dict(Counter(c.channel for c in contacts)),
        distinct_customers=len({c.customer.email for c in contacts}),
        flags=flags,
        urgent_contacts=planted,
    )
    (inbox.parent / MANIFEST_NAME).write_text(manifest.to_json(), encoding="utf-8")
    return manifest
