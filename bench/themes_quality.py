"""Theme quality on real labelled customer texts, through the public CLI.

    .venv/bin/python bench/themes_quality.py [--embedder minilm] [--only banking77,twcs,bitext,stability]

For each data set: `voc ingest` (as complaints) into a fresh warehouse, `voc topics`, then
the themes are scored against the data set's labels: ACC (Hungarian), NMI, ARI, the
number of themes found (nobody tells voc how many), the unclassified share and seconds.
Bar (issue #5): Banking77 NMI ≥ 0.80 and ACC ≥ 0.60. Published anchors on the same test
set: TF-IDF+KMeans NMI 0.551, the best unsupervised method (USNID) 0.753, LLM-guided
clustering 0.851.

Stability: Banking77 train, shuffled, half ingested as one week and `voc topics`, the other
half as the next week and `voc topics` again: the share of the first half whose theme_id
is unchanged (bar ≥ 90 %, goal 95 %), and the second run's quality.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import SHARED, base_env, prefect_server, voc  # noqa: E402
from models.quality import score_clusters  # noqa: E402

ANCHORS = {
    "TF-IDF+KMeans (k=77 given)": 0.551,
    "USNID unsupervised (k=77 given)": 0.753,
    "ClusterLLM, LLM-guided": 0.851,
}


def labelled_frame(name: str, seed: int = 7) -> pl.DataFrame:
    """``text`` and ``label`` columns for one data set."""
    if name == "banking77":
        return pl.read_csv(SHARED / "banking77" / "test.csv").rename({"category": "label"})
    if name == "bitext":
        frame = pl.read_csv(SHARED / "bitext_customer_support" / "TrainingdatasetBitextsample.csv")
        return frame.select(
            pl.col("utterance").alias("text"), pl.col("intent").alias("label"), pl.col("category")
        ).sample(n=6000, seed=seed)
    if name == "twcs":
        rows = []
        for path in sorted(
            (SHARED / "twcs_customer_support" / "ericsson_labeled").glob("*-200-inbound.csv")
        ):
            frame = pl.read_csv(path, infer_schema_length=0)
            topics = [c for c in frame.columns[9:]]
            for row in frame.iter_rows(named=True):
                on = [t for t in topics if row[t] not in (None, "", "0", "0.0")]
                if len(on) == 1:
                    rows.append({"text": row["text"], "label": f"{row['company']}:{on[0]}"})
        return pl.DataFrame(rows)
    raise ValueError(name)


def themes_of(db: Path) -> pl.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql(
            "SELECT f.feedback_id, f.source_ref, json_extract_string(f.attributes, '$.label') AS label, "
            "ft.theme_id FROM feedback f JOIN feedback_themes ft USING (feedback_id)"
        ).pl()
    finally:
        con.close()


def run_quality(name: str, embedder: str, env: dict, work: Path) -> dict:
    frame = labelled_frame(name)
    csv = work / f"{name}.csv"
    frame.with_row_index("id", offset=1).select("id", "text", "label").write_csv(csv)
    db = work / f"{name}.duckdb"
    voc("ingest", str(csv), "--channel", "complaint", "--db", str(db), env=env)
    seconds = voc("topics", "--embedder", embedder, "--db", str(db), env=env)
    got = themes_of(db)
    scores = score_clusters(got["label"].to_numpy(), got["theme_id"].to_numpy())
    unclassified = float((got["theme_id"] == 0).mean())
    return {
        "data": name,
        "items": got.height,
        **scores.__dict__,
        "unclassified": unclassified,
        "seconds": seconds,
    }


def run_stability(embedder: str, env: dict, work: Path, seed: int = 11) -> dict:
    train = pl.read_csv(SHARED / "banking77" / "train.csv").rename({"category": "label"})
    order = list(range(train.height))
    random.Random(seed).shuffle(order)
    half = train.height // 2
    first = train[order[:half]].with_columns(pl.lit("2026-11-02").alias("date"))
    second = train[order[half:]].with_columns(pl.lit("2026-11-09").alias("date"))
    db = work / "stability.duckdb"
    paths = []
    for i, part in enumerate((first, second), start=1):
        path = work / f"week{i}.csv"
        part.with_row_index("id", offset=1 if i == 1 else half + 1).select(
            "id", "date", "text", "label"
        ).write_csv(path)
        paths.append(path)
    voc("ingest", str(paths[0]), "--channel", "complaint", "--db", str(db), env=env)
    t1 = voc("topics", "--embedder", embedder, "--db", str(db), env=env)
    before = themes_of(db)
    voc("ingest", str(paths[1]), "--channel", "complaint", "--db", str(db), env=env)
    t2 = voc("topics", "--embedder", embedder, "--db", str(db), env=env)
    after = themes_of(db)
    joined = before.join(
        after.select("feedback_id", pl.col("theme_id").alias("after")), on="feedback_id"
    )
    kept = float((joined["theme_id"] == joined["after"]).mean())
    first_scores = score_clusters(before["label"].to_numpy(), before["theme_id"].to_numpy())
    second_scores = score_clusters(after["label"].to_numpy(), after["theme_id"].to_numpy())
    return {
        "kept": kept,
        "first": first_scores,
        "second": second_scores,
        "seconds": (t1, t2),
        "items": (before.height, after.height),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--embedder", default="minilm")
    parser.add_argument("--only", default="banking77,twcs,bitext,stability")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    wanted = args.only.split(",")
    results: dict = {"embedder": args.embedder, "quality": []}
    with (
        tempfile.TemporaryDirectory(prefix="voc-bench-themes-") as tmp,
        prefect_server(base_env()) as env,
    ):
        work = Path(tmp)
        for name in [n for n in ("banking77", "twcs", "bitext") if n in wanted]:
            started = time.perf_counter()
            row = run_quality(name, args.embedder, env, work)
            results["quality"].append(row)
            print(
                f"{name:10s} items {row['items']:6,}  ACC {row['acc']:.3f}  NMI {row['nmi']:.3f}  ARI {row['ari']:.3f}  "
                f"labels {row['n_labels']:3d}  themes {row['n_clusters']:3d}  unclassified {row['unclassified']:.1%}  "
                f"topics {row['seconds']:.0f}s (all {time.perf_counter() - started:.0f}s)",
                flush=True,
            )
            if name == "banking77":
                verdict = "PASS" if row["nmi"] >= 0.80 and row["acc"] >= 0.60 else "MISS"
                print(
                    f"           bar NMI ≥ 0.80 and ACC ≥ 0.60: {verdict}; anchors (NMI): "
                    + ", ".join(f"{k} {v:.3f}" for k, v in ANCHORS.items()),
                    flush=True,
                )
        if "stability" in wanted:
            s = run_stability(args.embedder, env, work)
            results["stability"] = {
                "kept": s["kept"],
                "first": s["first"].__dict__,
                "second": s["second"].__dict__,
                "seconds": s["seconds"],
            }
            print(
                f"stability  first half {s['items'][0]:,} items kept their theme_id: {s['kept']:.1%} (bar 90 %, goal 95 %)"
            )
            print(f"           run 1: {s['first'].line()}   ({s['seconds'][0]:.0f}s)")
            print(f"           run 2: {s['second'].line()}   ({s['seconds'][1]:.0f}s)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=float))


if __name__ == "__main__":
    main()
