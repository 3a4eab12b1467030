"""Survey exports (NPS, CSAT, CES with free text): Qualtrics, SurveyMonkey, any CSV/XLSX/JSON."""

from __future__ import annotations

from flows.intake.sources.base import ParsedSource, ParseOptions
from flows.intake.sources.tabular import parse_tabular


def parse(name: str, data: bytes, options: ParseOptions = ParseOptions()) -> ParsedSource:
    return parse_tabular(name, data, "survey", options)
