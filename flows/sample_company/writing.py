"""How a contact is written: the phrases of mail and calls, the customer's style (typos,
texting), the scores, forms and planted PII."""

from __future__ import annotations

import random
import re
from datetime import date, timedelta

from flows.sample_company.company import (
    AGENTS,
    CITIES,
    CLOSERS,
    COURIERS,
    CSAT_BETTER,
    CSAT_REASONS,
    DAYS_FOREIGN,
    DEVICES,
    EMOTIONS,
    ENGINEERS,
    ERRORS,
    FOREIGN,
    GENERIC_ASKS,
    MONTHS,
    OPENERS,
    PACKAGES,
    PRAISE_BITS,
    REPEAT_LINES,
    ROUTERS,
    SLOTS,
    SPIKE_AREAS,
    SPIKE_CITY,
    SPIKE_OUTWARDS,
    SPIKE_TEXT,
    SURVEY_PREFIXES,
    SURVEY_TAILS_NEG,
    SURVEY_TAILS_VALUE,
    TEST_CARDS,
    TEXT,
    TEXTS,
    TV_BOXES,
    TV_CHANNELS,
    VALUE_OPENERS,
    WEEKDAYS,
)
from flows.sample_company.plan import Contact

TOPIC = TEXTS["what_customers_say"]["topic"]
SUPPORT_REPLIES = TEXTS["mail_and_calls"]["support_replies"]
GREETINGS = TEXTS["mail_and_calls"]["greetings"]
SIGNOFFS = TEXTS["mail_and_calls"]["signoffs"]
MOBILE_SIGS = TEXTS["mail_and_calls"]["mobile_sigs"]
AGENT_GREETINGS = TEXTS["mail_and_calls"]["agent_greetings"]
AGENT_ID_CHECKS = TEXTS["mail_and_calls"]["agent_id_checks"]
SPOKEN_PREFIXES = TEXTS["mail_and_calls"]["spoken_prefixes"]
GENERIC_PROBES = TEXTS["mail_and_calls"]["generic_probes"]
REACTIONS = TEXTS["mail_and_calls"]["reactions"]
AGENT_CLOSES = TEXTS["mail_and_calls"]["agent_closes"]
CRM_ACTIONS = TEXTS["mail_and_calls"]["crm_actions"]
_MISSPELLINGS = TEXTS["writing_style"]["misspellings"]
_TEXTING = [tuple(t) for t in TEXTS["writing_style"]["texting"]]


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
        # long: one draw per placeholder in a fixed order; moving a draw changes every sample byte
        # after it
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
PII_SENTENCES = TEXTS["what_customers_say"]["pii_sentences"]


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
    # long: each contact's touches (CRM channel, identity, PII, repeats) in the order their random
    # draws are made (same seed, same bytes)
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
