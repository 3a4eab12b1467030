"""Which channel a file belongs to, and what is refused."""

from __future__ import annotations

import os

from flows.intake.discover import channel_for, discover


def touch(path, data=b"x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_channel_from_flag_then_folder_then_extension(tmp_path):
    inbox = tmp_path / "inbox"
    touch(inbox / "surveys" / "nps.csv")
    touch(inbox / "complaints" / "2026" / "cases.xlsx")
    touch(inbox / "misc" / "thread.mbox")
    touch(inbox / "misc" / "call1.vtt")
    touch(inbox / "misc" / "unknown.csv")
    touch(inbox / "calls" / "notes.docx")
    touch(inbox / ".DS_Store")
    touch(inbox / "surveys" / "~$nps.xlsx")
    found = {f.source_file: (f.channel, f.problem) for f in discover([inbox])}
    assert found["inbox/surveys/nps.csv"] == ("survey", None)
    assert found["inbox/complaints/2026/cases.xlsx"] == ("complaint", None)
    assert found["inbox/misc/thread.mbox"] == ("email", None)
    assert found["inbox/misc/call1.vtt"] == ("call", None)
    assert (
        found["inbox/misc/unknown.csv"][0] is None
        and "--channel" in found["inbox/misc/unknown.csv"][1]
    )
    assert (
        found["inbox/calls/notes.docx"][0] is None
        and "not a call format" in found["inbox/calls/notes.docx"][1]
    )
    assert not any(".DS_Store" in k or "~$" in k for k in found)
    flagged = {
        f.source_file: f.channel
        for f in discover([inbox / "misc" / "unknown.csv"], channel="complaint")
    }
    assert flagged == {"unknown.csv": "complaint"}


def test_missing_path_is_reported_not_ignored(tmp_path):
    [f] = discover([tmp_path / "nope"])
    assert f.channel is None and "no such file" in f.problem


def test_links_out_of_the_folder_are_refused(tmp_path):
    secret = touch(tmp_path / "outside" / "secret.csv", b"comment\nprivate\n")
    inbox = tmp_path / "inbox" / "surveys"
    inbox.mkdir(parents=True)
    os.symlink(secret, inbox / "escape.csv")
    touch(inbox / "ok.csv")
    found = {f.source_file: f for f in discover([tmp_path / "inbox"])}
    assert found["inbox/surveys/escape.csv"].channel is None
    assert "links outside" in found["inbox/surveys/escape.csv"].problem
    assert found["inbox/surveys/ok.csv"].channel == "survey"


def test_single_file_uses_its_parent_folder_name(tmp_path):
    f = touch(tmp_path / "complaints" / "x.csv")
    assert channel_for(f, None, None) == ("complaint", None)
