"""Failure demand or value demand? Deterministic, explainable rules over what customers say.

John Seddon's distinction, as Price & Jaffe ("The Best Service is No Service") use it:

* **failure demand**: contacts caused by a failure to do something, or to do something
  right, for the customer. Sub-kinds: ``chasing_progress`` (where is it, when will it
  happen), ``broken`` (something does not work), ``mistake`` (something was done wrong:
  a wrong charge, a surprise, a complaint), ``confusion_how_do_i`` (the customer could
  not help themselves) and ``repeat_contact`` (they have been in touch before about it).
* **value demand**: customers wanting what the organisation exists to provide. Sub-kinds:
  ``purchase_upgrade``, ``change_of_circumstances`` (moving home, new details),
  ``cancellation`` (leaving as a choice), ``praise`` and ``information`` (asking about
  prices, options or policies before deciding).

Each sub-kind has cue phrases (regular expressions with weights). A text is classified by
the cues it contains, with three precedence rules that follow the definitions:

1. a failure cue beats a value cue of equal strength ("I want to cancel because it keeps
   dropping" is caused by a failure);
2. a value action beats "how do I" ("how do I upgrade" is someone wanting to upgrade; "how
   do I set up the Wi-Fi" with nothing else is confusion);
3. a passive "was cancelled" is something done to the customer (failure), not a choice.

A theme is classified over *all* its sample texts (and its label and keywords), not only
its label: the share of texts per sub-kind decides, and the share of repeat contacts,
when known, counts as failure demand whatever the texts say. The reason quotes the cue
phrases found, so an analyst can see why and overrule it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

DemandType = Literal["failure", "value", "unclear"]

FAILURE_KINDS = ("chasing_progress", "broken", "mistake", "confusion_how_do_i", "repeat_contact")
VALUE_KINDS = (
    "purchase_upgrade",
    "change_of_circumstances",
    "cancellation",
    "praise",
    "information",
)
KIND_TYPE: dict[str, DemandType] = {
    **{k: "failure" for k in FAILURE_KINDS},
    **{k: "value" for k in VALUE_KINDS},
}

# what a share of contacts of each kind is doing, for the reason
DESCRIBE = {
    "chasing_progress": "ask where something is or when it will happen",
    "broken": "report something not working",
    "mistake": "report something done wrong",
    "confusion_how_do_i": "ask how to do something",
    "repeat_contact": "have been in touch about it before",
    "purchase_upgrade": "want to buy, join or upgrade",
    "change_of_circumstances": "tell us something has changed (a move, new details)",
    "cancellation": "want to cancel or leave",
    "praise": "praise or thank us",
    "information": "ask about prices, options or policies",
}

_NOT = r"(?<!not )(?<!n't )(?<!never )(?<!no )"

# (sub-kind, weight, pattern). Weights: 1.0 a cue that settles it on its own; 0.5-0.8 a
# cue that needs company. Patterns run on lower-cased text with apostrophes normalised.
# one cue a line reads as a table:
# fmt: off
CUES: tuple[tuple[str, float, str], ...] = (
    # chasing progress ---------------------------------------------------------------------
    ("chasing_progress", 1.0, r"\bstill (?:not|no|hasn'?t|haven'?t|isn'?t|aren'?t|waiting|nothing|no sign|no word|no news|no update)\b"),
    ("chasing_progress", 1.0, r"\bwhere(?:'s| is| are|s)? (?:is |are )?(?:my|the|our)\b"),
    ("chasing_progress", 1.0, r"\bwhen (?:will|is|are|do|does|can|am|should) .{0,40}?\b(?:arrive|come|be (?:delivered|here|fixed|back|sorted|refunded|paid|done|connected|live)|turn up|get here|hear back|receive|get (?:it|my|the))\b"),
    ("chasing_progress", 0.6, r"\bwhen (?:will|is|are|am i going to|are you going to)\b"),
    ("chasing_progress", 1.0, r"\b(?:any|no) (?:update|news|word|progress)s?\b"),
    ("chasing_progress", 1.0, r"\bchas(?:e|es|ing|ed)\b"),
    ("chasing_progress", 0.8, r"\bhow (?:much )?longer\b|\bhow long (?:will|until|before|is it going)\b"),
    ("chasing_progress", 0.8, r"\b(?:track(?:ing)? (?:my|the|our|an?)|status of|progress (?:of|on)|know the status)\b"),
    ("chasing_progress", 1.0, r"\b(?:hasn'?t|haven'?t|has not|have not|didn'?t|did not|never|not yet|yet to|still to|not)\s+(?:been\s+)?(?:arrived?|come|came|turned up|shown up|showed up|show up|turn up|received|receive|got|delivered|processed|paid|refunded|credited|called (?:me )?back|rang (?:me )?back|heard)\b"),
    ("chasing_progress", 1.0, r"\bwhere (?:my|the|our) (?:\w+ ){0,2}(?:is|are|has got|have got|went)\b"),
    ("chasing_progress", 0.8, r"\b(?:check|track|locate|find|trace) (?:on )?(?:my|the|our) (?:\w+ )?(?:orders?|parcels?|packages?|deliver(?:y|ies)|shipments?|refunds?|reimbursements?|application|request|complaint|case)\b"),
    ("chasing_progress", 1.0, r"\bno[- ]show\b|\bnobody (?:came|turned up|showed up|called back|rang back|got back)\b"),
    ("chasing_progress", 0.8, r"\b(?:waiting|waited) (?:for|since|in|all|over|\d+|weeks|days|hours|months|a week|a month|ages)\b"),
    ("chasing_progress", 0.6, r"\b(?:overdue|delayed|running late)\b|\bpromised (?:a |to )?(?:call ?back|refund|engineer|update|delivery)\b"),
    # broken -------------------------------------------------------------------------------
    ("broken", 1.0, r"\b(?:not|isn'?t|aren'?t|doesn'?t|don'?t|won'?t|wont|can'?t|cannot|stopped|never) (?:work(?:s|ing|ed)?|load(?:s|ing)?|connect(?:s|ing)?|respond(?:s|ing)?|turn on|sync(?:ing)?)\b"),
    ("broken", 1.0, r"\b(?:keeps?|kept) (?:dropping|crashing|freezing|buffering|disconnecting|cutting out|failing|going down|going off|logging me out|looping|rebooting|restarting)\b"),
    ("broken", 1.0, r"\b(?:outages?|broken|faulty|fault|crash(?:es|ed|ing)?|bugs?|glitch(?:es|y)?|freez(?:e|es|ing)|froze|buffer(?:ing|s)?|drop(?:s|ping|ped) out|cuts? out|disconnect(?:s|ed|ing)|loop(?:s|ing)?|dead)\b"),
    ("broken", 1.0, r"\bno (?:internet|signal|connection|service|dial ?tone|broadband|wi-?fi|picture|sound|channels)\b|\b(?:internet|broadband|wi-?fi|connection|service|line|app|website|site) (?:is |was |has been |keeps going )?down\b"),
    ("broken", 1.0, r"\b(?:can'?t|cannot|unable to|couldn'?t|could not|won'?t let me|not able to) (?:log ?in|sign ?in|access|get (?:in|into|online|on)|connect|pay|make (?:a |the )?payment|register|open|use|watch|stream|load|download|reset)\b"),
    ("broken", 0.7, r"\b(?:slow|sluggish|laggy|unusable|intermittent|unstable|patchy|spotty)\b"),
    ("broken", 0.8, r"\b(?:speeds?|mbps|megs?|download|upload)\b.{0,40}\b(?:below|nowhere near|less than|barely|not even|far from|way off|a fraction)\b|\bdial[- ]?up\b|\b(?:only|just) (?:getting )?\d+ ?(?:mbps|megs?|mb)\b"),
    ("broken", 0.8, r"\b(?:getting|get|only get|receiving|down to|drops? to) (?:only |about |around |under |less than |barely )?\d+ ?(?:mbps|megs?|mb/s|mb)\b|\binconsistent\b|\b(?:speeds?|connection|signal) (?:drops?|dropping|dips?|varies|is poor|is terrible)\b"),
    ("broken", 0.8, r"\b(?:locked out|hacked|lost (?:my |the )?(?:account )?password|forg[eo]t(?:ten)? (?:my |the )?(?:account )?password|password reset)\b"),
    ("broken", 0.8, r"\b(?:recover|retrieve|reset|restore|get back) (?:my |the |a )?(?:\w+ )?password\b"),
    ("broken", 1.0, r"\b(?:problems?|issues?|trouble|difficult(?:y|ies))\s+(?:with|when|while|whilst|paying|registering|logging|signing|opening|creating|making|connecting)\b|\bhad (?:a |some )?(?:problems?|issues?|trouble)\b"),
    ("broken", 0.7, r"\b(?:error(?:s| message| code)?|fail(?:s|ed|ing|ure)?|declined|rejected)\b"),
    ("broken", 1.0, r"\b(?:was|been|got|has been|have been|keep(?:s)? being) (?:cancell?ed|rescheduled|postponed|moved) (?:again|by you|without)?|\bcancell?ed (?:my|the|our) (?:appointment|visit|install(?:ation)?|engineer|order|flight)\b"),
    # mistake ------------------------------------------------------------------------------
    ("mistake", 1.0, r"\b(?:charged|billed|paid|debited|taken|charging|billing) (?:me |us )?(?:twice|double|two times|again for)\b|\bdouble[- ]?(?:charged|billed|payment|debit|charge)\b"),
    ("mistake", 1.0, r"\bover-?charg(?:ed|ing)\b|\bwrong(?:ly)? (?:\w+ )?(?:bill|amount|charge|address|item|order|package|price|name|date|account|product|model|size|tariff|plan)s?\b|\bincorrect(?:ly)?\b|\bmistakes?\b|\bin error\b"),
    ("mistake", 0.7, r"\b(?:shouldn'?t|should not) have (?:been )?\b|\bnot what (?:i|we) (?:ordered|was (?:told|promised)|were (?:told|promised)|asked for|signed up for)\b"),
    ("mistake", 1.0, r"\bmis-?sold\b|\bmisle(?:d|ading)\b|\b(?:without|no|never (?:got|received) (?:any|a)) (?:any )?(?:warning|notice|notification|letter|explanation)\b"),
    ("mistake", 0.7, r"\bunexpected(?:ly)?\b|\bout of the blue\b|\bsurprise[d]?\b"),
    ("mistake", 0.8, r"\b(?:price|bill|cost|payment|tariff|charge)s? (?:has |have |had )?(?:gone up|went up|increased|rose|risen|jumped|doubled|shot up)\b|\bprice (?:rise|increase|hike)s?\b"),
    ("mistake", 0.5, r"\brefund(?:s|ed)?\b|\breimburse(?:ment|d)?\b|\bmoney back\b"),
    ("mistake", 0.6, r"\bcomplain(?:t|ts|ing|ed)?\b|\b(?:dissatisfied|discontent(?:ed)?|unhappy|disappointed|fed up|unacceptable|appalling|disgusted|disgraceful|shocking|terrible|awful|worst|ridiculous|useless|rubbish|shambles|joke)\b|\bnot (?:happy|satisfied|impressed)\b"),
    ("mistake", 0.8, r"\b(?:rude|unhelpful|hung up|cut me off|passed (?:around|between)|on hold for)\b"),
    # confusion "how do I" -----------------------------------------------------------------
    ("confusion_how_do_i", 1.0, r"\bhow (?:do|can|should|would|could|must) (?:i|we|you)\b|\bhow to\b|\bwhat (?:do|should|can|must) (?:i|we) (?:do|need)\b|\bwhat (?:do|should) (?:i|we) have to do\b"),
    ("confusion_how_do_i", 1.0, r"\b(?:don'?t|do not|doesn'?t|didn'?t) (?:understand|know how|know what|know where|make sense)\b|\bconfus(?:ed|ing|ion)\b|\bnot sure (?:how|what|where|why|if|whether)\b"),
    ("confusion_how_do_i", 1.0, r"\b(?:can'?t|cannot|couldn'?t|unable to) (?:find|figure out|work out|see where|see how|understand)\b"),
    ("confusion_how_do_i", 0.6, r"\b(?:instructions?|step by step|explain|explanation|walk me through|help me (?:to )?(?:set|understand|find|work))\b"),
    ("confusion_how_do_i", 0.7, r"\bwhat (?:does|is) (?:this|that|the) (?:\w+ )?(?:mean|charge|fee|for)\b|\bwhy (?:is|has|have|did|does|am|are|was) (?:my|i|the|it|this|there)\b"),
    # repeat contact -----------------------------------------------------------------------
    ("repeat_contact", 0.5, r"\b(?:yet again|once again|again)\b"),
    ("repeat_contact", 1.0, r"\b(?:second|third|fourth|fifth|sixth|2nd|3rd|4th|5th|\d+th) (?:time|call|contact|email|attempt|complaint|letter|message|chase|engineer|visit)\b|\bsince (?:i|we) last (?:got in touch|called|rang|contacted|spoke|wrote|emailed)\b"),
    ("repeat_contact", 1.0, r"\b(?:\d+|two|three|four|five|six|several|multiple|many|numerous|countless|umpteen) (?:times|calls|emails|e-mails|attempts|occasions|phone calls|messages|letters)\b"),
    ("repeat_contact", 1.0, r"\b(?:called|rang|phoned|emailed|e-mailed|contacted|chased|written|wrote|messaged|complained)(?: to)? (?:you |lumen |them |customer services? |the helpline )?(?:before|already|previously|twice|repeatedly|again|last week|several|multiple|\d+ times)\b"),
    ("repeat_contact", 1.0, r"\b(?:already|previously) (?:called|rang|phoned|emailed|contacted|reported|told|raised|explained|complained|sent|been in touch)\b"),
    ("repeat_contact", 0.8, r"\b(?:still|yet) (?:not |isn'?t |hasn'?t been |not been |to be )?(?:fixed|resolved|sorted)\b|\bnever (?:got )?(?:fixed|resolved|sorted)\b"),
    ("repeat_contact", 0.5, r"\b(?:last|previous) (?:time|week|month) (?:i|you|we)\b|\b(?:reference|ref|case|ticket|complaint) (?:number|no|#)\b|\bfollow(?:ing)?[- ]?up\b"),
    # purchase upgrade ---------------------------------------------------------------------
    ("purchase_upgrade", 1.0, r"\bupgrad(?:e|es|ing)\b"),
    ("purchase_upgrade", 0.8, r"\b(?:add|adding|get|getting|buy|order|ordering|purchase|take out|want|like|interested in) (?:a |an |the |some |another )?(?:\w+ )?(?:package|bundle|tv|sports|movies|channels?|mobile|sim|broadband|fibre|landline|subscription|plan|deal|booster|tickets?|product)s?\b"),
    ("purchase_upgrade", 1.0, r"\b(?:sign(?:ing)? up|join(?:ing)? (?:lumen|you)|subscrib(?:e|ing)(?! to nothing)|register(?:ing)? (?:for|an|a)|create (?:an? |my |several |two |more than one )?(?:new )?(?:online |user )?(?:accounts?|profiles?)|open(?:ing)? (?:an? |one )?(?:new )?(?:online |user )?account|make (?:an? )?(?:order|purchase)|place (?:an? )?order|buy(?:ing)?|purchas(?:e|ing))\b"),
    ("purchase_upgrade", 0.8, r"\b(?:create|open|register|make|get)\b.{0,30}\baccount\b|\b(?:don'?t|do not) have (?:an? |any )?(?:\w+ )?account\b"),
    ("purchase_upgrade", 0.8, r"\b(?:faster (?:package|speeds?|plan|broadband|fibre)|better deal|new (?:deal|contract|package|plan)|renew(?:al|ing)?|re-?contract|newsletter)\b"),
    # change of circumstances --------------------------------------------------------------
    ("change_of_circumstances", 1.0, r"\b(?:moving|move|moved|relocating) (?:home|house|address|flat|to a new|out|in|abroad)\b|\bnew (?:address|home|house|property|flat|bank|name)\b|\bhome move\b"),
    ("change_of_circumstances", 1.0, r"\b(?:change|changing|update|updating|edit|editing|modify|modifying|amend|amending|correct|set ?up|setting up) (?:my |the |our |a |an )?(?:\w+ )?(?:address|details|name|e-?mail(?: address)?|phone number|number|payment (?:method|date|details)|direct debit|bank details|profile|account|order|purchase|plan|package|tariff|information)\b"),
    ("change_of_circumstances", 1.0, r"\b(?:transfer|take|move) (?:my |the |our )?(?:service|broadband|account|contract|line|services)\b|\b(?:bereavement|passed away|died|deceased|power of attorney|divorce|separated)\b"),
    ("change_of_circumstances", 0.8, r"\b(?:switch|chang|swap|mov)(?:e|es|ed|ing)? (?:to |between )?(?:another|my other|a different|other|the other) (?:account|profile|user)s?\b|\buse my other (?:account|profile)\b"),
    # cancellation -------------------------------------------------------------------------
    ("cancellation", 1.0, r"\b(?:i|we|i'd|we'd|i'm|we're|im) (?:want|would like|wish|need|like|am looking|are looking|looking|am going|are going|going|have decided|'ve decided|decided|plan|am planning|planning) to (?:cancel|leave|terminate|end|close|switch|delete|remove|quit)\b"),
    ("cancellation", 1.0, r"\b(?:cancel|cancell?ing|terminate|end|close|delete|deleting|remove|removing) (?:my|our|the|an|a) (?:\w+ )?(?:contract|account|service|broadband|subscription|package|order|purchase|direct debit|profile|line|membership|plan)\b"),
    ("cancellation", 1.0, r"\b(?:leaving|leave) (?:lumen|you|at the end)\b|\bnotice period\b|\bgive (?:my |our )?notice\b|\bend of (?:my |the |our )?contract\b|\bout of contract\b|\bexit fee\b|\bcancell?ation(?: fee| charge| policy)?s?\b|\bearly termination\b|\b(?:pac|stac) code\b|\bunsubscribe\b"),
    ("cancellation", 1.0, r"\b(?:don'?t|do not|no longer) (?:want|need) (?:my|the|this|our) (?:\w+ )?(?:account|profile|subscription|contract|service|package|membership)\b"),
    ("cancellation", 0.7, r"\bswitch(?:ing)? (?:to (?:another|a new|a different|bt|sky|virgin|talktalk)|provider|supplier)\b|^cancel\b|\bcancel\b"),
    # praise -------------------------------------------------------------------------------
    ("praise", 1.0, r"(?<!not )(?<!n't )(?<!never )(?<!no )\b(?:great|excellent|brilliant|fantastic|amazing|superb|outstanding|wonderful|perfect|faultless|first class|top notch|spot on|quick|fast|smooth|easy) (?:service|job|work|speeds?|install(?:ation)?|engineer|team|experience|support|help|connection|response)\b"),
    ("praise", 1.0, r"\b(?:well done|kudos|keep it up|five stars|5 stars|10/10|highly recommend|would recommend|(?:i|we)(?:'d| would)? recommend (?:you|lumen|them|it))\b|\bpraise\b|\bcompliments?\b"),
    ("praise", 0.8, r"(?<!not )(?<!n't )(?<!never )(?<!no )\b(?:really |very |so |extremely |more than )?(?:happy|pleased|impressed|satisfied|delighted|thrilled) (?:with|by)\b|\b(?:love|loving) (?:the|my|it|lumen)\b"),
    ("praise", 0.6, r"\b(?:thank you (?:so much |very much )?(?:for|to)|thanks (?:so much |very much |a lot )?(?:for|to)|many thanks|big thanks|grateful|appreciated?)\b"),
    ("praise", 0.5, r"(?<!not )(?<!n't )(?<!never )(?<!no )\b(?:excellent|brilliant|fantastic|amazing|superb|outstanding|wonderful|lovely|friendly|polite|professional|helpful|efficient|courteous|knowledgeable|great)\b"),
    # information --------------------------------------------------------------------------
    ("information", 1.0, r"\b(?:what|which) (?:are|is) (?:your|the) (?:\w+ )?(?:options?|prices?|fees?|charges?|costs?|polic(?:y|ies)|terms|methods?|packages?|deals?|opening hours|plans?|period|times?)\b"),
    ("information", 0.8, r"\bhow long (?:does|do|would) (?:it|a|an|the|my)? ?(?:\w+ )?(?:take|last)\b"),
    ("information", 0.8, r"\b(?:do|can|does) you (?:offer|have|provide|sell|deliver|accept|support|cover)\b|\bhow much (?:is|are|does|would|will|do|for)\b|\b(?:price|cost) of\b"),
    ("information", 0.8, r"\b(?:check(?:ing)?|see|seeing|view(?:ing)?|know|find out|information (?:about|on)|details (?:of|about|on)|tell me about|interested in|read|look at|get|getting|download(?:ing)?|copy of) (?:the |your |my |their |some |a |an )?(?:\w+ ){0,2}(?:options?|polic(?:y|ies)|fees?|prices?|costs?|methods?|invoices?|bills?|statements?|terms|period)\b"),
    ("information", 0.5, r"\b(?:options?|polic(?:y|ies)|terms and conditions|price list|payment methods?|delivery (?:options|period|times?))\b|\bis it possible\b"),
)
# fmt: on

_COMPILED: tuple[tuple[str, float, re.Pattern[str]], ...] = tuple(
    (kind, weight, re.compile(pattern)) for kind, weight, pattern in CUES
)
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
_KIND_ORDER = {k: i for i, k in enumerate(FAILURE_KINDS + VALUE_KINDS)}


def _normalise(text: str) -> str:
    return " ".join((text or "").translate(_APOSTROPHES).lower().split())


@dataclass(frozen=True)
class TextDemand:
    """One text's classification and the cue phrases that decided it."""

    demand_type: DemandType
    sub_kind: str | None
    scores: dict[str, float] = field(default_factory=dict, repr=False)
    cues: dict[str, list[str]] = field(default_factory=dict, repr=False)  # kind → phrases


def classify_text(text: str) -> TextDemand:
    """Classify one contact's text (see the module doc for the precedence rules)."""
    clean = _normalise(text)
    scores: dict[str, float] = {}  # the sum of a kind's matched cue weights (at most 2)
    strongest: dict[str, float] = {}  # its strongest single cue
    cues: dict[str, list[str]] = {}
    for kind, weight, pattern in _COMPILED:
        match = pattern.search(clean)
        if match is None:
            continue
        scores[kind] = min(2.0, scores.get(kind, 0.0) + weight)
        strongest[kind] = max(strongest.get(kind, 0.0), weight)
        phrase = match.group(0).strip()
        if phrase and phrase not in cues.setdefault(kind, []):
            cues[kind].append(phrase)
    if not scores:
        return TextDemand("unclear", None, scores, cues)

    def best(kinds: Sequence[str]) -> tuple[str | None, float]:
        """The kind with the most evidence, and its strongest cue (the type contest is
        between strongest cues, so one phrase matched by two patterns is not twice)."""
        found = [(scores[k], -_KIND_ORDER[k], k) for k in kinds if k in scores]
        if not found:
            return None, 0.0
        _, _, kind = max(found)
        return kind, max(strongest[k] for k in kinds if k in scores)

    strong_kind, strong = best(("chasing_progress", "broken", "mistake", "repeat_contact"))
    value_kind, value = best(VALUE_KINDS)
    confusion = scores.get("confusion_how_do_i", 0.0)
    # praise alongside a complaint is politeness, not praise
    if value_kind == "praise" and strong >= 0.5:
        value_kind, value = best([k for k in VALUE_KINDS if k != "praise"])
    if strong_kind is not None and strong >= value:
        return TextDemand("failure", strong_kind, scores, cues)
    if value_kind is not None and value >= 0.5:
        return TextDemand("value", value_kind, scores, cues)
    if confusion > 0:
        return TextDemand("failure", "confusion_how_do_i", scores, cues)
    if strong_kind is not None:
        return TextDemand("failure", strong_kind, scores, cues)
    if value_kind is not None:
        return TextDemand("value", value_kind, scores, cues)
    return TextDemand("unclear", None, scores, cues)


def classify_texts(texts: Sequence[str]) -> list[TextDemand]:
    return [classify_text(t) for t in texts]


@dataclass(frozen=True)
class DemandVerdict:
    demand_type: DemandType
    sub_kind: str | None
    confidence: float  # share of the classified evidence that agrees with demand_type
    shares: dict[str, float]  # sub-kind → share of the theme's contacts
    reason: str
    evidence: list[str] = field(default_factory=list)  # the cue phrases quoted


def _weighted_parts(
    label: str, keywords: Sequence[str], sample_texts: Sequence[str], label_weight: float
) -> list[tuple[str, float]]:
    """The texts to classify, each with its weight: the label, the keywords as one text,
    then each sample text (blank ones left out)."""
    parts: list[tuple[str, float]] = []
    if label and label.strip():
        parts.append((label, label_weight))
    keyword_text = ", ".join(k for k in keywords if k and k.strip())
    if keyword_text:
        parts.append((keyword_text, 1.0))
    samples = [t for t in sample_texts if t and t.strip()]
    parts += [(t, 1.0) for t in samples]
    return parts


def _cue_weights(
    parts: list[tuple[str, float]],
) -> tuple[Counter[str], dict[str, Counter[str]]]:
    """The weight of the texts each sub-kind won, and how often each of its cue phrases
    was found."""
    kind_weight: Counter[str] = Counter()
    phrases: dict[str, Counter[str]] = {}
    for text, weight in parts:
        verdict = classify_text(text)
        if verdict.sub_kind is None:
            continue
        kind_weight[verdict.sub_kind] += weight
        bucket = phrases.setdefault(verdict.sub_kind, Counter())
        for phrase in verdict.cues.get(verdict.sub_kind, []):
            bucket[phrase] += 1
    return kind_weight, phrases


def classify_theme(
    label: str = "",
    keywords: Sequence[str] = (),
    sample_texts: Sequence[str] = (),
    repeat_share: float | None = None,
    *,
    label_weight: float = 3.0,
    min_evidence: float = 0.15,
) -> DemandVerdict:
    """Classify a theme from its label, keywords and sample texts.

    Each sample text counts once; the label counts as ``label_weight`` texts (it is what
    the theme is *about*) and the keyword list as one. ``repeat_share`` (the share of the
    theme's contacts that repeat an earlier contact on it within 14 days) is failure
    demand by definition, so it is added to the failure side as its own sub-kind.
    Less than ``min_evidence`` of the weight carrying any cue → 'unclear'."""
    parts = _weighted_parts(label, keywords, sample_texts, label_weight)
    if repeat_share is not None and not 0.0 <= repeat_share <= 1.0:
        raise ValueError(f"repeat_share must be in [0, 1], got {repeat_share}")
    if not parts:
        return DemandVerdict("unclear", None, 0.0, {}, "unclear: nothing to classify")

    total = sum(w for _, w in parts)
    kind_weight, phrases = _cue_weights(parts)
    text_shares = {k: w / total for k, w in kind_weight.items()}
    repeats = repeat_share or 0.0
    # contacts that are repeats are failure demand; the texts describe the rest
    shares = {k: (1 - repeats) * s for k, s in text_shares.items()}
    if repeats:
        shares["repeat_contact"] = shares.get("repeat_contact", 0.0) + repeats
    failure = sum(s for k, s in shares.items() if KIND_TYPE[k] == "failure")
    value = sum(s for k, s in shares.items() if KIND_TYPE[k] == "value")
    if failure + value < min_evidence:
        found = ", ".join(f'"{p}"' for c in phrases.values() for p, _ in c.most_common(2))
        reason = (
            f"unclear: only {failure + value:.0%} of the theme's texts carry a failure or "
            "value cue" + (f" ({found})" if found else "")
        )
        return DemandVerdict("unclear", None, 0.0, _rounded(shares), reason)

    demand_type: DemandType = "failure" if failure >= value else "value"
    mine = {k: s for k, s in shares.items() if KIND_TYPE[k] == demand_type}
    sub_kind = max(mine, key=lambda k: (mine[k], -_KIND_ORDER[k]))
    # repeat contacts name the sub-kind only when they outweigh what the texts say
    if sub_kind == "repeat_contact" and len(mine) > 1 and repeats:
        others = {k: s for k, s in mine.items() if k != "repeat_contact"}
        best_other = max(others, key=lambda k: others[k])
        if others[best_other] >= repeats:
            sub_kind = best_other
    confidence = (failure if demand_type == "failure" else value) / (failure + value)
    quoted = [p for p, _ in phrases.get(sub_kind, Counter()).most_common(3)]
    reason = (
        f"{demand_type} demand ({sub_kind.replace('_', ' ').replace('how do i', '“how do I”')}): "
        f"{shares[sub_kind]:.0%} of contacts {DESCRIBE[sub_kind]}"
    )
    if quoted:
        reason += " — " + ", ".join(f'"{p}"' for p in quoted)
    if repeats and sub_kind != "repeat_contact":
        reason += f"; {repeats:.0%} are repeat contacts"
    other_type = "value" if demand_type == "failure" else "failure"
    other_share = value if demand_type == "failure" else failure
    if other_share >= 0.05:
        theirs = {k: s for k, s in shares.items() if KIND_TYPE[k] == other_type}
        top = max(theirs, key=lambda k: theirs[k])
        reason += f"; {other_share:.0%} look like {other_type} demand ({top.replace('_', ' ')})"
    return DemandVerdict(
        demand_type=demand_type,
        sub_kind=sub_kind,
        confidence=round(confidence, 4),
        shares=_rounded(shares),
        reason=reason,
        evidence=quoted,
    )


def _rounded(shares: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in sorted(shares.items(), key=lambda kv: -kv[1])}
