"""Urgent contacts, flagged as they arrive: ``voc urgent``, the hourly sweep and the
pipeline run this flow.

1. every contact not yet checked against the current cue file is read, checked for the
   cue kinds (``models.urgent.detect``) and remembered as checked, so the hourly sweep
   reads only what came in since;
2. repeat failures are counted over every contact with a customer and a theme (the nth
   contact on one top-level theme within the window), so a contact becomes a repeat
   failure once its themes are found; a customer known by several identifiers (an
   e-mail address, a phone; ``customer_links``) is one customer;
3. new flags are written in one transaction; a flag already stored keeps its evidence and
   its acknowledgement, so a re-run changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.config import Settings, load_settings
from flows.process_setup import prefect_server_ready, run_logger
from models.identity import canonical, customer_groups
from models.urgent import Contact, UrgentCues, detect, load_urgent_cues, repeat_contacts
from warehouse import Warehouse, urgent
from warehouse.clock import utc_now

_FLAG_SCHEMA = {"feedback_id": pl.String, "kind": pl.String, "evidence": pl.String}


@dataclass
class UrgentSummary:
    checked: int  # contacts whose text was checked this run
    new_flags: int  # flags added this run (all kinds)
    by_kind: dict[str, int]  # new flags per kind
    open_contacts: int  # flagged contacts nobody has acknowledged yet


def rule_version(cue_file: Path) -> str:
    """The cue file's content hash: editing the file re-checks every contact once."""
    return hashlib.sha256(Path(cue_file).read_bytes()).hexdigest()[:16]


def text_flags(frame: pl.DataFrame, urgent_cues: UrgentCues) -> pl.DataFrame:
    """``feedback_id, kind, evidence`` for every cue kind found in ``frame``'s texts."""
    rows = [
        (fid, f.kind, f.evidence)
        for fid, text in frame.select("feedback_id", "text").iter_rows()
        for f in detect(text, urgent_cues)
    ]
    return pl.DataFrame(rows, schema=_FLAG_SCHEMA, orient="row")


def repeat_flags(
    frame: pl.DataFrame, urgent_cues: UrgentCues, links: list[tuple[str, str]] | None = None
) -> pl.DataFrame:
    groups = customer_groups(links or [])
    contacts = [
        Contact(fid, canonical(ref, groups), top, at, channel, label)
        for fid, ref, top, at, channel, label in frame.select(
            "feedback_id", "customer_ref", "top_id", "received_at", "channel", "top_label"
        ).iter_rows()
    ]
    found = repeat_contacts(
        contacts, nth=urgent_cues.repeat_nth, window_days=urgent_cues.repeat_window_days
    )
    return pl.DataFrame(
        [(f.feedback_id, urgent_cues.repeat_kind, f.evidence) for f in found],
        schema=_FLAG_SCHEMA,
        orient="row",
    )


@task(retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def flag_contacts(db: str, cue_file: str) -> UrgentSummary:
    settings = load_settings(db=Path(db))
    warehouse = Warehouse(settings.db, lock_timeout=settings.lock_timeout)
    urgent_cues = load_urgent_cues(cue_file)
    version = rule_version(Path(cue_file))
    with warehouse.read() as con:
        unchecked = urgent.feedback_to_check(con, version)
        candidates = urgent.repeat_candidates(con)
        links = urgent.customer_links(con)
    # the work happens with no connection held
    found = pl.concat(
        [text_flags(unchecked, urgent_cues), repeat_flags(candidates, urgent_cues, links)]
    )
    # a contact both saying it is a repeat and found one in its history keeps its own words
    found = found.unique(["feedback_id", "kind"], keep="first", maintain_order=True)
    now = utc_now()
    with warehouse.write() as con:
        before = urgent.counts(con)
        new = urgent.store_flags(
            con,
            found,
            checked=unchecked["feedback_id"].to_list(),
            rule_version=version,
            at=now,
        )
        after = urgent.counts(con)
        open_contacts = urgent.open_contacts(con)
    old = dict(zip(before["kind"].to_list(), before["flagged"].to_list(), strict=True))
    by_kind = {
        kind: int(n) - int(old.get(kind, 0))
        for kind, n in zip(after["kind"].to_list(), after["flagged"].to_list(), strict=True)
        if int(n) > int(old.get(kind, 0))
    }
    return UrgentSummary(unchecked.height, new, by_kind, open_contacts)


@flow(name="voc-urgent", log_prints=False, validate_parameters=False)
def urgent_flow(db: str, cue_file: str | None = None) -> UrgentSummary:
    """Flag new contacts (and new repeat failures); returns what was added."""
    settings = load_settings(db=Path(db))
    summary = flag_contacts(db, str(cue_file or settings.urgent_cues))
    run_logger().info(
        "urgent: %d contact(s) checked, %d new flag(s) %s, %d contact(s) open",
        summary.checked,
        summary.new_flags,
        json.dumps(summary.by_kind),
        summary.open_contacts,
    )
    return summary


def run_urgent(settings: Settings) -> UrgentSummary:
    prefect_server_ready()
    return urgent_flow(db=str(settings.db), cue_file=str(settings.urgent_cues))


__all__ = ["UrgentSummary", "repeat_flags", "run_urgent", "text_flags", "urgent_flow"]
