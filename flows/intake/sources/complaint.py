"""Complaint and ticket exports: CFPB, Zendesk, Freshdesk, CRM case lists (CSV/XLSX/JSON)."""

from __future__ import annotations

from flows.intake.sources.base import ParsedSource, ParseOptions
from flows.intake.sources.tabular import parse_tabular


def parse(name: str, data: bytes, options: ParseOptions = ParseOptions()) -> ParsedSource:
    return parse_tabular(name, data, "complaint", options)
