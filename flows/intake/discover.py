"""Which files to ingest, and which channel each belongs to.

Channel: from ``--channel``, else a folder name on the way down (surveys/, complaints/,
emails/, calls/), else the extension (.eml/.mbox → email, .vtt/.srt → call). A file no
channel claims is reported and quarantined, never skipped silently. Links that lead out
of the folder being ingested are refused, so an inbox cannot be used to read elsewhere.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from flows.intake.sources.tabular import TABULAR_SUFFIXES
from warehouse.contract import CHANNELS

FOLDER_CHANNELS = {
    "survey": "survey",
    "surveys": "survey",
    "nps": "survey",
    "csat": "survey",
    "complaint": "complaint",
    "complaints": "complaint",
    "tickets": "complaint",
    "cases": "complaint",
    "email": "email",
    "emails": "email",
    "mail": "email",
    "mails": "email",
    "inbox-mail": "email",
    "call": "call",
    "calls": "call",
    "transcripts": "call",
    "call-transcripts": "call",
}
EMAIL_SUFFIXES = {".eml", ".mbox", ".mbx"}
CALL_SUFFIXES = {".vtt", ".srt", ".json", ".txt"}
# files an operating system or an editor leaves behind; they are nobody's feedback
_JUNK_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}


@dataclass(frozen=True)
class InboxFile:
    path: Path
    source_file: str  # path shown and stored: relative to the folder it was found in
    channel: str | None
    problem: str | None = None  # why it cannot be ingested, when it cannot
    # for a link refused because it leads out of the inbox: where it points (never read)
    link_target: str | None = None

    def fingerprint(self) -> str | None:
        """The file's content hash; for a refused link a hash of the link itself, so the
        sweep reports it once without opening what it points to."""
        if self.link_target is not None:
            return hashlib.sha256(
                f"refused link\0{self.source_file}\0{self.link_target}".encode(
                    "utf-8", "surrogateescape"
                )
            ).hexdigest()
        if not self.path.is_file():
            return None
        digest = hashlib.sha256()
        with self.path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()


def channel_for(
    path: Path, root: Path | None, explicit: str | None
) -> tuple[str | None, str | None]:
    """``(channel, problem)`` for one file."""
    ext = path.suffix.lower()
    if explicit:
        channel = explicit
    else:
        channel = None
        parts = path.relative_to(root).parts[:-1] if root else ()
        names = [root.name] if root else []
        names += list(parts)
        if not root:
            names.append(path.parent.name)
        for name in reversed(names):
            channel = FOLDER_CHANNELS.get(name.lower())
            if channel:
                break
        if channel is None and ext in EMAIL_SUFFIXES:
            channel = "email"
        elif channel is None and ext in {".vtt", ".srt"}:
            channel = "call"
    if channel is None:
        return None, (
            f"cannot tell which channel {path.name} is: pass --channel, or put it in a "
            "surveys/, complaints/, emails/ or calls/ folder"
        )
    if channel not in CHANNELS:
        return None, f"unknown channel {channel!r}; channels are {', '.join(CHANNELS)}"
    allowed = {
        "survey": TABULAR_SUFFIXES,
        "complaint": TABULAR_SUFFIXES,
        "email": EMAIL_SUFFIXES | {".txt", ""},
        "call": CALL_SUFFIXES,
    }[channel]
    if ext not in allowed:
        return (
            None,
            f"{path.name}: a {ext or 'extension-less'} file is not a {channel} format voc reads ({', '.join(sorted(e for e in allowed if e))})",
        )
    return channel, None


def discover(paths: list[str | Path], channel: str | None = None) -> list[InboxFile]:
    """Every file under ``paths`` (folders walked recursively, in a stable order)."""
    found: list[InboxFile] = []
    for given in paths:
        path = Path(given).expanduser()
        if not path.exists():
            found.append(InboxFile(path, str(given), None, f"{given}: no such file or folder"))
            continue
        if path.is_file():
            ch, problem = channel_for(path, None, channel)
            found.append(InboxFile(path, path.name, ch, problem))
            continue
        root = path.resolve()
        for file in sorted(p for p in path.rglob("*") if p.is_file() or p.is_symlink()):
            name = file.name
            if name.lower() in _JUNK_NAMES or name.startswith("~$") or name.startswith("."):
                continue
            rel = file.relative_to(path)
            shown = f"{root.name}/{rel}" if root.name else str(rel)
            if file.is_symlink():
                target = file.resolve()
                if not target.is_relative_to(root):
                    found.append(
                        InboxFile(
                            file,
                            shown,
                            None,
                            f"{shown} links outside {path}: refused",
                            link_target=os.readlink(file),
                        )
                    )
                    continue
                if not target.is_file():
                    continue
            ch, problem = channel_for(root / rel, root, channel)
            found.append(InboxFile(file, shown, ch, problem))
    # the same file named twice (a folder and a file in it) is read once; every refused
    # link is its own report, even when several point at the same outside file
    unique: dict[Path, InboxFile] = {}
    for item in found:
        if item.link_target is not None or not item.path.exists():
            key = item.path.absolute()
        else:
            key = item.path.resolve()
        unique.setdefault(key, item)
    return list(unique.values())
