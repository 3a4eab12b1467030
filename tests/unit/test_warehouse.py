"""The one door to DuckDB: migrations, transactions, locks between processes."""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from pathlib import Path

import pytest

from warehouse import Warehouse, WarehouseBusy, WarehouseError
from warehouse import db as dbmod
from warehouse.sql import named_query, parse_named_queries


def test_schema_is_applied_once_and_recorded(warehouse):
    assert warehouse.schema_version() >= 1
    with warehouse.read() as con:
        tables = {
            r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }
        versions = con.execute(
            "SELECT version, name FROM schema_version ORDER BY version"
        ).fetchall()
    assert {"feedback", "quarantine", "ingest_runs", "schema_version"} <= tables
    assert versions[0] == (1, "001_ingest")
    assert warehouse.migrate() == []  # nothing pending the second time


def test_existing_database_upgrades_in_place(tmp_path, monkeypatch):
    schema = tmp_path / "schema"
    schema.mkdir()
    (schema / "001_a.sql").write_text("CREATE TABLE a (x INTEGER);")
    monkeypatch.setattr(dbmod, "schema_files", lambda directory=schema: _files(schema))
    wh = Warehouse(tmp_path / "u.duckdb")
    assert wh.migrate() == ["001_a"]
    with wh.write() as con:
        con.execute("INSERT INTO a VALUES (42)")
    (schema / "002_b.sql").write_text("ALTER TABLE a ADD COLUMN y VARCHAR DEFAULT 'new';")
    assert wh.migrate() == ["002_b"]
    with wh.read() as con:
        assert con.execute("SELECT x, y FROM a").fetchall() == [(42, "new")]


def _files(directory: Path):
    out = []
    for path in sorted(directory.glob("[0-9][0-9][0-9]_*.sql")):
        out.append((int(path.name[:3]), path.stem, path.read_text()))
    return out


def test_a_failed_migration_leaves_no_trace(tmp_path, monkeypatch):
    schema = tmp_path / "schema"
    schema.mkdir()
    (schema / "001_ok.sql").write_text("CREATE TABLE ok (x INTEGER);")
    (schema / "002_bad.sql").write_text("CREATE TABLE half (x INTEGER); THIS IS NOT SQL;")
    monkeypatch.setattr(dbmod, "schema_files", lambda directory=schema: _files(schema))
    wh = Warehouse(tmp_path / "f.duckdb")
    with pytest.raises(WarehouseError):
        wh.migrate()
    (schema / "002_bad.sql").write_text("CREATE TABLE half (x INTEGER);")
    assert wh.migrate() == ["002_bad"]


def test_write_rolls_back_on_error(warehouse):
    with warehouse.write() as con:
        con.execute("CREATE TABLE t (x INTEGER)")
    with pytest.raises(RuntimeError), warehouse.write() as con:
        con.execute("INSERT INTO t VALUES (1)")
        raise RuntimeError("killed half way")
    with warehouse.read() as con:
        assert con.execute("SELECT count(*) FROM t").fetchall() == [(0,)]


def _hold_write(path: str, seconds: float, ready) -> None:
    wh = Warehouse(path, lock_timeout=30)
    with wh.write() as con:
        con.execute("CREATE TABLE IF NOT EXISTS held (x INTEGER)")
        con.execute("INSERT INTO held VALUES (1)")
        ready.set()
        time.sleep(seconds)


def _ctx():
    return mp.get_context("spawn")


def test_readers_wait_for_a_writer_in_another_process_and_see_its_commit(warehouse):
    warehouse.ensure_schema()
    ctx = _ctx()
    ready = ctx.Event()
    proc = ctx.Process(target=_hold_write, args=(str(warehouse.path), 1.5, ready))
    proc.start()
    assert ready.wait(30)
    started = time.monotonic()
    with warehouse.read() as con:
        rows = con.execute("SELECT count(*) FROM held").fetchall()
    waited = time.monotonic() - started
    proc.join(30)
    assert rows == [(1,)]  # never a half-applied write
    assert waited > 0.5


def test_a_writer_gives_up_with_a_clear_error_when_held_too_long(warehouse):
    warehouse.ensure_schema()
    ctx = _ctx()
    ready = ctx.Event()
    proc = ctx.Process(target=_hold_write, args=(str(warehouse.path), 4, ready))
    proc.start()
    assert ready.wait(30)
    impatient = Warehouse(warehouse.path, lock_timeout=0.5)
    with pytest.raises(WarehouseBusy, match="still writing"), impatient.write():
        pass
    proc.join(30)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_folder_gives_a_clear_error(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(WarehouseError, match="read-only|permission"):
            Warehouse(folder / "voc.duckdb").ensure_schema()
    finally:
        folder.chmod(0o700)


def test_path_under_a_file_gives_a_clear_error(tmp_path):
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("x")
    with pytest.raises(WarehouseError):
        Warehouse(blocker / "voc.duckdb").ensure_schema()


def test_named_queries_parse_and_refuse_duplicates():
    text = "-- name: one\nSELECT 1;\n\n-- name: two\nSELECT $x;\n"
    assert parse_named_queries(text) == {"one": "SELECT 1;", "two": "SELECT $x;"}
    with pytest.raises(ValueError, match="twice"):
        parse_named_queries(text + "-- name: one\nSELECT 3;")
    assert "INSERT INTO feedback" in named_query("insert_new_feedback")
    with pytest.raises(KeyError):
        named_query("no_such_query")
