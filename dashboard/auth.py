"""Signing in to the dashboard: the sign-in form, the "stay signed in" cookie, and the
signed-in ``Viewer`` for the pages.

Users, roles and bcrypt hashes live in the one user store, ``warehouse.users`` (also
behind ``voc users``); this module adds only what needs Streamlit. The key that signs
the "stay signed in" cookie is made on first use and kept beside the warehouse in
``<db>.cookie.key`` (owner-only, gitignored), never in the repository or a log.
"""

from __future__ import annotations

import copy
import os
import secrets
import time
from datetime import datetime, timedelta
from pathlib import Path

import streamlit as st

from dashboard.components import md
from warehouse import Warehouse
from warehouse.users import DEMO_PASSWORD, Viewer, get_viewer, password_matches
from warehouse.users import credentials as user_credentials

__all__ = ["DEMO_PASSWORD", "COOKIE_NAME", "cookie_key", "sign_in", "current_viewer"]

COOKIE_NAME = "voc_auth"
COOKIE_DAYS = 7


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
    rows = user_credentials(warehouse)
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
    return password_matches(DEMO_PASSWORD, password_hash)


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
            "`voc users demo` (or run `voc demo`), or add a user with "
            "`voc users add USERNAME --role admin`."
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
