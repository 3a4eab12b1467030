"""A new user's first run: a complaint export merged from two systems (two date formats)
and a departments file of seven departments with descriptions and keywords only (no
examples, no costs, no heads). Every complaint loads, `voc run` takes the file, and the
weekly review shows costs as unknown instead of £0."""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from flows.cli import app
from warehouse import Warehouse

ROOT = Path(__file__).resolve().parents[2]
SEVEN = ROOT / "tests" / "fixtures" / "departments" / "seven.yaml"
runner = CliRunner(env={"COLUMNS": "220"})

# (product, the department that owns it, what customers write)
COMPLAINTS = [
    (
        "Credit reporting",
        [
            "My credit report at Equifax shows an account that is not mine and the dispute was ignored",
            "Experian lists a late payment I never made and my credit score dropped",
            "TransUnion has the wrong balance on my credit report after I disputed it twice",
            "Identity theft accounts still appear on my credit report despite my police report",
        ],
    ),
    (
        "Debt collection",
        [
            "A debt collector calls me five times a day about a debt that is not mine",
            "The collection agency never sent validation of the debt and keeps threatening me",
            "Collectors harass my family at work about a debt I already paid",
            "I asked the collector to stop calling and they still call every morning",
        ],
    ),
    (
        "Credit card",
        [
            "My credit card charged an annual fee that was supposed to be waived",
            "The card company raised my interest rate without notice on my statement",
            "They refused to remove a fraudulent charge on my credit card",
            "My rewards points vanished and the credit limit was cut without warning",
        ],
    ),
    (
        "Checking or savings account",
        [
            "The bank froze my checking account and will not say why",
            "I was charged overdraft fees on my checking account for a deposit that was held",
            "My savings account withdrawal was blocked at the branch for a week",
            "A deposit into my account never showed up and the branch cannot find it",
        ],
    ),
    (
        "Mortgage",
        [
            "My mortgage servicer misapplied my escrow payment and now claims I am late",
            "The loan modification paperwork was lost three times and foreclosure started",
            "The servicer will not let me refinance my home though I qualify",
            "Escrow shortage doubled my mortgage payment with no explanation",
        ],
    ),
    (
        "Vehicle loan or lease",
        [
            "The auto loan lender repossessed my car while I was current on payments",
            "My student loan payoff amount keeps changing every time I call the lender",
            "The personal loan lender added fees to my payoff that were never disclosed",
            "My car loan payment was not credited and they reported me late",
        ],
    ),
    (
        "Money transfer, virtual currency, or money service",
        [
            "I sent money through Zelle to the wrong person and the bank refuses to help",
            "A wire transfer never arrived and the money is gone from my account",
            "PayPal froze the money transfer I sent to my sister for three weeks",
            "I was scammed through a money transfer app and they will not reverse it",
        ],
    ),
]


def merged_export(rng: random.Random, per_product: int = 40) -> bytes:
    """CFPB-shaped rows; system A writes 2019/9/24, system B writes ISO 2023-06-27."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "Date received",
            "Product",
            "Issue",
            "Consumer complaint narrative",
            "Company",
            "State",
            "Complaint ID",
        ]
    )
    start = date(2026, 9, 28)
    n = 0
    for product, texts in COMPLAINTS:
        for _ in range(per_product):
            n += 1
            day = start + timedelta(days=rng.randrange(56))
            when = f"{day.year}/{day.month}/{day.day}" if n % 3 else day.isoformat()
            text = f"{rng.choice(texts)}. Complaint {n}, case {rng.randrange(10**6)}."
            writer.writerow([when, product, "Issue", text, "Bank", "CA", str(7_000_000 + n)])
    return out.getvalue().encode()


def voc(*args: str, code: int = 0):
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_a_new_users_seven_departments_run_through_voc_run_and_weekly(tmp_path):
    export = tmp_path / "complaints.csv"
    export.write_bytes(merged_export(random.Random(3)))
    db = str(tmp_path / "voc.duckdb")
    out = voc(
        "run",
        str(export),
        "--channel",
        "complaint",
        "--departments",
        str(SEVEN),
        "--embedder",
        "tfidf",
        "--week",
        "2026-W47",
        "--db",
        db,
    )
    assert "280" in out and "unknown" in out, out
    wh = Warehouse(db)
    with wh.read() as con:
        loaded = con.execute("SELECT count(*) FROM feedback").fetchall()[0][0]
        quarantined = con.execute("SELECT count(*) FROM quarantine").fetchall()[0][0]
        departments = con.execute("SELECT name, head FROM departments ORDER BY name").fetchall()
        charge = con.execute(
            "SELECT total_cost, uncosted_contacts, contacts FROM weekly_chargeback"
        ).fetchall()
        costs = con.execute(
            "SELECT count(*) FILTER (WHERE est_cost IS NOT NULL) FROM theme_weekly"
        ).fetchall()[0][0]
    assert (loaded, quarantined) == (280, 0)  # both date formats load
    assert len(departments) == 7 and {h for _, h in departments} == {None}
    assert charge and all(t is None and u == c for t, u, c in charge)  # unknown, not £0
    assert costs == 0
    # the weekly review on its own takes the same file, and says the cost is unknown
    weekly = voc("weekly", "--week", "2026-W46", "--departments", str(SEVEN), "--db", db)
    assert "estimated handling cost unknown" in weekly, weekly
    exported = tmp_path / "chargeback.csv"
    voc("export", "chargeback", "--format", "csv", "--out", str(exported), "--db", db)
    frame = pl.read_csv(exported)
    assert frame["total_cost"].null_count() == frame.height
    assert (frame["uncosted_contacts"] == frame["contacts"]).all()
