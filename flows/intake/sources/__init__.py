"""One pure parser per channel: ``parse(name, data, options) -> ParsedSource``."""

from __future__ import annotations

import importlib
import traceback
from pathlib import PurePath

from flows.intake.sources.base import ParsedSource, ParseOptions, whole_file_rejected
from warehouse.contract import CHANNELS

_MODULES = {
    "survey": "flows.intake.sources.survey",
    "complaint": "flows.intake.sources.complaint",
    "email": "flows.intake.sources.email",
    "call": "flows.intake.sources.call",
}


def parse_source(
    channel: str, name: str, data: bytes, options: ParseOptions = ParseOptions()
) -> ParsedSource:
    """Parse with the channel's parser. A parser bug quarantines its file, with the
    error, instead of stopping the batch."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    parser = importlib.import_module(_MODULES[channel]).parse
    try:
        return parser(name, data, options)
    except Exception as exc:  # the batch goes on; the file waits in quarantine
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return whole_file_rejected(
            channel,
            name,
            "parser_error",
            f"{PurePath(name).name} could not be parsed ({type(exc).__name__}: {exc} at "
            f"{PurePath(where.filename).name}:{where.lineno}); please report this file",
            data[:300],
        )


__all__ = ["CHANNELS", "ParsedSource", "ParseOptions", "parse_source"]
