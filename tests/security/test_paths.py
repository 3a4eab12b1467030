"""The inbox boundary: links that lead out of the folder being ingested are refused and
quarantined without being read; ``..`` is honoured only where a person typed it; file
names are stored as text; the inbox sweep never modifies, moves or deletes a file."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from security_checks import fetch, table_counts
from typer.testing import CliRunner

runner = CliRunner(env={"COLUMNS": "400"})
SECRET = "TOPSECRET-7f3a the outside file was read"
SECRET_DIR = "DIRSECRET-91c2 a file in an outside folder was read"


def voc(*args: str):
    from flows.cli import app

    return runner.invoke(app, list(args))


def _dump(db: Path) -> str:
    """Every value of every table, as text."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return "\n".join(repr(con.table(name).fetchall()) for name in table_counts(db))
    finally:
        con.close()


def _survey(text: str, ref: str = "R1") -> str:
    return f'ResponseId,RecordedDate,NPS,Comment\n{ref},2026-10-01 09:00:00,3,"{text}"\n'


def _hostile_inbox(tmp_path: Path) -> tuple[Path, Path, Path]:
    """An inbox with one good file and every kind of link out of it."""
    outside = tmp_path / "outside"
    (outside / "folder").mkdir(parents=True)
    secret = outside / "secret.csv"
    secret.write_text(_survey(SECRET, "S1"))
    (outside / "folder" / "more.csv").write_text(_survey(SECRET_DIR, "S2"))
    inbox = tmp_path / "inbox"
    surveys = inbox / "surveys"
    (surveys / "sub").mkdir(parents=True)
    (surveys / "good.csv").write_text(_survey("The engineer came on time, thank you"))
    (surveys / "absolute.csv").symlink_to(secret)  # absolute target
    (surveys / "relative.csv").symlink_to(Path("..") / ".." / "outside" / "secret.csv")
    (surveys / "sub" / "deeper.csv").symlink_to(Path("../../../outside/secret.csv"))
    (surveys / "folder").symlink_to(outside / "folder", target_is_directory=True)
    (surveys / "dangling.csv").symlink_to(tmp_path / "nowhere.csv")
    (surveys / "inside.csv").symlink_to("good.csv")  # stays inside: allowed, read once
    return inbox, secret, outside / "folder" / "more.csv"


REFUSED_TO_SECRET = ["absolute.csv", "relative.csv", "sub/deeper.csv"]
REFUSED = [*REFUSED_TO_SECRET, "folder", "dangling.csv"]


def test_links_out_of_the_inbox_are_refused_quarantined_and_never_read(prefect_server, tmp_path):
    inbox, secret, more = _hostile_inbox(tmp_path)
    db = tmp_path / "voc.duckdb"
    result = voc("ingest", str(inbox), "--db", str(db))
    assert result.exit_code == 0, result.output
    dump = _dump(db)
    assert "TOPSECRET" not in dump and "DIRSECRET" not in dump
    assert fetch(db, "SELECT text FROM feedback") == [("The engineer came on time, thank you",)]
    quarantined = dict(fetch(db, "SELECT source_file, reason FROM quarantine"))
    refused = {k: v for k, v in quarantined.items() if "links outside" in v and "refused" in v}
    # each outside target is refused (links to the same target may be reported once)
    assert "inbox/surveys/folder" in refused
    assert refused.keys() & {f"inbox/surveys/{n}" for n in REFUSED_TO_SECRET}
    # "never read": no fingerprint of the outside files was taken
    digests = {hashlib.sha256(p.read_bytes()).hexdigest(): p.name for p in (secret, more)}
    runs = fetch(db, "SELECT source_file, file_sha256 FROM ingest_runs")
    read = [(f, digests[h]) for f, h in runs if h in digests]
    assert not read, f"refused links were opened and fingerprinted: {read}"
    known = {r[0] for r in fetch(db, "SELECT file_sha256 FROM source_files")}
    assert not known & set(digests), "an outside file's hash is remembered as ingested"


def test_every_refused_link_is_reported(prefect_server, tmp_path):
    """Never skipped silently: three links to the same outside file are three refusals
    a person can see, not one."""
    from flows.ingest import ingest_flow

    inbox, _, _ = _hostile_inbox(tmp_path)
    results = ingest_flow(paths=[str(inbox)], db=str(tmp_path / "voc.duckdb"))
    reported = {r.source_file for r in results}
    missing = [n for n in REFUSED if f"inbox/surveys/{n}" not in reported]
    assert not missing, f"links refused without a word: {missing} (reported: {sorted(reported)})"


def test_a_refused_link_does_not_hide_the_same_file_dropped_in_later(prefect_server, tmp_path):
    """A file refused as a link outside the inbox was never ingested: when a copy is put in
    the inbox, the sweep (only new content) must load it."""
    from flows.ingest import ingest_flow

    inbox, secret, _ = _hostile_inbox(tmp_path)
    db = str(tmp_path / "voc.duckdb")
    ingest_flow(paths=[str(inbox)], db=db, only_new=True)
    shutil.copy(secret, inbox / "surveys" / "now-really-here.csv")
    results = ingest_flow(paths=[str(inbox)], db=db, only_new=True)
    loaded = {r.source_file: r.rows_loaded for r in results}
    assert loaded.get("inbox/surveys/now-really-here.csv") == 1, (
        f"the copy was skipped as already known: {loaded}"
    )


def test_dot_dot_in_a_path_the_user_typed_is_honoured(prefect_server, tmp_path):
    elsewhere = tmp_path / "elsewhere" / "surveys"
    elsewhere.mkdir(parents=True)
    (elsewhere / "nps.csv").write_text(_survey("Typed path with dot dot works"))
    (tmp_path / "inbox").mkdir()
    db = tmp_path / "voc.duckdb"
    file_arg = tmp_path / "inbox" / ".." / "elsewhere" / "surveys" / "nps.csv"
    folder_arg = tmp_path / "inbox" / ".." / "elsewhere" / "surveys"
    assert voc("ingest", str(file_arg), "--db", str(db)).exit_code == 0
    assert fetch(db, "SELECT source_file, text FROM feedback") == [
        ("nps.csv", "Typed path with dot dot works")
    ]
    assert voc("ingest", str(folder_arg), "--db", str(db)).exit_code == 0
    assert table_counts(db)["feedback"] == 1  # the same record, found again


HOSTILE_NAMES = [
    "quote'name.csv",
    'double"quote.csv',
    "semi;colon; DROP TABLE feedback;--.csv",
    "new\nline.csv",
    "tab\tand space .csv",
    "$(touch pwned).csv",
    "`touch pwned2`.csv",
    "-rf.csv",
    "back\\slash.csv",
    "%s%n%x.csv",
    "名前 ü ‘q’.csv",
    "<script>alert(1)<\\script>.csv",
    "a..b.csv",
]
# Rich markup a file name can hold (no "/": no closing tags)
RICH_NAMES = ["[red]red.csv", "[link=javascript:alert(1)]click.csv"]


def _named_inbox(tmp_path: Path, names: list[str]) -> Path:
    surveys = tmp_path / "inbox" / "surveys"
    surveys.mkdir(parents=True)
    for i, name in enumerate(names):
        (surveys / name).write_text(_survey(f"Contact number {i} about the router", f"N{i}"))
    return tmp_path / "inbox"


def test_hostile_file_names_are_stored_as_text(prefect_server, tmp_path, monkeypatch):
    from flows.ingest import ingest_flow

    monkeypatch.chdir(tmp_path)
    inbox = _named_inbox(tmp_path, HOSTILE_NAMES)
    db = tmp_path / "voc.duckdb"
    results = ingest_flow(paths=[str(inbox)], db=str(db))
    assert sorted(r.source_file for r in results) == sorted(
        f"inbox/surveys/{n}" for n in HOSTILE_NAMES
    )
    stored = dict(fetch(db, "SELECT source_file, text FROM feedback"))
    for i, name in enumerate(HOSTILE_NAMES):
        assert stored.get(f"inbox/surveys/{name}") == f"Contact number {i} about the router"
    runs = {r[0] for r in fetch(db, "SELECT source_file FROM ingest_runs")}
    assert runs == {f"inbox/surveys/{n}" for n in HOSTILE_NAMES}
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "pwned2").exists()


def test_the_ingest_summary_prints_file_names_as_text(prefect_server, tmp_path):
    inbox = _named_inbox(tmp_path, HOSTILE_NAMES[:3] + RICH_NAMES)
    db = tmp_path / "voc.duckdb"
    result = voc("ingest", str(inbox), "--db", str(db))
    assert table_counts(db)["feedback"] == 5  # stored whatever the terminal does
    assert result.exit_code == 0, f"the summary crashed: {result.exception!r}"
    for name in RICH_NAMES:
        assert name in result.output, f"{name!r} is not printed as it is named"


# ------------------------------------------------------------------------ the sweep
def _snapshot(root: Path) -> dict[str, tuple]:
    """Path → (type and mode, size, mtime, content hash or link target) for everything
    under ``root``, links not followed."""
    out: dict[str, tuple] = {}
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in dirs + files:
            path = Path(folder) / name
            st = path.lstat()
            if path.is_symlink():
                detail = os.readlink(path)
            elif path.is_file():
                detail = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                detail = None
            out[str(path.relative_to(root))] = (st.st_mode, st.st_size, st.st_mtime_ns, detail)
    st = root.lstat()
    out["."] = (st.st_mode, st.st_mtime_ns)
    return out


def test_the_inbox_sweep_never_modifies_moves_or_deletes_inbox_files(prefect_server, tmp_path):
    from flows.serve import inbox_sweep_flow

    inbox, secret, more = _hostile_inbox(tmp_path)
    (inbox / "emails").mkdir()
    fixtures = Path(__file__).parents[1] / "fixtures" / "emails"
    shutil.copy(fixtures / "ticket_en_signature.eml", inbox / "emails")
    (inbox / "unknown.bin").write_bytes(b"\x00\x01 no channel claims this")
    (inbox / "surveys" / "broken.csv").write_text("ResponseId,NPS\nR1,99\n")
    os.chmod(inbox / "surveys" / "good.csv", 0o444)  # read-only files are fine too
    before = _snapshot(inbox)
    outside_before = _snapshot(secret.parent)
    db = str(tmp_path / "voc.duckdb")

    first = inbox_sweep_flow(inbox=str(inbox), db=db)
    assert first >= 2  # the survey and the e-mail
    assert _snapshot(inbox) == before
    second = inbox_sweep_flow(inbox=str(inbox), db=db)
    assert second == 0
    assert _snapshot(inbox) == before, "the sweep changed the inbox"
    assert _snapshot(secret.parent) == outside_before
    assert not list(inbox.rglob("*.lock")) and not list(inbox.rglob("*.duckdb*"))


def test_an_inbox_configured_with_dots_is_swept_as_the_folder_it_names(prefect_server, tmp_path):
    """``VOC_INBOX=.../b/surveys/..`` is the folder b: swept, and nothing above it."""
    from flows.serve import inbox_sweep_flow

    base = tmp_path / "a" / "b"
    (base / "surveys").mkdir(parents=True)
    (base / "surveys" / "in.csv").write_text(_survey("Inside the configured inbox"))
    (tmp_path / "a" / "surveys").mkdir()
    (tmp_path / "a" / "surveys" / "above.csv").write_text(_survey("Above the inbox"))
    db = tmp_path / "voc.duckdb"
    inbox_sweep_flow(inbox=str(base / "surveys" / ".."), db=str(db))
    assert [r[0] for r in fetch(db, "SELECT text FROM feedback")] == ["Inside the configured inbox"]
