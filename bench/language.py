"""Language detection: what `voc ingest` stores in feedback.language, scored against an
answer key.

    .venv/bin/python bench/language.py

1. The demo inbox (`voc demo`'s generator, written afresh into a temporary folder) goes
   through `voc ingest`; each stored contact is matched to the answer key
   (sample_manifest.json) by file and source id. Reported: accuracy, and precision and
   recall per language, 'und' counted as a miss.
2. Held-out texts: the multilingual support e-mails of ../shared/data
   (support_tickets_emails v3: en/de/es/fr/pt; subject and body, no language column
   given), through the same detector. Nothing was tuned on them.
Timing: detection of those e-mails against reading them (the baseline, same run).
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import SHARED, base_env, prefect_server, voc  # noqa: E402


def report(title: str, truth: list[str], got: list[str]) -> None:
    right = sum(t == g for t, g in zip(truth, got, strict=True))
    print(f"{title}: {len(truth):,} texts, accuracy {right / len(truth):.3f}")
    found, actual, hits = Counter(got), Counter(truth), Counter()
    for t, g in zip(truth, got, strict=True):
        if t == g:
            hits[t] += 1
    print(f"  {'lang':5s} {'texts':>6s} {'precision':>9s} {'recall':>7s}")
    for lang in sorted(actual, key=lambda k: -actual[k]):
        precision = hits[lang] / found[lang] if found[lang] else float("nan")
        print(f"  {lang:5s} {actual[lang]:6,d} {precision:9.3f} {hits[lang] / actual[lang]:7.3f}")
    print(f"  'und' (too short to tell): {found['und']:,}")
    wrong = Counter((t, g) for t, g in zip(truth, got, strict=True) if t != g)
    if wrong:
        print(
            "  most frequent misses (true → stored): "
            + ", ".join(f"{t}→{g} {n}" for (t, g), n in wrong.most_common(6))
        )


def demo(work: Path) -> None:
    from flows.sample_company import generate_sample

    manifest = generate_sample(work / "inbox")
    db = work / "voc.duckdb"
    with prefect_server(base_env()) as env:
        voc("ingest", str(work / "inbox"), "--db", str(db), env=env)
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    stored = con.sql("SELECT source_file, source_ref, language FROM feedback").pl()
    con.close()
    key = pl.DataFrame(
        {
            "source_file": [Path(c.file).name for c in manifest.contacts],
            "source_ref": [c.source_id.strip("<>") for c in manifest.contacts],
            "truth": [c.language for c in manifest.contacts],
        }
    ).unique(["source_file", "source_ref"], keep="first")
    matched = key.join(
        stored.with_columns(pl.col("source_file").map_elements(lambda f: Path(f).name)),
        on=["source_file", "source_ref"],
        how="inner",
    )
    print(f"demo inbox: {matched.height:,} of {key.height:,} answer-key contacts matched")
    report(
        "demo inbox (stored feedback.language)",
        matched["truth"].to_list(),
        matched["language"].to_list(),
    )


def held_out() -> None:
    from flows.intake.language import detect_language

    path = SHARED / "support_tickets_emails" / "tickets_v3_multilang_complete_rows.csv"
    started = time.perf_counter()
    frame = pl.read_csv(path).drop_nulls(["body", "language"])
    read = time.perf_counter() - started
    texts = (frame["subject"].fill_null("") + pl.lit(". ") + frame["body"]).alias("text")
    texts = pl.select(texts).to_series()
    started = time.perf_counter()
    got = detect_language(texts).fill_null("und")
    seconds = time.perf_counter() - started
    report("support e-mails v3 (held out)", frame["language"].to_list(), got.to_list())
    print(
        f"  detection {seconds:.2f}s for {texts.len():,} texts "
        f"({seconds / read:.2f}x the time to read the CSV, {read:.2f}s)"
    )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="voc-bench-language-") as tmp:
        demo(Path(tmp))
    held_out()


if __name__ == "__main__":
    main()
