"""The data contract (warehouse/contract.py) against the warehouse the schema files build,
and against the modules that used to write it out again."""

from __future__ import annotations

import polars as pl
import pytest

from warehouse import contract

# DuckDB's names for the types the contract uses, as DESCRIBE prints them
DUCKDB_TYPES: dict[str, pl.DataType] = {
    "VARCHAR": pl.String(),
    "JSON": pl.String(),  # JSON text: parsed by whoever reads it
    "DOUBLE": pl.Float64(),
    "BIGINT": pl.Int64(),
    "INTEGER": pl.Int32(),
    "BOOLEAN": pl.Boolean(),
    "DATE": pl.Date(),
    "TIMESTAMP": pl.Datetime("us"),
}


@pytest.fixture
def migrated(warehouse):
    warehouse.ensure_schema()
    return warehouse


@pytest.mark.parametrize("table", sorted(contract.TABLES))
def test_every_contract_table_is_the_migrated_table(migrated, table):
    with migrated.read() as con:
        described = con.execute(f"DESCRIBE {table}").fetchall()  # noqa: S608 - a fixed name
    columns = [(name, DUCKDB_TYPES.get(kind, kind)) for name, kind, *_ in described]
    assert columns == list(contract.TABLES[table].items())


def test_the_sql_open_issue_rule_is_the_contracts(migrated):
    with migrated.read() as con:
        rows = con.execute(
            "SELECT s, issue_is_open(s) FROM unnest($statuses) AS t(s)",
            {"statuses": list(contract.ISSUE_STATUSES)},
        ).fetchall()
    assert {s for s, is_open in rows if is_open} == set(contract.OPEN_ISSUE_STATUSES)
    assert {s for s, is_open in rows if not is_open} == set(contract.CLOSED_ISSUE_STATUSES)
    assert set(contract.CLOSED_ISSUE_STATUSES) == {"verified", "closed"}


def test_theme_now_follows_a_merge_and_hides_a_triage_guess(migrated):
    with migrated.write() as con:
        con.execute(
            "INSERT INTO themes (theme_id, label, label_source, keywords, department,"
            " department_source, demand_type, status, merged_into, size, created_run_id,"
            " created_at, updated_at) VALUES"
            " (1, 'Billing errors', 'model', [], 'Billing', 'model', 'failure', 'active', NULL,"
            "  9, 'r', now(), now()),"
            " (2, 'Wrong bill', 'model', [], 'Sales', 'model', 'value', 'merged', 1,"
            "  0, 'r', now(), now()),"
            " (3, 'Upgrades', 'model', [], 'Sales', 'triage', 'value', 'active', NULL,"
            "  4, 'r', now(), now())"
        )
        rows = con.execute(
            "SELECT theme_id, current_id, label, department, demand_type FROM theme_now"
            " WHERE theme_id > 0 ORDER BY theme_id"
        ).fetchall()
    assert rows == [
        (1, 1, "Billing errors", "Billing", "failure"),
        (2, 1, "Billing errors", "Billing", "failure"),  # read as the theme it joined
        (3, 3, "Upgrades", None, "value"),  # a best guess is not a department
    ]


def test_the_modules_that_wrote_the_contract_out_take_it_from_the_contract():
    from flows.intake.prepare import FEEDBACK_COLUMNS
    from flows.intake.sources import tabular
    from flows.intake.sources.base import RECORD_SCHEMA
    from models.departments import ChannelCosts
    from warehouse import tracker

    assert FEEDBACK_COLUMNS == [c for c in contract.FEEDBACK if c not in ("run_id", "ingested_at")]
    shared = [c for c in RECORD_SCHEMA if c in contract.FEEDBACK]
    assert {c: RECORD_SCHEMA[c] for c in shared} == {c: contract.FEEDBACK[c] for c in shared}
    assert tabular.SCORE_KINDS == tuple(contract.SCORE_RANGES)
    assert tuple(ChannelCosts.model_fields) == contract.CHANNELS
    assert tracker.STATUSES == contract.ISSUE_STATUSES
    assert set(tracker.TRANSITIONS) == set(contract.ISSUE_STATUSES)
