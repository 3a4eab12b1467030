"""Who may sign in to the dashboard, and as what.

Users live in the warehouse's ``users`` table with bcrypt hashes
(``streamlit_authenticator.Hasher``); a plain password is never stored. Roles: ``admin``
and ``analyst`` see everything; a ``head`` sees only their department.

``ensure_demo_users`` gives the sample company an admin, an insight analyst and one head
per department, all with the documented demo password ``DEMO_PASSWORD``. The key that
signs the "stay signed in" cookie is made on first use and kept beside the warehouse in
``<db>.cookie.key`` (owner-only, gitignored), never in the repository or a log.

    python -m dashboard.auth demo   [--db PATH]       # the demo users
    python -m dashboard.auth add    USERNAME --role analyst [--department D] [--name N]
    python -m dashboard.auth passwd USERNAME
    python -m dashboard.auth list
"""

from __future__ import annotations

import copy
import os
import re
import secrets
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import streamlit as st

from dashboard.components import md
from dashboard.data import ROLES, Viewer, quiet_bare_mode
from warehouse import Warehouse
from warehouse.sql import q

DEMO_PASSWORD = "lumen-demo-2026"
COOKIE_NAME = "voc_auth"
COOKIE_DAYS = 7
MIN_PASSWORD = 8
MAX_PASSWORD_BYTES = 72  # bcrypt reads no further (bcrypt 5 raises rather than truncate)
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")


def _hasher():
    # imported late: the package pulls in its cookie component, which only a page needs
    import logging

    if not st.runtime.exists():
        logging.disable(logging.WARNING)  # its import warns about the missing runtime
    try:
        from streamlit_authenticator import Hasher
    finally:
        logging.disable(logging.NOTSET)
        quiet_bare_mode()  # the import resets Streamlit's log levels
    return Hasher


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# ----------------------------------------------------------------------------- users
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
    _check_password(password)
    name = " ".join(name.split()) or username
    viewer = Viewer(username, name, role, department)
    hashed = _hasher().hash(password)
    with warehouse.write() as con:
        if con.execute(q("dash_user"), {"username": username}).fetchall():
            raise ValueError(f"user {username!r} already exists")
        con.execute(
            q("dash_insert_user"),
            {
                "username": username,
                "name": name,
                "email": email,
                "role": role,
                "department": department,
                "password_hash": hashed,
                "at": _now(),
            },
        )
    _credentials.clear()
    _signed_in_viewer.clear()
    return viewer


def set_password(warehouse: Warehouse, username: str, password: str) -> None:
    """Replace a user's password hash; ``ValueError`` for an unknown user or a password
    that is too short or too long."""
    _check_password(password)
    hashed = _hasher().hash(password)
    with warehouse.write() as con:
        if not con.execute(q("dash_user"), {"username": username}).fetchall():
            raise ValueError(f"no user {username!r}")
        con.execute(
            q("dash_set_password"),
            {"username": username, "password_hash": hashed, "at": _now()},
        )
    _credentials.clear()
    _signed_in_viewer.clear()


def _check_password(password: str) -> None:
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


def _password_matches(password: str, password_hash: str) -> bool:
    """Whether ``password`` is the one ``password_hash`` was made from. A password
    longer than bcrypt reads (which none can be set to) or a damaged hash never matches;
    neither raises."""
    try:
        if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
            return False
        return bool(_hasher().check_pw(password, password_hash))
    except ValueError:  # not UTF-8 encodable, or an invalid salt (a hash edited by hand)
        return False


def _user_row(warehouse: Warehouse, username: str) -> dict | None:
    with warehouse.read() as con:
        rows = con.sql(q("dash_user"), params={"username": username}).pl().to_dicts()
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
    if row is None or not _password_matches(password, row["password_hash"]):
        return None
    return _viewer(row)


def list_users(warehouse: Warehouse) -> pl.DataFrame:
    """Every user, without password hashes."""
    with warehouse.read() as con:
        return con.sql(q("dash_users")).pl()


def _department_rows(warehouse: Warehouse) -> list[dict]:
    with warehouse.read() as con:
        return con.sql(q("dash_department_names")).pl().to_dicts()


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


# ---------------------------------------------------------------------------- cookie
def cookie_key(db_path: str | Path) -> str:
    """The secret that signs the sign-in cookie: made on first use, kept owner-only in
    ``<db>.cookie.key`` beside the warehouse (``*.key`` is gitignored)."""
    db_path = Path(db_path)
    path = db_path.with_name(db_path.name + ".cookie.key")
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    try:
        os.link(tmp, path)  # atomic: exactly one process's key wins
    except FileExistsError:
        key = path.read_text().strip()
    finally:
        tmp.unlink()
    return key


# ------------------------------------------------------------------------- streamlit
@st.cache_data(ttl=30, show_spinner=False, hash_funcs={Warehouse: lambda wh: str(wh.path)})
def _credentials(warehouse: Warehouse) -> dict:
    with warehouse.read() as con:
        rows = con.sql(q("dash_user_credentials")).pl().to_dicts()
    return {
        "usernames": {
            r["username"]: {
                "name": r["name"],
                "email": r["email"],
                "password": r["password_hash"],
                "roles": [r["role"]],
            }
            for r in rows
        }
    }


@st.cache_data(ttl=30, show_spinner=False, hash_funcs={Warehouse: lambda wh: str(wh.path)})
def _signed_in_viewer(warehouse: Warehouse, username: str | None) -> Viewer | None:
    # cached like every read, so a page still opens while a flow holds the warehouse
    return get_viewer(warehouse, username)


@st.cache_resource(show_spinner=False)
def _still_demo_password(password_hash: str) -> bool:
    return _password_matches(DEMO_PASSWORD, password_hash)


def _authenticator(warehouse: Warehouse, credentials: dict):
    import streamlit_authenticator as stauth

    # Authenticate mutates the credentials it is given: hand it a copy of the cached dict
    return stauth.Authenticate(
        copy.deepcopy(credentials),
        cookie_name=COOKIE_NAME,
        cookie_key=cookie_key(warehouse.path),
        cookie_expiry_days=COOKIE_DAYS,
        auto_hash=False,
    )


def _signed_in_by_cookie(warehouse: Warehouse, credentials: dict) -> bool:
    """Sign in from the "stay signed in" cookie without rendering the cookie component.

    The component's first message makes Streamlit re-run the script, which would lose a
    deep link (``/tracker``) on a reload; reading the signed cookie from the request keeps
    the page. Same cookie, key and checks as streamlit-authenticator's own."""
    import jwt

    if st.session_state.get("logout"):  # signed out in this browser session
        return False
    token = st.context.cookies.get(COOKIE_NAME)
    if not token:
        return False
    try:
        claims = jwt.decode(token, cookie_key(warehouse.path), algorithms=["HS256"])
    except jwt.PyJWTError:
        return False
    username = claims.get("username")
    user = credentials["usernames"].get(username)
    if user is None or float(claims.get("exp_date", 0)) <= time.time():
        return False
    st.session_state.update(
        authentication_status=True,
        username=username,
        name=user["name"],
        email=user["email"],
        roles=user["roles"],
        logout=None,
    )
    return True


def _request_sign_out() -> None:
    st.session_state["voc-sign-out"] = True


def _remember_sign_in(warehouse: Warehouse, username: str) -> None:
    """Make the signed cookie this browser will be kept signed in with (written by
    ``_sync_cookie``); the same token streamlit-authenticator writes and accepts."""
    import jwt

    expires = datetime.now() + timedelta(days=COOKIE_DAYS)
    token = jwt.encode(
        {"username": username, "exp_date": expires.timestamp()},
        cookie_key(warehouse.path),
        algorithm="HS256",
    )
    st.session_state["voc-cookie"] = {"value": token, "expires": expires}


def _sync_cookie() -> None:
    """Write (after a sign-in) or delete (after a sign-out) the browser's cookie.

    The cookie component stays on every run of such a session with the same arguments,
    so it runs exactly once in the browser whatever re-runs follow; a session signed in
    by an existing cookie never renders it (its first message would re-run the script
    and lose a deep link such as ``/tracker``)."""
    cookie = st.session_state.get("voc-cookie")
    delete = st.session_state.get("voc-cookie-delete")
    if not cookie and not delete:
        return
    import extra_streamlit_components as stx

    with st.sidebar:
        manager = stx.CookieManager(key="voc-cookie-manager")
        if cookie:
            manager.set(
                COOKIE_NAME, cookie["value"], key="voc-cookie-set", expires_at=cookie["expires"]
            )
        else:
            try:
                manager.delete(COOKIE_NAME, key="voc-cookie-delete")
            except KeyError:  # the component had not reported the browser's cookies yet
                pass


def _sign_out() -> None:
    """Forget who is signed in (the keys streamlit-authenticator keeps) and the cookie."""
    for name in ("name", "username", "authentication_status", "email", "roles", "viewer"):
        st.session_state[name] = None
    st.session_state["logout"] = True  # no signing back in from the cookie in this session
    st.session_state.pop("voc-cookie", None)
    st.session_state["voc-cookie-delete"] = True


def sign_in(warehouse: Warehouse) -> Viewer | None:
    """Render the sign-in form until someone signs in; then the signed-in ``Viewer``
    (also in ``st.session_state["viewer"]``) with a sign-out button in the sidebar."""
    credentials = _credentials(warehouse)
    if not credentials["usernames"]:
        st.title("voc — voice of the customer")
        st.info(
            "No one can sign in yet. Create the demo users with "
            "`python -m dashboard.auth demo` (or run `voc demo`), or add a user with "
            "`python -m dashboard.auth add USERNAME --role admin`."
        )
        return None
    if st.session_state.pop("voc-sign-out", False):
        _sign_out()
    _sync_cookie()
    if not st.session_state.get("authentication_status") and not _signed_in_by_cookie(
        warehouse, credentials
    ):
        _, middle, _ = st.columns([1, 2, 1])
        with middle:
            st.title("voc — voice of the customer")
            st.caption("What customers are telling you, who owns it, and whether the fix worked.")
            _authenticator(warehouse, credentials).login(
                location="main",
                key="voc-login",
                fields={
                    "Form name": "Sign in",
                    "Username": "Username",
                    "Password": "Password",
                    "Login": "Sign in",
                },
            )
            status = st.session_state.get("authentication_status")
            if status is False:
                st.error("That username and password do not match.")
            admin = credentials["usernames"].get("admin")
            if not status and admin and _still_demo_password(admin["password"]):
                st.info(
                    f"Demo sign-in: `admin`, `analyst` or a department head such as "
                    f"`head.network`, password `{DEMO_PASSWORD}`. Change these passwords "
                    "before you share this dashboard."
                )
        if not status:
            return None
        # start the signed-in page afresh, without the form above it
        st.session_state.pop("voc-cookie-delete", None)
        _remember_sign_in(warehouse, st.session_state["username"])
        st.rerun()
    viewer = _signed_in_viewer(warehouse, st.session_state.get("username"))
    if viewer is None:
        st.error("This account no longer exists; ask an admin.")
        st.button("Sign out", key="voc-sign-out-missing", on_click=_request_sign_out)
        return None
    st.session_state["viewer"] = viewer
    with st.sidebar:
        st.markdown(f"**{md(viewer.name)}**")
        st.caption(f"{md(viewer.username)} · {md(viewer.role_name)}")
        st.button(
            "Sign out", key="voc-logout", on_click=_request_sign_out, icon=":material/logout:"
        )
    return viewer


def current_viewer() -> Viewer:
    """The signed-in viewer, for pages (``app.py`` signs in before any page runs)."""
    viewer = st.session_state.get("viewer")
    if not isinstance(viewer, Viewer):
        # only when a page file was opened without the router (a fresh server resolving
        # a URL against pages/): go through the router and its sign-in
        try:
            st.switch_page("app.py")
        except st.errors.StreamlitAPIException:
            st.warning("Please sign in.")
            st.page_link("app.py", label="Sign in", icon=":material/login:")
        st.stop()
    return viewer


# ------------------------------------------------------------------------------- CLI
def main(argv: list[str] | None = None) -> int:
    import argparse
    import getpass

    from flows.config import load_settings

    parser = argparse.ArgumentParser(prog="python -m dashboard.auth", description=__doc__)
    parser.add_argument("--db", type=Path, default=None, help="warehouse (default: VOC_DB)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="create the demo users (admin, analyst, one head per department)")
    add = sub.add_parser("add", help="add a user (asks for the password)")
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, required=True)
    add.add_argument("--department")
    add.add_argument("--name", default="")
    add.add_argument("--email")
    passwd = sub.add_parser("passwd", help="set a user's password (asks for it)")
    passwd.add_argument("username")
    sub.add_parser("list", help="list users")
    args = parser.parse_args(argv)
    settings = load_settings(db=args.db)
    wh = Warehouse(settings.db, lock_timeout=settings.lock_timeout)
    try:
        if args.command == "demo":
            created = ensure_demo_users(wh)
            print(f"created {len(created)} user(s): {', '.join(created) or 'none'}")
            print(f"demo password: {DEMO_PASSWORD} (change it before sharing the dashboard)")
        elif args.command == "add":
            password = getpass.getpass(f"password for {args.username}: ")
            create_user(
                wh,
                args.username,
                args.name or args.username,
                args.role,
                password,
                department=args.department,
                email=args.email,
            )
            print(f"added {args.username} ({args.role})")
        elif args.command == "passwd":
            set_password(wh, args.username, getpass.getpass(f"new password for {args.username}: "))
            print(f"password changed for {args.username}")
        else:
            for row in list_users(wh).iter_rows(named=True):
                print(f"{row['username']:<28} {row['role']:<8} {row['department'] or ''}")
    except ValueError as exc:
        print(f"error: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
