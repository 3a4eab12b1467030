"""A real dashboard (`voc dashboard` on a free port over a temporary warehouse) and a
real Chromium driven by Playwright. Chromium comes from apt (`scripts/setup.sh --test`);
Playwright's own browser download is not used."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("VOC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
sys.path.insert(0, str(ROOT / "tests" / "app"))

from dashboard_sample import Sample, build  # noqa: E402


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"voc dashboard exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"voc dashboard was not healthy after {timeout:.0f}s:\n{log.read_text()}")


def _stop(proc: subprocess.Popen) -> None:
    """Stop `voc dashboard` and the Streamlit process it started (its own group)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=15)


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Sample]]:
    """``(base_url, sample)``: `voc dashboard` serving a fresh sample warehouse."""
    folder = tmp_path_factory.mktemp("browser")
    sample = build(folder / "voc.duckdb")
    port = _free_port()
    log = folder / "dashboard.log"
    env = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "HF_HUB_OFFLINE": "1",
        "VOC_LOCK_TIMEOUT": "30",
        "PYTHONPATH": str(ROOT),
    }
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flows.cli",
                "dashboard",
                "--port",
                str(port),
                "--db",
                str(sample.path),
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so the Streamlit child is stopped with it
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, log)
        yield url, sample
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium is not at {CHROMIUM}: run `bash scripts/setup.sh --test` "
            "(apt-get install -y chromium) or set VOC_CHROMIUM"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def screenshot():
    """``screenshot(page, name)``: the whole page (Streamlit scrolls inside its main
    block, so the viewport is stretched to it) into artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        height = page.evaluate(
            "() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
            " return m ? m.scrollHeight : document.body.scrollHeight }"
        )
        size = page.viewport_size
        page.set_viewport_size({"width": size["width"], "height": min(max(900, height + 40), 6000)})
        page.wait_for_timeout(800)  # charts re-lay out to the new size
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path))
        page.set_viewport_size(size)
        return path

    return take
