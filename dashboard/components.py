"""Small layout pieces every page uses: a table with its CSV download, safe text, money,
empty states, and the save wrapper that turns a busy warehouse into a friendly message.

User text (labels, notes, verbatims, names) is never rendered as HTML: it goes through
``st.dataframe``, ``st.text``-like elements, or ``md()`` which escapes markdown."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

import polars as pl
import streamlit as st

from dashboard.data import EditRejected, WarehouseBusy, WarehouseError

# Every ASCII character that can start markdown, HTML or one of Streamlit's extensions:
# ``:red[…]`` and ``:help[…]`` directives, ``$…$`` LaTeX, ``===`` headings, and ``/``
# because Streamlit rewrites ``:material/`` in the source before parsing it.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=/])")
# Streamlit also rewrites some text after the escapes are resolved: ``:material_icon:``,
# ``:streamlit:`` (its logo) and arrows/dashes between spaces (``->`` becomes →). An
# invisible word joiner (U+2060) after the first character keeps them as typed.
_STREAMLIT_ICON = re.compile(r":(?=(?:material_[A-Za-z0-9_]+|streamlit):)")
_STREAMLIT_SYMBOL = re.compile(r"(?<!\S)(<->|->|<-|--|>=|<=|~=)(?=\s|$)")
WORD_JOINER = "\u2060"
CURRENCY = "£"


def md(text: object) -> str:
    """User text made inert in anything Streamlit renders as markdown (``st.markdown``,
    headers, captions, alerts, metric labels and values, widget labels, help texts):
    markdown, HTML and Streamlit's own extensions (colours, icons, LaTeX) show as typed."""
    text = "" if text is None else str(text)
    text = _STREAMLIT_ICON.sub(":" + WORD_JOINER, text)
    text = _STREAMLIT_SYMBOL.sub(lambda m: m[1][0] + WORD_JOINER + m[1][1:], text)
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def quote(text: str, source: str, limit: int = 600) -> None:
    """A customer's words as a block quote (escaped, every line quoted), then its source."""
    words = text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
    lines = [f"> {md(line)}" if line.strip() else ">" for line in words.splitlines()]
    st.markdown("\n".join([*lines, ">", f"> — *{md(source)}*"]))


def money(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{CURRENCY}{value:,.{digits}f}"


def cost_figure(value: float | None, uncosted: int | None = 0) -> str:
    """An estimated cost: "unknown" when no contact could be costed (the departments file
    gives no cost per contact), "… (partial)" when some could not: never unknown as 0."""
    if value is None:
        return "unknown"
    return money(value) + (" (partial)" if uncosted else "")


def known_total(rows: pl.DataFrame, column: str) -> float | None:
    """The sum of a cost column's known values; None when the rows have none (unknown is
    never summed as 0; say what is left out with ``cost_note``)."""
    known = rows[column].drop_nulls()
    return None if rows.height and known.len() == 0 else float(known.sum())


def cost_note(uncosted: int | None, what: str = "contacts") -> str:
    """Why a cost is unknown or partial, for a help text or caption ('' when complete)."""
    if not uncosted:
        return ""
    return (
        f"{uncosted:,} {what} have no cost per contact in the departments file: "
        "their cost is unknown and not included."
    )


def pct(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{100 * value:.{digits}f}%"


def when(value: datetime | date | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def csv_bytes(frame: pl.DataFrame) -> bytes:
    """CSV of ``frame``; list columns (keywords) become comma-separated text."""
    flat = frame.with_columns(
        [
            pl.col(name).cast(pl.List(pl.String)).list.join(", ")
            for name, dtype in frame.schema.items()
            if isinstance(dtype, pl.List)
        ]
    )
    return flat.write_csv().encode("utf-8")


def table(
    frame: pl.DataFrame,
    *,
    key: str,
    file_name: str,
    column_config: Mapping[str, Any] | None = None,
    columns: list[str] | None = None,
    height: int | str = "auto",
    download: pl.DataFrame | None = None,
) -> None:
    """A read-only table and a button that downloads it (or ``download``) as CSV."""
    shown = frame.select(columns) if columns else frame
    config = _date_columns(shown)
    config.update(column_config or {})
    st.dataframe(
        shown,
        hide_index=True,
        column_config=config,
        height=height,
        key=f"{key}-table",
    )
    download_button(download if download is not None else shown, key=key, file_name=file_name)


def _date_columns(frame: pl.DataFrame) -> dict[str, Any]:
    """Dates as dates (not midnight timestamps), times to the minute."""
    config: dict[str, Any] = {}
    for name, dtype in frame.schema.items():
        if dtype == pl.Date:
            config[name] = st.column_config.DateColumn(format="YYYY-MM-DD")
        elif isinstance(dtype, pl.Datetime):
            config[name] = st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")
    return config


def download_button(frame: pl.DataFrame, *, key: str, file_name: str, label: str = "") -> None:
    st.download_button(
        label or f"Download CSV ({frame.height:,} rows)",
        data=csv_bytes(frame),
        file_name=file_name,
        mime="text/csv",
        key=f"{key}-csv",
        on_click="ignore",
        icon=":material/download:",
    )


def empty(message: str) -> None:
    st.info(message, icon=":material/info:")


def no_review_yet() -> None:
    empty(
        "No weekly review yet: run `voc weekly` (or `voc demo` for the sample company) "
        "and this page fills in."
    )


def save(action: Callable[[], object], success: str) -> bool:
    """Run an edit with a spinner while it waits for the warehouse; report how it went.
    ``success`` is plain text (it may name a theme): ``flash`` shows it escaped.

    Never raises for the expected failures: a flow holding the warehouse past the lock
    timeout, an edit the rules refuse, or one the viewer may not make."""
    try:
        with st.spinner("Saving… (if the pipeline is writing, this waits for it)"):
            action()
    except WarehouseBusy:
        st.warning(
            "The pipeline is writing to the warehouse right now, so your change was not "
            "saved yet. Nothing was lost: try again in a minute.",
            icon=":material/hourglass_top:",
        )
        return False
    except EditRejected as exc:
        st.error(f"Not saved: {md(exc)}", icon=":material/block:")
        return False
    except WarehouseError as exc:  # disk full, file read-only: something to fix, not a bug
        st.error(f"Not saved: {md(exc)}", icon=":material/error:")
        return False
    except PermissionError as exc:
        st.error(f"Not allowed: {md(exc)}", icon=":material/lock:")
        return False
    st.session_state["voc-flash"] = success
    return True


def flash() -> None:
    """Show (once) the message a save left before the page re-ran, as plain text."""
    message = st.session_state.pop("voc-flash", None)
    if message:
        st.success(md(message), icon=":material/check_circle:")


def week_select(weeks: list[date], *, key: str, label: str = "Week") -> date:
    from dashboard.data import week_label

    return st.selectbox(
        label,
        weeks,
        index=0,
        format_func=lambda d: f"{week_label(d)} (from {d:%d %b %Y})",
        key=key,
    )
