"""Secrets stay secret: the customer key (hex or raw), user passwords and the customers'
own e-mail addresses never reach a log (Prefect's, the CLI's), a warehouse table or the
repository; customer identifiers are stored only as customer_ref (a keyed hash). The key
files are owner-only and gitignored."""

from __future__ import annotations

import base64
import logging
import os
import re
import secrets
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from security_checks import ROOT, table_counts
from typer.testing import CliRunner

runner = CliRunner(env={"COLUMNS": "300"})
PASSWORD = "Tr0ub4dor&3-" + secrets.token_hex(6)
CUSTOMER_EMAILS = [
    "alice.customer+7@example.org",
    "Bob.Customer@Example.NET",
    "carol.customer@example.com",
    "dave.nobody@example.co.uk",
]


def _inbox(root: Path) -> Path:
    """Survey rows keyed by e-mail (one quarantined), an address inside a comment, and a
    customer's e-mail with her address in the signature."""
    surveys = root / "inbox" / "surveys"
    surveys.mkdir(parents=True)
    (surveys / "nps.csv").write_text(
        "ResponseId,RecordedDate,NPS,Email,Comment\n"
        f'R1,2026-10-01 09:00:00,3,{CUSTOMER_EMAILS[0]},"Router keeps dropping"\n'
        f'R2,2026-10-01 10:00:00,9,{CUSTOMER_EMAILS[1]},"Write to me at {CUSTOMER_EMAILS[1]}"\n'
        f'R3,2026-10-02 10:00:00,2,{CUSTOMER_EMAILS[3]},""\n'
    )
    emails = root / "inbox" / "emails"
    emails.mkdir()
    (emails / "ticket.eml").write_text(
        f"From: Carol Customer <{CUSTOMER_EMAILS[2]}>\n"
        "To: Support <support@lumen-broadband.example>\n"
        "Subject: Bill went up\n"
        "Date: Mon, 02 Nov 2026 08:41:07 +0000\n"
        "Message-ID: <t-1@mail.example>\n\n"
        "My bill went up without any letter. Please call me back.\n\n"
        f"Carol\n{CUSTOMER_EMAILS[2]}\n"
    )
    return root / "inbox"


# A key written into a tracked file: `VOC_CUSTOMER_KEY=3f9a...`, `VOC_CUSTOMER_KEY: "3f9a..."`
# (hex or base64, 16 bytes or more). Code that passes a key computed at run time is fine.
KEY_ASSIGNED = re.compile(r"VOC_CUSTOMER_KEY\s*[=:]\s*[\"']?[0-9A-Za-z+/]{22,}")


def _needles(key: bytes) -> dict[str, str]:
    needles = {
        "key (hex)": key.hex(),
        "key (HEX)": key.hex().upper(),
        "key (raw repr)": repr(key)[2:-1],
        "key (base64)": base64.b64encode(key).decode(),
        "password": PASSWORD,
    }
    for email in CUSTOMER_EMAILS:
        needles[f"e-mail {email}"] = email.lower()
    return needles


def _leaks(text: str, needles: dict[str, str]) -> list[str]:
    low = text.lower()
    return [what for what, needle in needles.items() if needle.lower() in low]


def _dump(db: Path) -> str:
    """Every value of every table (VARCHAR, JSON, lists, blobs alike), as text."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return "\n".join(f"{name}: {con.table(name).fetchall()!r}" for name in table_counts(db))
    finally:
        con.close()


def _prefect_server_text(api_url: str) -> str:
    """Everything the Prefect server keeps about the runs: logs, flow-run parameters,
    task-run names and inputs."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.sorting import FlowRunSort, LogSort, TaskRunSort
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()
    parts: list[str] = []
    with get_client(sync_client=True) as client:
        offset = 0
        while True:
            logs = client.read_logs(limit=200, offset=offset, sort=LogSort.TIMESTAMP_ASC)
            parts.extend(f"{log.name} {log.message}" for log in logs)
            if len(logs) < 200:
                break
            offset += 200
        parts.extend(
            repr(run.parameters)
            for run in client.read_flow_runs(limit=200, sort=FlowRunSort.ID_DESC)
        )
        parts.extend(
            f"{run.name} {run.task_inputs!r}"
            for run in client.read_task_runs(limit=200, sort=TaskRunSort.ID_DESC)
        )
    assert parts, f"nothing read back from the Prefect server at {api_url}"
    return "\n".join(parts)


def test_no_secret_in_logs_tables_or_output_of_an_in_process_run(
    prefect_server, tmp_path, caplog, monkeypatch
):
    from flows.cli import app

    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="prefect")
    db = tmp_path / "data" / "voc.duckdb"
    inbox = _inbox(tmp_path)
    outputs = []
    for extra in (["-v"], []):
        result = runner.invoke(app, ["ingest", str(inbox), "--db", str(db), *extra])
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    result = runner.invoke(
        app,
        ["users", "add", "mallory", "--role=analyst", "--password-stdin", "--db", str(db)],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    outputs.append(result.output)
    outputs.append(runner.invoke(app, ["status", "--db", str(db)]).output)
    outputs.append(runner.invoke(app, ["users", "list", "--db", str(db)]).output)

    key_file = db.parent / "voc.key"
    assert key_file.exists(), "the customer key was not made beside the warehouse"
    key = bytes.fromhex(key_file.read_text().strip())
    needles = _needles(key)
    dump = _dump(db)
    assert not _leaks(dump, needles), f"in the warehouse: {_leaks(dump, needles)}"
    assert not _leaks("\n".join(outputs), needles), "in the CLI's output"
    assert "ingest run" in caplog.text  # Prefect's run logger was captured
    assert not _leaks(caplog.text, needles), f"in the logs: {_leaks(caplog.text, needles)}"
    server = _prefect_server_text(prefect_server)
    assert "ingest run" in server and "nps.csv" in server  # the runs' logs were read back
    assert not _leaks(server, needles), f"on the Prefect server: {_leaks(server, needles)}"
    # the identifiers are there, as keyed hashes that join repeat contacts
    import polars as pl

    from flows.intake.pii import customer_refs

    refs = {r for r in customer_refs(pl.Series(CUSTOMER_EMAILS), key).to_list()}
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    stored = {r[0] for r in con.execute("SELECT customer_ref FROM feedback").fetchall()}
    con.close()
    assert stored and stored <= refs
    assert len(stored) == 3  # alice, bob and carol (dave's row had no text)


@pytest.mark.slow  # a whole voc process at DEBUG
def test_no_secret_in_a_debug_logged_cli_subprocess(prefect_server, tmp_path):
    """The real ``voc`` process with Prefect at DEBUG: stdout and stderr stay clean."""
    key = secrets.token_bytes(32)
    db = tmp_path / "voc.duckdb"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PREFECT_LOGGING") and k not in ("VOC_DB", "VOC_CUSTOMER_KEY")
    }
    env.update(
        PREFECT_API_URL=prefect_server,
        PREFECT_LOGGING_LEVEL="DEBUG",
        PREFECT_LOGGING_ROOT_LEVEL="DEBUG",
        PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL="DEBUG",
        VOC_CUSTOMER_KEY=key.hex(),
        VOC_DB=str(db),
        PYTHONPATH=str(ROOT),
        COLUMNS="300",
    )
    inbox = _inbox(tmp_path)
    runs = [
        (["ingest", str(inbox), "-v"], None),
        (["users", "add", "mallory", "--role=analyst", "--password-stdin"], PASSWORD + "\n"),
        (["users", "passwd", "mallory", "--password-stdin"], PASSWORD[::-1] + "\n"),
        (["status"], None),
    ]
    text = []
    for args, stdin in runs:
        out = subprocess.run(
            [sys.executable, "-m", "flows.cli", *args],
            cwd=ROOT,
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert out.returncode == 0, out.stdout + out.stderr
        text += [out.stdout, out.stderr]
    joined = "\n".join(text)
    assert "DEBUG" in joined, "Prefect did not log at DEBUG: the test would prove nothing"
    needles = {**_needles(key), "new password": PASSWORD[::-1]}
    assert not _leaks(joined, needles), f"in the process output: {_leaks(joined, needles)}"
    assert not _leaks(_dump(db), needles)
    assert not (db.parent / "voc.key").exists(), "VOC_CUSTOMER_KEY given, yet a key file was made"


def test_the_repository_holds_no_secret_and_ignores_the_key_files(tmp_path):
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    files = [f.decode() for f in files if f]
    assert files, "not a git checkout?"
    secret_names = [
        f for f in files if f.endswith((".key", ".duckdb", ".duckdb.wal", ".pem", ".env"))
    ]
    assert not secret_names, f"secret-looking files are tracked: {secret_names}"
    needles = _needles(secrets.token_bytes(32))
    planted = secrets.token_hex(32)
    assert KEY_ASSIGNED.search(f"export VOC_CUSTOMER_KEY={planted}\n"), (
        "the key pattern misses a real one"
    )
    assert KEY_ASSIGNED.search(f'VOC_CUSTOMER_KEY: "{planted}"')
    env_key = os.environ.get("VOC_CUSTOMER_KEY")
    if env_key:
        needles["this machine's VOC_CUSTOMER_KEY"] = env_key
    for local in (ROOT / "data" / "voc.key", ROOT / "data" / "voc.duckdb.cookie.key"):
        if local.exists():
            needles[f"the local {local.name}"] = local.read_text().strip()
    leaks = []
    for name in files:
        path = ROOT / name
        if not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", "replace")
        found = [w for w in _leaks(text, needles) if not w.startswith("e-mail")]
        if KEY_ASSIGNED.search(text):
            found.append("a VOC_CUSTOMER_KEY value")
        if found:
            leaks.append(f"{name}: {found}")
    assert not leaks, leaks
    for path in (
        "data/voc.key",
        "data/voc.duckdb",
        "data/voc.duckdb.wal",
        "data/voc.duckdb.cookie.key",
        "data/.voc.key.12345",
        "data/inbox/surveys/nps.csv",
        "elsewhere/voc.key",
        "elsewhere/warehouse.duckdb",
        "elsewhere/warehouse.duckdb.cookie.key",
    ):
        check = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT)
        assert check.returncode == 0, f"{path} is not gitignored"


@pytest.mark.slow  # a clone, installed and run
def test_a_fresh_checkout_run_leaves_nothing_for_git_to_add(prefect_server, tmp_path):
    """Run voc with its defaults (data/voc.duckdb, data/voc.key) inside a git work tree
    that carries the project's .gitignore: everything it writes is ignored."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    work = tmp_path / "checkout"
    work.mkdir()
    shutil.copy(ROOT / ".gitignore", work / ".gitignore")
    subprocess.run(["git", "init", "-q"], cwd=work, check=True)
    inbox = _inbox(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("VOC_DB", "VOC_CUSTOMER_KEY")}
    env.update(PREFECT_API_URL=prefect_server, PYTHONPATH=str(ROOT))
    for args, stdin in [
        (["ingest", str(inbox)], None),
        (["users", "add", "mallory", "--role=analyst", "--password-stdin"], PASSWORD + "\n"),
    ]:
        out = subprocess.run(
            [sys.executable, "-m", "flows.cli", *args],
            cwd=work,
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert out.returncode == 0, out.stdout + out.stderr
    subprocess.run(
        [
            sys.executable,
            "-c",
            "from dashboard.auth import cookie_key; cookie_key('data/voc.duckdb')",
        ],
        cwd=work,
        env=env,
        check=True,
        timeout=120,
    )
    made = {p.relative_to(work).as_posix() for p in (work / "data").rglob("*") if p.is_file()}
    assert {"data/voc.duckdb", "data/voc.key", "data/voc.duckdb.cookie.key"} <= made
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=work,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert status == ["?? .gitignore"], f"git would add: {status}"
    for name in ("data/voc.key", "data/voc.duckdb.cookie.key"):
        mode = stat.S_IMODE((work / name).stat().st_mode)
        assert mode == 0o600, f"{name} is {oct(mode)}"


@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_key_files_are_owner_only_whatever_the_umask(tmp_path, umask):
    from dashboard.auth import cookie_key
    from flows.config import load_settings

    old = os.umask(umask)
    try:
        settings = load_settings(db=tmp_path / "data" / "voc.duckdb")
        key = settings.customer_key()
        cookie = cookie_key(settings.db)
    finally:
        os.umask(old)
    key_file = tmp_path / "data" / "voc.key"
    cookie_file = tmp_path / "data" / "voc.duckdb.cookie.key"
    for path in (key_file, cookie_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, (
            f"{path.name}: {oct(path.stat().st_mode)}"
        )
    assert len(key) == 32 and settings.customer_key() == key  # made once, then reused
    assert len(cookie) >= 32 and cookie_key(settings.db) == cookie
    assert not [p for p in key_file.parent.iterdir() if p.name.startswith(".")]  # no temp left


def test_the_settings_never_carry_the_key(tmp_path, monkeypatch):
    key = secrets.token_bytes(32)
    monkeypatch.setenv("VOC_CUSTOMER_KEY", key.hex())
    from flows.config import load_settings

    settings = load_settings(db=tmp_path / "voc.duckdb")
    assert settings.customer_key() == key
    shown = repr(settings) + str(settings.model_dump()) + settings.model_dump_json()
    assert key.hex() not in shown
    assert not (tmp_path / "voc.key").exists()


@pytest.mark.parametrize("weak", ["00", "abcd", "00" * 8])
def test_a_short_customer_key_is_refused(tmp_path, monkeypatch, weak):
    """customer_ref is only as private as the key: a key of a few bytes can be guessed,
    and with it every e-mail address behind a customer_ref."""
    monkeypatch.setenv("VOC_CUSTOMER_KEY", weak)
    from flows.config import load_settings

    with pytest.raises(ValueError):
        load_settings(db=tmp_path / "voc.duckdb").customer_key()


def test_a_bad_customer_key_error_does_not_echo_it(tmp_path, monkeypatch):
    bad = "zz" + secrets.token_hex(31)
    monkeypatch.setenv("VOC_CUSTOMER_KEY", bad)
    from flows.config import load_settings

    with pytest.raises(ValueError) as raised:
        load_settings(db=tmp_path / "voc.duckdb").customer_key()
    assert bad not in str(raised.value) and bad[2:] not in str(raised.value)
