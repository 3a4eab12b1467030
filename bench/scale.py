"""A million rows: build a 1,000,000-row mixed-channel warehouse through the real flows
and measure what a customer with that much feedback waits for.

    .venv/bin/python bench/scale.py [--rows 1000000] [--new 100000] [--keep DIR]

Reports, each against a baseline measured in the same run:
* ingest end to end (`voc ingest` of a 1,000,000-row survey CSV) against DuckDB's bare
  `read_csv` of the same file into a table: goal ≤ 3×, bar ≤ 5× (Prefect server running,
  as under `voc serve`; the temporary server a first `voc` command starts is reported too);
* peak memory of the `voc` processes;
* the mixed-channel warehouse: surveys (CSV), complaints (CSV and JSONL), e-mails (mbox)
  and calls (JSON), a million contacts in all;
* `voc topics` (TF-IDF embedder fitted on every text; themes fitted on a 20,000-item seeded sample, the rest assigned; MiniLM speed is bench/themes_speed.py)
  and `voc weekly` on it;
* dashboard reads per page on it (bench/dashboard.py --db): bar < 1 s;
* themes for --new new items (ingest a new week, `voc topics`): bar < 5 minutes.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, base_env, prefect_server  # noqa: E402
from bench.ingest import CORES, OPENERS, TAILS, make_csv  # noqa: E402

DETAIL = [
    "since last Tuesday",
    "for the third time this month",
    "after the upgrade",
    "two weeks ago",
    "every evening",
    "on my new contract",
    "despite three calls",
    "this morning",
    "at the weekend",
]


def sentence(rng: random.Random, i: int) -> str:
    text = f"{rng.choice(OPENERS)} {rng.choice(CORES)} {rng.choice(DETAIL)}, {rng.choice(TAILS)} (case {i})"
    if i % 12 == 0:
        text += f" — ring me on 07700 900{i % 1000:03d}"
    return text


def make_mixed(root: Path, rows: int, seed: int = 3) -> dict[str, int]:
    """Surveys 65 %, complaints 25 % (CSV + JSONL), e-mails 5 % (mbox), calls 5 % (JSON)."""
    rng = random.Random(seed)
    counts = {
        "survey": int(rows * 0.65),
        "complaint_csv": int(rows * 0.15),
        "complaint_jsonl": int(rows * 0.10),
        "email": int(rows * 0.05),
    }
    counts["call"] = rows - sum(counts.values())
    (root / "surveys").mkdir(parents=True)
    make_csv(root / "surveys" / "nps_export.csv", counts["survey"], seed=seed)
    (root / "complaints").mkdir()
    with (root / "complaints" / "crm_cases.csv").open("w") as out:
        out.write("Case Number,Date Opened,Contact Email,Subject,Description\n")
        for i in range(counts["complaint_csv"]):
            out.write(
                f'C{i:08d},{1 + i % 28:02d}/10/2026 10:{i % 60:02d},cust{i % 90000}@example.com,Complaint,"{sentence(rng, i)}"\n'
            )
    with (root / "complaints" / "webform.jsonl").open("w") as out:
        for i in range(counts["complaint_jsonl"]):
            out.write(
                json.dumps(
                    {
                        "id": f"W{i}",
                        "submitted_at": f"2026-10-{1 + i % 28:02d}T11:00:00Z",
                        "customer": {"email": f"web{i % 50000}@example.org"},
                        "message": sentence(rng, i),
                    }
                )
                + "\n"
            )
    (root / "emails").mkdir()
    per_file = max(1, counts["email"] // 10)
    for f in range(10):
        with (root / "emails" / f"inbox_{f}.mbox").open("w") as out:
            for j in range(per_file if f < 9 else counts["email"] - per_file * 9):
                i = f * per_file + j
                out.write(
                    f"From cust{i % 40000}@example.net Mon Oct  5 10:00:00 2026\n"
                    f"From: Customer {i} <cust{i % 40000}@example.net>\nTo: support@lumen-broadband.example\n"
                    f"Subject: Problem {i}\nDate: Mon, {1 + i % 28} Oct 2026 10:00:00 +0000\nMessage-ID: <m{i}@example.net>\n\n"
                    f"Hello,\n\n{sentence(rng, i)}\n\nThanks\n\n"
                )
    (root / "calls").mkdir()
    per_file = max(1, counts["call"] // 10)
    for f in range(10):
        n = per_file if f < 9 else counts["call"] - per_file * 9
        calls = [
            {
                "call_id": f"K{f}-{j}",
                "started_at": f"2026-10-{1 + j % 28:02d}T09:00:00Z",
                "customer": {"email": f"cust{j % 40000}@example.net"},
                "turns": [
                    {"speaker": "agent", "text": "Thanks for calling, how can I help?"},
                    {"speaker": "customer", "text": sentence(rng, j)},
                ],
            }
            for j in range(n)
        ]
        (root / "calls" / f"calls_{f}.json").write_text(json.dumps(calls))
    return counts


def timed_voc(args: list[str], env: dict) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - started
    return seconds, max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="keep the work folder here")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="voc-bench-scale-")) if not args.keep else args.keep
    work.mkdir(parents=True, exist_ok=True)
    env = base_env()
    try:
        # 1. the single big file: voc ingest against duckdb read_csv
        csv = work / "one_million.csv"
        make_csv(csv, args.rows)
        started = time.perf_counter()
        con = duckdb.connect(str(work / "bare.duckdb"))
        con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?)", [str(csv)])
        con.close()
        baseline = time.perf_counter() - started
        print(f"baseline  duckdb read_csv of {args.rows:,} rows      {baseline:7.2f}s", flush=True)
        cold, cold_peak = timed_voc(
            ["ingest", str(csv), "--channel", "survey", "--db", str(work / "cold.duckdb")], env
        )
        print(
            f"voc ingest, temporary Prefect server          {cold:7.2f}s  {cold / baseline:5.1f}×   peak RSS {cold_peak:,.0f} MiB",
            flush=True,
        )
        with prefect_server(env) as server_env:
            warm, warm_peak = timed_voc(
                ["ingest", str(csv), "--channel", "survey", "--db", str(work / "warm.duckdb")],
                server_env,
            )
            verdict = "PASS" if warm / baseline <= 5 else "MISS"
            print(
                f"voc ingest, Prefect server running            {warm:7.2f}s  {warm / baseline:5.1f}×   {verdict} (bar ≤ 5×, goal ≤ 3×)",
                flush=True,
            )

            # 2. the mixed-channel warehouse
            inbox = work / "inbox"
            counts = make_mixed(inbox, args.rows)
            db = work / "scale.duckdb"
            mixed, mixed_peak = timed_voc(["ingest", str(inbox), "--db", str(db)], server_env)
            con = duckdb.connect(str(db), read_only=True)
            per_channel = dict(
                con.execute("SELECT channel, count(*) FROM feedback GROUP BY 1").fetchall()
            )
            con.close()
            print(
                f"mixed warehouse: {sum(per_channel.values()):,} rows {per_channel} in {mixed:.0f}s, peak RSS {mixed_peak:,.0f} MiB",
                flush=True,
            )
            del counts
            topics, topics_peak = timed_voc(
                ["topics", "--embedder", "tfidf", "--db", str(db)], server_env
            )
            print(
                f"voc topics (TF-IDF, themes fit on a sample)   {topics:7.1f}s   peak RSS {topics_peak:,.0f} MiB",
                flush=True,
            )
            weekly, weekly_peak = timed_voc(["weekly", "--db", str(db)], server_env)
            print(
                f"voc weekly on {args.rows:,} rows               {weekly:7.1f}s   peak RSS {weekly_peak:,.0f} MiB",
                flush=True,
            )
            again, _ = timed_voc(["weekly", "--db", str(db)], server_env)
            print(f"voc weekly again (item routes cached)         {again:7.1f}s", flush=True)

            # 3. dashboard pages on it
            subprocess.run(
                [
                    sys.executable,
                    str(ROOT / "bench" / "dashboard.py"),
                    "--db",
                    str(db),
                    "--repeat",
                    "2",
                ],
                cwd=ROOT,
                env=server_env,
                check=False,
            )

            # 4. a new week of --new items
            new_csv = work / "new_week.csv"
            make_csv(new_csv, args.new)
            started = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "flows.cli",
                    "ingest",
                    str(new_csv),
                    "--channel",
                    "complaint",
                    "--received-at",
                    "2026-11-23",
                    "--db",
                    str(db),
                ],
                cwd=ROOT,
                env=server_env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "flows.cli",
                    "topics",
                    "--embedder",
                    "tfidf",
                    "--db",
                    str(db),
                ],
                cwd=ROOT,
                env=server_env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            new_items = time.perf_counter() - started
            print(
                f"themes for {args.new:,} new items (ingest + topics, TF-IDF): {new_items:.0f}s "
                f"({'PASS' if new_items < 300 else 'MISS'} bar < 5 min); MiniLM: see bench/themes_speed.py",
                flush=True,
            )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
