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

    @property
    def resolved_key_file(self) -> Path:
        return self.key_file or self.db.parent / "voc.key"

    def customer_key(self) -> bytes:
        """Key for hashing customer identifiers, created on first use with owner-only access."""
        env_key = os.environ.get("VOC_CUSTOMER_KEY")
        if env_key:
            return bytes.fromhex(env_key)
        path = self.resolved_key_file
        if path.exists():
            return bytes.fromhex(path.read_text().strip())
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(32)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key.hex())
        try:
            os.link(tmp, path)  # atomic: exactly one process's key wins
        except FileExistsError:
            key = bytes.fromhex(path.read_text().strip())
        finally:
            tmp.unlink()
        return key


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit (non-None) CLI values on top."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
