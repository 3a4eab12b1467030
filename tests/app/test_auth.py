"""Users, hashed passwords, demo users, the cookie key, and signing in and out."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from warehouse import Warehouse

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def wh(tmp_path: Path) -> Warehouse:
    return Warehouse(tmp_path / "users" / "voc.duckdb", lock_timeout=20)


def test_demo_users_one_head_per_department_hashed(wh):
    from warehouse.users import DEMO_PASSWORD, ensure_demo_users, list_users, verify_user

    departments = [
        {"name": "Network", "head": "head.network@lumen.example"},
        {"name": "Sales (Home Moves)", "head": None},
    ]
    created = ensure_demo_users(wh, departments)
    assert created == ["admin", "analyst", "head.network", "head.sales-home-moves"]
    assert ensure_demo_users(wh, departments) == []  # idempotent; passwords untouched
    users = list_users(wh)
    assert "password_hash" not in users.columns
    assert dict(zip(users["username"], users["role"], strict=True)) == {
        "admin": "admin",
        "analyst": "analyst",
        "head.network": "head",
        "head.sales-home-moves": "head",
    }
    with wh.read() as con:
        hashes = [r[0] for r in con.execute("SELECT password_hash FROM users").fetchall()]
    assert all(h.startswith("$2") and DEMO_PASSWORD not in h for h in hashes)
    head = verify_user(wh, "head.network", DEMO_PASSWORD)
    assert head is not None and head.role == "head" and head.department == "Network"
    assert verify_user(wh, "head.network", "wrong-password") is None
    assert verify_user(wh, "nobody", DEMO_PASSWORD) is None


def test_demo_users_default_to_the_departments_table(sample):
    from warehouse.users import list_users

    users = list_users(Warehouse(sample.path))
    heads = users.filter(users["role"] == "head")
    assert sorted(heads["department"].to_list()) == sorted(sample.departments)


def test_create_user_checks_its_input(wh):
    from warehouse.users import create_user, set_password, verify_user

    create_user(wh, "Priya.S", "Priya S", "analyst", "long-enough-1")
    assert verify_user(wh, "priya.s", "long-enough-1") is not None  # names are lower-case
    with pytest.raises(ValueError, match="already exists"):
        create_user(wh, "priya.s", "Priya again", "analyst", "long-enough-1")
    with pytest.raises(ValueError, match="role"):
        create_user(wh, "sam", "Sam", "root", "long-enough-1")
    with pytest.raises(ValueError, match="department"):
        create_user(wh, "sam", "Sam", "head", "long-enough-1")
    with pytest.raises(ValueError, match="at least"):
        create_user(wh, "sam", "Sam", "analyst", "short")
    with pytest.raises(ValueError, match="username"):
        create_user(wh, "no spaces please", "Sam", "analyst", "long-enough-1")
    set_password(wh, "priya.s", "a-new-password")
    assert verify_user(wh, "priya.s", "long-enough-1") is None
    assert verify_user(wh, "priya.s", "a-new-password") is not None


def test_the_cookie_key_is_made_once_beside_the_warehouse_and_private(tmp_path):
    from dashboard.auth import cookie_key

    db = tmp_path / "data" / "voc.duckdb"
    key = cookie_key(db)
    path = db.with_name("voc.duckdb.cookie.key")
    assert path.exists() and path.suffix == ".key"  # *.key is gitignored
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(key) >= 32 and cookie_key(db) == key


def _voc_users(*args: str) -> subprocess.CompletedProcess:
    """``voc users ...`` in a fresh process, reporting whether Streamlit got imported."""
    script = (
        "import sys\n"
        "from flows.cli import app\n"
        "try:\n"
        "    app(sys.argv[1:], prog_name='voc')\n"
        "finally:\n"
        "    print('STREAMLIT', 'streamlit' in sys.modules, file=sys.stderr)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script, "users", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_users_command_creates_demo_users_without_streamlit(tmp_path):
    db = tmp_path / "cli" / "voc.duckdb"
    out = _voc_users("demo", "--db", str(db))
    assert out.returncode == 0, out.stderr
    # no departments loaded yet: the admin and the analyst
    assert "Demo sign-ins" in out.stdout and "admin, analyst" in out.stdout
    assert "STREAMLIT False" in out.stderr  # the one user store needs no Streamlit
    assert "WARNING" not in out.stderr
    listing = _voc_users("list", "--db", str(db))
    assert listing.returncode == 0 and "analyst" in listing.stdout, listing.stderr
    assert "STREAMLIT False" in listing.stderr


def test_signing_in_with_the_form_and_out_again(app, page_text):
    from warehouse.users import DEMO_PASSWORD

    at = app(None)
    assert not at.exception
    assert "Sign in" in page_text(at)
    assert "Demo sign-in" in page_text(at)  # the demo password is still in use
    username, password = at.text_input[0], at.text_input[1]
    username.input("analyst")
    password.input("not-the-password")
    _submit(at)
    assert "do not match" in page_text(at)
    at.text_input[0].input("analyst")
    at.text_input[1].input(DEMO_PASSWORD)
    _submit(at)
    assert not at.exception
    assert at.title[0].value == "This week"
    assert "Insight Analyst" in page_text(at)  # the sidebar names who is signed in
    next(b for b in at.button if b.label == "Sign out").click().run()
    assert not at.exception
    assert "Sign in" in page_text(at)
    assert at.session_state["authentication_status"] is None


def test_a_signed_in_user_who_was_deleted_is_turned_away(app, sample, page_text):
    with Warehouse(sample.path).write() as con:
        con.execute("DELETE FROM users WHERE username = 'analyst'")
    at = app("analyst")
    assert not at.exception
    assert "no longer exists" in page_text(at)
    assert not at.metric


def _submit(at) -> None:
    next(b for b in at.button if b.label == "Sign in").click().run()
