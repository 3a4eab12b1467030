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

What its customers and people write and say (the themes' sentences, names and places, mail
and call phrases, the urgent contacts) is data: ``texts/*.yaml``, read once at import
(``company.load_texts``). The modules hold how they are drawn and written out:

- ``company``: the calendar, the themes, the places and products, the customers;
- ``plan``: who contacts about what, when, on which channel;
- ``writing``: how each contact is written (style, scores, forms, planted PII);
- ``surveys``, ``complaints``, ``emails``, ``calls``, ``urgent``: each channel's files, and
  the planted urgent contacts;
- ``manifest``: the answer key, and the writer that keeps its accounts;
- ``inbox``: ``generate_sample``, the whole inbox from one seed.
"""

from flows.sample_company.company import FIRST_DAY, MANIFEST_NAME, SUPPORT_ADDRESS
from flows.sample_company.inbox import generate_sample
from flows.sample_company.manifest import SampleManifest
from flows.sample_company.urgent import PLANTED_STORIES, PLANTED_URGENT

__all__ = [
    "FIRST_DAY",
    "MANIFEST_NAME",
    "PLANTED_STORIES",
    "PLANTED_URGENT",
    "SUPPORT_ADDRESS",
    "SampleManifest",
    "generate_sample",
]
