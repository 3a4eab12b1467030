"""Urgent-contact flags: precision and recall per kind.

    .venv/bin/python bench/flags.py [--embedder minilm|tfidf] [--skip-demo] [--skip-labelled]

1. The demo inbox (`voc demo`'s generator, written afresh into a temporary folder) goes
   through `voc run` (ingest → topics → weekly review → flags), as a user runs it; the
   stored ``contact_flags`` are matched to the answer key (sample_manifest.json `flags`:
   the generated contacts' urgent sentences and repeat failures, plus the planted urgent
   contacts and hard negatives) by file and source id. Bars: recall ≥ 0.90 and precision
   ≥ 0.80 for every kind. The cue file was tuned on this inbox.
2. Real texts labelled by hand (bench/flags_labels.csv, rules in bench/flags_rules.md),
   read from ../shared/data and checked by the same detector (models.urgent.detect).
   Rows with ``split = tune`` were looked at while writing the cue file; rows with
   ``split = test`` were not: the figures on them are the honest ones. repeat_failure
   needs a customer's history, which these texts lack, so it is measured on the demo only.
Timing: flagging the demo's contacts against reading them (the baseline, same run).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, SHARED, base_env, prefect_server, voc  # noqa: E402

LABELS = ROOT / "bench" / "flags_labels.csv"
RECALL_BAR, PRECISION_BAR = 0.90, 0.80


def score(
    kinds: list[str], truth: set[tuple[str, str]], got: set[tuple[str, str]]
) -> dict[str, tuple[int, int, int]]:
    """Per kind: (true positives, false positives, false negatives) over (item, kind) pairs."""
    out = {}
    for kind in kinds:
        t = {i for i, k in truth if k == kind}
        g = {i for i, k in got if k == kind}
        out[kind] = (len(t & g), len(g - t), len(t - g))
    return out


def report(title: str, counts: dict[str, tuple[int, int, int]], bars: bool = False) -> bool:
    print(title)
    print(f"  {'kind':15s} {'true':>5s} {'flagged':>7s} {'precision':>9s} {'recall':>7s}")
    ok = True
    for kind, (tp, fp, fn) in counts.items():
        p = tp / (tp + fp) if tp + fp else float("nan")
        r = tp / (tp + fn) if tp + fn else float("nan")
        mark = ""
        if bars:
            passed = (tp + fn == 0 or r >= RECALL_BAR) and (tp + fp == 0 or p >= PRECISION_BAR)
            ok &= passed
            mark = "  ok" if passed else "  BELOW THE BAR"
        print(f"  {kind:15s} {tp + fn:5d} {tp + fp:7d} {p:9.3f} {r:7.3f}{mark}")
    return ok


def demo(work: Path, embedder: str, show: int) -> bool:
    from flows.sample_company import generate_sample

    manifest = generate_sample(work / "inbox")
    db = work / "voc.duckdb"
    # as `voc demo` reads the sample: UK local times, and Lumen's own replies are not feedback
    env = {
        **base_env(),
        "VOC_SOURCE_TIMEZONE": "Europe/London",
        "VOC_COMPANY_EMAIL_DOMAINS": '["lumen-broadband.example"]',
    }
    with prefect_server(env) as env:
        started = time.perf_counter()
        voc("run", str(work / "inbox"), "--db", str(db), "--embedder", embedder, env=env)
        print(f"voc run on the demo inbox: {time.perf_counter() - started:.0f}s")
    return evaluate(db, manifest, show)


def evaluate(db: Path, manifest, show: int) -> bool:
    """Score a warehouse the demo inbox went through against the manifest's flags."""
    import duckdb

    from models.urgent import load_urgent_cues

    con = duckdb.connect(str(db), read_only=True)
    stored = con.sql("SELECT feedback_id, source_file, source_ref, text FROM feedback").pl()
    flags = con.sql("SELECT feedback_id, kind, evidence FROM contact_flags").pl()
    con.close()

    def key_of(file: str, source_id: str) -> tuple[str, str]:
        return Path(file).name, source_id.strip("<>")

    universe = {key_of(c.file, c.source_id) for c in manifest.contacts} | {
        key_of(p.file, p.source_id) for p in manifest.urgent_contacts
    }
    ids = {
        fid: (Path(f).name, ref)
        for fid, f, ref in stored.select("feedback_id", "source_file", "source_ref").iter_rows()
    }
    # a transcript's source_ref is its file: a file holding one contact matches by name
    per_file = Counter(name for name, _ in ids.values())
    key_files = Counter(name for name, _ in universe)
    by_file = {key[0]: key for key in universe if key_files[key[0]] == 1}
    ids = {
        fid: k if k in universe or per_file[k[0]] != 1 or k[0] not in by_file else by_file[k[0]]
        for fid, k in ids.items()
    }
    matched = {fid for fid, k in ids.items() if k in universe}
    print(
        f"demo inbox: {len(matched):,} of {len(universe):,} answer-key contacts matched "
        f"({stored.height:,} stored)"
    )
    truth = {key_of(f["file"], f["source_id"]) + (f["kind"],) for f in manifest.flags}
    truth_pairs = {((a, b), k) for a, b, k in truth if (a, b) in set(ids.values())}
    got_pairs = {
        (ids[fid], kind)
        for fid, kind in flags.select("feedback_id", "kind").iter_rows()
        if fid in matched
    }
    kinds = list(load_urgent_cues().kind_names)
    counts = score(kinds, truth_pairs, got_pairs)
    ok = report(
        "demo inbox (contact_flags after `voc run`; the cue file was tuned here)", counts, bars=True
    )
    planted = {key_of(p.file, p.source_id): p for p in manifest.urgent_contacts}
    p_truth = {(k, kind) for k, kind in truth_pairs if k in planted}
    p_got = {(k, kind) for k, kind in got_pairs if k in planted}
    report("  of which the planted contacts and hard negatives", score(kinds, p_truth, p_got))
    if show:
        texts = dict(
            zip(
                [ids[f] for f in stored["feedback_id"].to_list()],
                stored["text"].to_list(),
                strict=True,
            )
        )
        evidence = {(ids[fid], kind): ev for fid, kind, ev in flags.iter_rows() if fid in ids}
        for name, pairs in (
            ("missed", truth_pairs - got_pairs),
            ("wrong", got_pairs - truth_pairs),
        ):
            by_kind = Counter(k for _, k in pairs)
            print(f"  {name}: {dict(by_kind)}")
            for item, kind in sorted(pairs)[:show]:
                text = " ".join((texts.get(item) or "").split())[:220]
                print(
                    f"    {kind:14s} {item[1][:24]:24s} {evidence.get((item, kind), '')[:90]!r} :: {text}"
                )
    # timing: flagging every stored text, against one regex pass over the same texts
    # (splitting them into words): the cost of the cue file beyond touching every text
    import re

    from models.urgent import detect

    urgent_cues = load_urgent_cues()
    con = duckdb.connect(str(db), read_only=True)
    texts_only = con.sql("SELECT feedback_id, text FROM feedback").pl()["text"].to_list()
    con.close()
    started = time.perf_counter()
    for text in texts_only:
        re.findall(r"\w+", text)
    base = time.perf_counter() - started
    started = time.perf_counter()
    for text in texts_only:
        detect(text, urgent_cues)
    seconds = time.perf_counter() - started
    print(
        f"  flagging {len(texts_only):,} texts: {seconds:.2f}s, {seconds / base:.0f}x one "
        f"word-splitting regex pass over them ({base:.3f}s)"
    )
    return ok


def _texts() -> dict[tuple[str, str], str]:
    """(source, id) → text, for the sources the labelled set draws on."""
    out: dict[tuple[str, str], str] = {}
    nps = pl.read_csv(SHARED / "nps_verbatims" / "nps_verbatims.csv", infer_schema=False)
    for i, text in enumerate(nps["text"].to_list(), start=1):
        out[("nps_verbatims", str(i))] = text or ""
    tweets = pl.read_csv(
        SHARED / "twitter_us_airline_sentiment" / "airline_tweets_clean.csv", infer_schema=False
    )
    # tweet ids in this file lost their digits (5.70306e+17): rows are numbered instead
    for row, text in enumerate(tweets["text"].to_list(), start=1):
        out[("airline_tweets", str(row))] = text or ""
    twcs = pl.read_csv(
        SHARED / "twcs_customer_support" / "raw_sample" / "twcs_head_sample.csv",
        infer_schema=False,
    )
    for tid, text in twcs.select("tweet_id", "text").iter_rows():
        out[("twcs", str(tid))] = text or ""
    return out


def labelled(show: int) -> None:
    from models.urgent import detect, load_urgent_cues

    urgent_cues = load_urgent_cues()
    labels = pl.read_csv(LABELS, infer_schema=False)
    texts = _texts()
    kinds = [k for k in urgent_cues.kind_names if k in labels.columns]
    for split in ("tune", "test", None):
        part = labels if split is None else labels.filter(pl.col("split") == split)
        truth, got = set(), set()
        misses = []
        for row in part.iter_rows(named=True):
            item = (row["source"], row["id"])
            text = texts[item]
            found = {f.kind for f in detect(text, urgent_cues)}
            for kind in kinds:
                if row[kind] == "1":
                    truth.add((item, kind))
                if kind in found:
                    got.add((item, kind))
                if (row[kind] == "1") != (kind in found):
                    misses.append((kind, "missed" if row[kind] == "1" else "wrong", text))
        name = {
            "tune": "tuning part",
            "test": "held-out part (not looked at while tuning)",
            None: "all",
        }[split]
        report(f"hand-labelled real texts, {name}: {part.height} texts", score(kinds, truth, got))
        if show and split == "test":
            for kind, what, text in misses[:show]:
                print(f"    {what:6s} {kind:14s} {' '.join(text.split())[:200]}")
    print(f"  sources: {dict(Counter(labels['source'].to_list()))}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--embedder", default="minilm")
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--skip-labelled", action="store_true")
    parser.add_argument("--show", type=int, default=0, help="print this many misses per list")
    parser.add_argument(
        "--db", type=Path, help="score this warehouse (the demo inbox already run) instead"
    )
    parser.add_argument("--manifest", type=Path, help="its sample_manifest.json (with --db)")
    args = parser.parse_args()
    ok = True
    if args.db:
        from flows.sample_company import SampleManifest

        manifest = SampleManifest.from_json(args.manifest.read_text(encoding="utf-8"))
        ok = evaluate(args.db, manifest, args.show)
    elif not args.skip_demo:
        with tempfile.TemporaryDirectory(prefix="voc-bench-flags-") as tmp:
            ok = demo(Path(tmp), args.embedder, args.show)
    if not args.skip_labelled and LABELS.exists():
        labelled(args.show)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
