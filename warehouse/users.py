"""Who may sign in to the dashboard, and as what: the one user store.

``voc users`` and the dashboard's sign-in both use these functions; nothing here imports
Streamlit, so the CLI stays light. Users live in the warehouse's ``users`` table with
bcrypt hashes (the same hashes streamlit-authenticator checks); a plain password is never
stored. Roles: ``admin`` and ``analyst`` see everything; a ``head`` sees only their
department.

``ensure_demo_users`` gives the sample company an admin, an insight analyst and one head
per department, all with the documented demo password ``DEMO_PASSWORD``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import bcrypt
import polars as pl

from warehouse.clock import utc_now
from warehouse.db import Warehouse
from warehouse.sql import named_query

ROLES = ("admin", "analyst", "head")
ROLE_NAMES = {"admin": "Admin", "analyst": "Insight analyst", "head": "Department head"}
DEMO_PASSWORD = "lumen-demo-2026"
MIN_PASSWORD = 8
MAX_PASSWORD_BYTES = 72  # bcrypt reads no further (bcrypt 5 raises rather than truncate)
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")


@dataclass(frozen=True)
class Viewer:
    """The signed-in person. Heads see only ``department``; analysts and admins see all."""

    username: str
    name: str
    role: str
    department: str | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, not {self.role!r}")
        if self.role == "head" and not self.department:
            raise ValueError("a department head needs a department")

    @property
    def is_head(self) -> bool:
        return self.role == "head"

    @property
    def can_edit_themes(self) -> bool:
        return self.role in ("admin", "analyst")

    @property
    def can_triage(self) -> bool:
        return self.role in ("admin", "analyst")

    @property
    def can_see_data_quality(self) -> bool:
        return self.role in ("admin", "analyst")

    @property
    def role_name(self) -> str:
        base = ROLE_NAMES[self.role]
        return f"{base}, {self.department}" if self.is_head else base


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def hash_password(password: str) -> str:
    """A bcrypt hash of ``password`` (checked first: see ``check_password``)."""
    check_password(password)
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt()).decode()


def check_password(password: str) -> None:
    """``ValueError`` unless ``password`` can be hashed and checked: at least
    ``MIN_PASSWORD`` characters, at most ``MAX_PASSWORD_BYTES`` bytes of UTF-8."""
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password has at least {MIN_PASSWORD} characters")
    try:
        size = len(password.encode("utf-8"))
    except UnicodeEncodeError:
        raise ValueError("a password must be valid text (it is not UTF-8 encodable)") from None
    if size > MAX_PASSWORD_BYTES:
        raise ValueError(
            f"a password is at most {MAX_PASSWORD_BYTES} bytes of UTF-8 ({size} given): "
            "bcrypt reads no further"
        )


def password_matches(password: str, password_hash: str) -> bool:
    """Whether ``password`` is the one ``password_hash`` was made from. A password
    longer than bcrypt reads (which none can be set to) or a damaged hash never matches;
    neither raises."""
    try:
        if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
            return False
        return bool(bcrypt.checkpw(password.encode("utf-8"), password_hash.encode("utf-8")))
    except ValueError:  # not UTF-8 encodable, or an invalid salt (a hash edited by hand)
        return False


def create_user(
    warehouse: Warehouse,
    username: str,
    name: str,
    role: str,
    password: str,
    *,
    department: str | None = None,
    email: str | None = None,
) -> Viewer:
    """Add a user (the password is stored as a bcrypt hash); ``ValueError`` if the name is
    taken or a value is invalid."""
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise ValueError("a username is 2-64 characters: lower-case letters, digits and . _ @ -")
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if role == "head" and not department:
        raise ValueError("a department head needs --department")
    if role != "head":
        department = None
    hashed = hash_password(password)
    name = " ".join(name.split()) or username
    viewer = Viewer(username, name, role, department)
    with warehouse.write() as con:
        if con.execute(named_query("user_by_name"), {"username": username}).fetchall():
            raise ValueError(f"user {username!r} already exists")
        con.execute(
            named_query("insert_user"),
            {
                "username": username,
                "name": name,
                "email": email,
                "role": role,
                "department": department,
                "password_hash": hashed,
                "at": utc_now(),
            },
        )
    return viewer


def set_password(warehouse: Warehouse, username: str, password: str) -> None:
    """Replace a user's password hash; ``ValueError`` for an unknown user or a password
    that is too short or too long."""
    hashed = hash_password(password)
    with warehouse.write() as con:
        if not con.execute(named_query("user_by_name"), {"username": username}).fetchall():
            raise ValueError(f"no user {username!r}")
        con.execute(
            named_query("set_user_password"),
            {"username": username, "password_hash": hashed, "at": utc_now()},
        )


def _user_row(warehouse: Warehouse, username: str) -> dict | None:
    with warehouse.read() as con:
        rows = con.sql(named_query("user_by_name"), params={"username": username}).pl().to_dicts()
    return rows[0] if rows else None


def _viewer(row: Mapping) -> Viewer | None:
    try:
        return Viewer(row["username"], row["name"], row["role"], row["department"])
    except ValueError:  # a row edited by hand into something invalid cannot sign in
        return None


def get_viewer(warehouse: Warehouse, username: str | None) -> Viewer | None:
    """The user as a ``Viewer`` (no password check), or None if there is no such user."""
    if not username:
        return None
    row = _user_row(warehouse, username.strip().lower())
    return _viewer(row) if row else None


def verify_user(warehouse: Warehouse, username: str, password: str) -> Viewer | None:
    """The user if ``password`` is theirs, else None."""
    row = _user_row(warehouse, username.strip().lower())
    if row is None or not password_matches(password, row["password_hash"]):
        return None
    return _viewer(row)


def list_users(warehouse: Warehouse) -> pl.DataFrame:
    """Every user, without password hashes."""
    with warehouse.read() as con:
        return con.sql(named_query("user_list")).pl()


def credentials(warehouse: Warehouse) -> list[dict]:
    """Every user with their hash, for the sign-in widget."""
    with warehouse.read() as con:
        return con.sql(named_query("user_credentials")).pl().to_dicts()


def _department_rows(warehouse: Warehouse) -> list[dict]:
    with warehouse.read() as con:
        return con.sql(named_query("department_heads")).pl().to_dicts()


def demo_usernames(departments: Iterable[str | Mapping]) -> dict[str, str]:
    """``{department: head username}``: the local part of the department's head e-mail
    when it has one (``head.network``), else ``head.<department-slug>``."""
    names: dict[str, str] = {}
    for item in departments:
        name = item if isinstance(item, str) else str(item["name"])
        head = None if isinstance(item, str) else item.get("head")
        local = head.split("@", 1)[0].strip().lower() if head and "@" in head else ""
        username = local if _USERNAME.match(local) else f"head.{_slug(name)}"
        while username in names.values():
            username += "-2"
        names[name] = username
    return names


def ensure_demo_users(
    warehouse: Warehouse,
    departments: Iterable[str | Mapping] | None = None,
    *,
    password: str = DEMO_PASSWORD,
) -> list[str]:
    """Create the sample company's users if they are missing: ``admin``, ``analyst`` and
    one head per department (``departments``: names or rows with ``name`` and ``head``;
    default: the ``departments`` table). Returns the usernames created; existing users
    (and their passwords) are left alone."""
    rows = list(departments) if departments is not None else _department_rows(warehouse)
    existing = set(list_users(warehouse)["username"].to_list())
    wanted: list[tuple[str, str, str, str | None, str | None]] = [
        ("admin", "Demo Admin", "admin", None, None),
        ("analyst", "Insight Analyst", "analyst", None, None),
    ]
    heads = demo_usernames(rows)
    for item in rows:
        name = item if isinstance(item, str) else str(item["name"])
        email = None if isinstance(item, str) else item.get("head")
        wanted.append((heads[name], f"Head of {name}", "head", name, email))
    created = []
    for username, name, role, department, email in wanted:
        if username in existing:
            continue
        create_user(warehouse, username, name, role, password, department=department, email=email)
        created.append(username)
    return created
