"""The sample company, Lumen Broadband: eight weeks of its customers' contacts written as
a real inbox (``voc demo``). ``generator`` draws and writes them; what its customers and
people write and say lives in ``texts/*.yaml``."""

from flows.sample_company.generator import (
    FIRST_DAY,
    MANIFEST_NAME,
    PLANTED_STORIES,
    PLANTED_URGENT,
    SUPPORT_ADDRESS,
    SampleManifest,
    generate_sample,
)

__all__ = [
    "FIRST_DAY",
    "MANIFEST_NAME",
    "PLANTED_STORIES",
    "PLANTED_URGENT",
    "SUPPORT_ADDRESS",
    "SampleManifest",
    "generate_sample",
]
