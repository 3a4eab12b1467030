"""The one Settings object: every path and knob voc uses, read from VOC_* env vars."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_DEPARTMENTS = PACKAGE_DIR / "departments.yaml"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VOC_", extra="ignore")

    db: Path = Path("data/voc.duckdb")
    inbox: Path = Path("data/inbox")
    # the key that turns customer identifiers into customer_ref; never committed
    key_file: Path | None = None
    # how long a writer waits for the warehouse before giving up with a clear error
    lock_timeout: float = 120.0
    # longer texts are cut (and the cut is noted) so one pasted log cannot bloat the warehouse
    max_text_chars: int = 20_000
    # "auto" infers day/month order per column; "dmy"/"mdy" force it for ambiguous exports
    date_order: Literal["auto", "dmy", "mdy"] = "auto"
    # timestamps written without an offset are read in this zone, then stored as UTC
    source_timezone: str = "UTC"
    # mail sent from these domains is the company talking, not the customer
    company_email_domains: list[str] = Field(default_factory=list)
    task_runner: Literal["thread", "dask"] = "thread"
    dask_address: str | None = None
    max_workers: int = 4
    departments: Path = DEFAULT_DEPARTMENTS
    timezone: str = "UTC"
    # MiniLM's compiled networks depend only on the wheel and the library versions, so one
    # copy serves every warehouse on the machine (a TF-IDF model is fitted per warehouse
    # and stays beside it)
    model_cache: Path | None = None
    # where MiniLM runs: "auto" (OpenVINO, else torch), "openvino" or "torch"
    embed_backend: Literal["auto", "openvino", "torch"] = "auto"

    @property
    def resolved_model_cache(self) -> Path:
        if self.model_cache is not None:
            return self.model_cache
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        return Path(base) / "voc" / "models"

    @property
    def resolved_key_file(self) -> Path:
        return self.key_file or self.db.parent / "voc.key"

    def customer_key(self) -> bytes:
        """Key for hashing customer identifiers, created on first use with owner-only access."""
        env_key = os.environ.get("VOC_CUSTOMER_KEY")
        if env_key:
            return _checked_key(env_key, "VOC_CUSTOMER_KEY")
        path = self.resolved_key_file
        if path.exists():
            return _checked_key(path.read_text(), str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(32)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key.hex())
        try:
            os.link(tmp, path)  # atomic: exactly one process's key wins
        except FileExistsError:
            key = _checked_key(path.read_text(), str(path))
        finally:
            tmp.unlink()
        return key


MIN_KEY_BYTES = 16


def _checked_key(text: str, where: str) -> bytes:
    """The customer key as bytes. customer_ref is only as private as this key: one of a few
    bytes can be guessed, and with it every address behind a customer_ref. Errors never
    echo the key."""
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        raise ValueError(
            f"the customer key in {where} is not hex (64 hex characters expected)"
        ) from None
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(
            f"the customer key in {where} is {len(key)} bytes; at least {MIN_KEY_BYTES} are needed"
            " (64 hex characters recommended, e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)"
        )
    return key


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit (non-None) CLI values on top."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
