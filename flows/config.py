"""The one Settings object: every path and knob voc uses, read from VOC_* env vars.

It is the only reader of the environment in the product (a test checks that no other
module reads a ``VOC_`` variable): the rest of voc is handed a ``Settings`` or the value
it needs. models/embeddings.py still reads ``VOC_EMBED_BACKEND`` itself, pending its
rewrite.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.crosslingual import SAMPLE as CROSSLINGUAL_SAMPLE

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_DEPARTMENTS = PACKAGE_DIR / "departments.yaml"
DEFAULT_URGENT_CUES = PACKAGE_DIR / "urgent.yaml"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VOC_", extra="ignore")

    db: Path = Path("data/voc.duckdb")
    inbox: Path = Path("data/inbox")
    # the key that turns customer identifiers into customer_ref; never committed
    key_file: Path | None = None
    # or the key itself (VOC_CUSTOMER_KEY, hex); never shown in a repr or a dump
    customer_key_hex: SecretStr | None = Field(
        default=None, validation_alias="VOC_CUSTOMER_KEY", exclude=True, repr=False
    )
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
    # the kinds of urgent contact and the phrases that flag them (VOC_URGENT_CUES)
    urgent_cues: Path = DEFAULT_URGENT_CUES
    # `voc notify`: e-mail over SMTP, smtp://[user:password@]host:port[?starttls=auto|required|off]
    # (credentials in the URL, so the URL is a secret), and a JSON webhook (Slack, Teams)
    smtp_url: SecretStr | None = Field(default=None, repr=False)
    smtp_from: str = "voc <voc@localhost>"
    # a CA bundle to verify the mail server's STARTTLS certificate (a private CA)
    smtp_ca_file: Path | None = None
    webhook_url: SecretStr | None = Field(default=None, repr=False)
    # tries per message before it is recorded as failed, and seconds per try
    notify_attempts: int = 3
    notify_timeout: float = 10.0
    timezone: str = "UTC"
    # MiniLM's compiled networks depend only on the wheel and the library versions, so one
    # copy serves every warehouse on the machine (a TF-IDF model is fitted per warehouse
    # and stays beside it)
    model_cache: Path | None = None
    # the adapted embedder's teacher (any sentence-transformers folder); unset: the
    # EmbeddingGemma that `bash scripts/setup.sh --teacher` keeps in the model cache
    teacher_dir: Path | None = None
    # where MiniLM runs: "auto" (OpenVINO, else torch), "openvino" or "torch"
    embed_backend: Literal["auto", "openvino", "torch"] = "auto"
    # where the model cache goes when VOC_MODEL_CACHE is not set (the XDG convention)
    xdg_cache_home: str | None = Field(default=None, validation_alias="XDG_CACHE_HOME")
    # the Prefect API to run flows against; unset, each flow command starts its own
    prefect_api_url: str | None = Field(default=None, validation_alias="PREFECT_API_URL")
    # the language the team reads: themes are found on it, and contacts in other
    # languages are placed in them by meaning (models/crosslingual.py)
    team_language: str = Field(default="en", pattern="^[a-z]{2}$")
    # how many team-language contacts those are compared with (their vectors are cached)
    crosslingual_sample: int = Field(default=CROSSLINGUAL_SAMPLE, ge=50)
    # fault injection for the crash tests (flows/process_setup.py crash_point); never set otherwise
    crash_at: str | None = None

    @property
    def resolved_model_cache(self) -> Path:
        if self.model_cache is not None:
            return self.model_cache
        base = self.xdg_cache_home or Path.home() / ".cache"
        return Path(base) / "voc" / "models"

    @property
    def resolved_key_file(self) -> Path:
        return self.key_file or self.db.parent / "voc.key"

    def customer_key(self) -> bytes:
        """Key for hashing customer identifiers, created on first use with owner-only access."""
        env_key = self.customer_key_hex.get_secret_value() if self.customer_key_hex else ""
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


def environment_value(name: str) -> str | None:
    """A variable a configuration file names (``webhook: ${SLACK_BILLING}`` in the
    departments file), read here like every other: None when unset or empty."""
    return os.environ.get(name) or None


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit (non-None) CLI values on top."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
