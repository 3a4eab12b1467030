"""Lumen Broadband itself: its calendar, its fifteen themes, what its customers write
(``texts/*.yaml``), its places and products, and its customers."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from importlib import resources

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
    lists as the YAML has them; the modules that read them restore tuples where they need them."""
    folder = resources.files("flows.sample_company") / "texts"
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return {
        name: yaml.load((folder / f"{name}.yaml").read_text(encoding="utf-8"), Loader=loader)
        for name in TEXT_FILES
    }


TEXTS = load_texts()

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
SURVEY_PARTS = TEXTS["what_customers_say"]["survey_parts"]

TEXT: dict[str, dict[str, list[str]]] = TEXTS["what_customers_say"]["text"]

SPIKE_TEXT: dict[str, list[str]] = TEXTS["what_customers_say"]["spike_text"]

OPENERS = TEXTS["what_customers_say"]["openers"]
VALUE_OPENERS = TEXTS["what_customers_say"]["value_openers"]
EMOTIONS = TEXTS["what_customers_say"]["emotions"]
GENERIC_ASKS = TEXTS["what_customers_say"]["generic_asks"]
CLOSERS = TEXTS["what_customers_say"]["closers"]
REPEAT_LINES = TEXTS["what_customers_say"]["repeat_lines"]
SURVEY_TAILS_NEG = TEXTS["what_customers_say"]["survey_tails_neg"]
SURVEY_TAILS_VALUE = TEXTS["what_customers_say"]["survey_tails_value"]
SURVEY_PREFIXES = TEXTS["what_customers_say"]["survey_prefixes"]
CSAT_BETTER = TEXTS["what_customers_say"]["csat_better"]
CSAT_REASONS = TEXTS["what_customers_say"]["csat_reasons"]
PRAISE_BITS = TEXTS["what_customers_say"]["praise_bits"]

FOREIGN: dict[str, dict[str, list[str] | dict[str, list[str]]]] = TEXTS["other_languages"][
    "foreign"
]
DAYS_FOREIGN = TEXTS["other_languages"]["days_foreign"]
QUALTRICS_LANG = {"en": "EN-GB", "de": "DE", "fr": "FR", "es": "ES-ES", "pl": "PL"}

FIRST_NAMES = TEXTS["people_and_places"]["first_names"]
LAST_NAMES = TEXTS["people_and_places"]["last_names"]
FOREIGN_NAMES = {k: tuple(v) for k, v in TEXTS["people_and_places"]["foreign_names"].items()}
CITIES: dict[str, tuple[float, list[str], str, float, float, list[str]]] = {
    k: tuple(v) for k, v in TEXTS["people_and_places"]["cities"].items()
}
SPIKE_CITY = "Leeds"
SPIKE_OUTWARDS = ["LS6", "LS6", "LS6", "LS4", "LS5"]
SPIKE_AREAS = TEXTS["people_and_places"]["spike_areas"]
STREETS = TEXTS["people_and_places"]["streets"]
_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
AGENTS = TEXTS["people_and_places"]["agents"]
ENGINEERS = TEXTS["people_and_places"]["engineers"]
COURIERS = TEXTS["people_and_places"]["couriers"]
PACKAGES = [tuple(p) for p in TEXTS["products"]["packages"]]
TV_CHANNELS = TEXTS["products"]["tv_channels"]
DEVICES = TEXTS["products"]["devices"]
ROUTERS = TEXTS["products"]["routers"]
TV_BOXES = TEXTS["products"]["tv_boxes"]
ERRORS = TEXTS["products"]["errors"]
SLOTS = TEXTS["products"]["slots"]
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
