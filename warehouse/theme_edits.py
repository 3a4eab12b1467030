"""The analyst's edits of the theme map at either level (#14): move a sub-theme, make a
new group, split a fine theme or a group. Merge and rename are ``core_tables.merge_themes`` and
``core_tables.rename_theme``, which speak both levels too.

The CLI (``voc themes move|split|merge|rename``) and the dashboard's theme explorer both
call these functions inside one ``Warehouse.write()`` transaction; they check the edit,
write it, stamp it with the caller's UTC time (``warehouse.clock``) and record it in
``theme_events`` (fields ``parent_id``, ``created``, ``split``, ``merged_into``,
``label``). Every later topic run, ``--refit`` included, keeps what they write: a moved
theme has ``parent_source='analyst'``, a theme made here has ``origin='analyst'``.

The rules:

* only fine themes move; they go under a live group, out to the top level on their own,
  or under a new group the analyst names; a group left without live members goes dormant;
* splitting a fine theme divides its contacts into two new fine themes by their vectors
  (k-means, k=2, seeded, on the contacts' embeddings of the model the theme was found
  with) or by a keyword the analyst gives (the contacts that say it, and the rest); the
  parts sit where the theme sat. A sub-theme that was split goes dormant; a lone top-level
  theme that was split becomes the group over its parts, so the top-level theme keeps its
  id (its weekly history, route and issue);
* splitting a group moves the sub-themes the analyst names (or, when none are named, the
  part k-means on the sub-themes' centres sets apart from the biggest) under a new group
  the analyst names; the group keeps the rest. Both sides' placements become the
  analyst's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb
import numpy as np
import polars as pl

from models import theme_split
from warehouse import edit_rules
from warehouse.core_tables import _registered, fetch_frame, next_theme_id, record_theme_event
from warehouse.sql import named_query

UNCLASSIFIED = 0
EXAMPLES = 3  # representative contacts stored per theme a split makes


class MapEditError(ValueError):
    """An edit of the theme map that cannot be made as asked; the message says why."""


def theme_level(con: duckdb.DuckDBPyConnection, theme_id: int) -> dict | None:
    """One theme with its place in the map (kind, parent, sources), or None."""
    rows = fetch_frame(con, named_query("theme_level"), {"theme_id": int(theme_id)}).to_dicts()
    return rows[0] if rows else None


def group_members(con: duckdb.DuckDBPyConnection, group_id: int) -> pl.DataFrame:
    """The fine themes under ``group_id`` that were not merged away, biggest first."""
    return fetch_frame(con, named_query("group_members"), {"group_id": int(group_id)})


def theme_tree(con: duckdb.DuckDBPyConnection, include_all: bool = False) -> pl.DataFrame:
    """Every top-level theme followed by its sub-themes (``depth`` 0 / 1), biggest first."""
    return fetch_frame(con, named_query("theme_tree"), {"include_all": include_all})


def theme_parent(con: duckdb.DuckDBPyConnection, theme_id: int) -> dict | None:
    """The top-level group over ``theme_id``, or None when it is top-level itself."""
    rows = fetch_frame(con, named_query("theme_parent"), {"theme_id": int(theme_id)}).to_dicts()
    return rows[0] if rows else None


def _theme(con, theme_id: int) -> dict:
    row = theme_level(con, theme_id)
    if row is None:
        raise KeyError(f"no theme {theme_id}")
    return row


def unique_label(con: duckdb.DuckDBPyConnection, label: object, theme_id: int = -1) -> str:
    """``label`` as stored (``edit_rules.label``), refused when another live theme carries
    it: no two live themes share a label."""
    label = edit_rules.label(label)
    taken = fetch_frame(
        con, named_query("label_holder"), {"label": label, "theme_id": int(theme_id)}
    )
    if taken.height:
        raise edit_rules.InvalidEdit(
            f"theme {taken['theme_id'][0]} is already called {label!r}; choose another label",
            "label",
        )
    return label


def _refresh_group(con, group_id: int | None, at: datetime) -> None:
    if group_id is not None:
        con.execute(named_query("refresh_group"), {"group_id": int(group_id), "at": at})


def _movable(con, theme_id: int) -> dict:
    theme = _theme(con, theme_id)
    if theme_id == UNCLASSIFIED:
        raise MapEditError("the Unclassified theme stays where it is")
    if theme["kind"] == "group":
        raise MapEditError(
            f"theme {theme_id} is a top-level group: groups do not move (merge it into "
            "another group, or split it)"
        )
    if theme["status"] == "merged":
        raise MapEditError(
            f"theme {theme_id} was merged into {theme['merged_into']}; move that one"
        )
    return theme


def _live_group(con, group_id: int) -> dict:
    group = _theme(con, group_id)
    if group["kind"] != "group":
        raise MapEditError(
            f"theme {group_id} is a fine theme, not a group: only a top-level group holds "
            "sub-themes (make a new group with both instead)"
        )
    if group["status"] != "active":
        raise MapEditError(f"group {group_id} is {group['status']}; choose a live group")
    return group


def move_theme(
    con: duckdb.DuckDBPyConnection,
    theme_id: int,
    parent_id: int | None,
    actor: str,
    at: datetime,
) -> None:
    """Put the fine theme ``theme_id`` under the group ``parent_id`` (None: out to the top
    level, on its own). Later runs keep it there; a group left empty goes dormant."""
    theme = _movable(con, theme_id)
    if parent_id is not None:
        _live_group(con, parent_id)
    if theme["parent_id"] == parent_id:
        where = "at the top level" if parent_id is None else f"under group {parent_id}"
        raise MapEditError(f"theme {theme_id} is already {where}")
    con.execute(
        named_query("set_theme_parent"), {"theme_id": theme_id, "parent_id": parent_id, "at": at}
    )
    _refresh_group(con, theme["parent_id"], at)
    _refresh_group(con, parent_id, at)
    record_theme_event(con, theme_id, actor, "parent_id", theme["parent_id"], parent_id, at)


def _centre_of(rows: pl.DataFrame) -> tuple[list[float] | None, str | None]:
    """The size-weighted centre of themes (rows with centroid, centroid_model, size) that
    share one model; None when they have no centroid."""
    usable = rows.filter(pl.col("centroid").is_not_null())
    if not usable.height:
        return None, None
    model = usable["centroid_model"][0]
    usable = usable.filter(pl.col("centroid_model") == model)
    vectors = np.stack([np.asarray(v, dtype=np.float32) for v in usable["centroid"]])
    weights = usable["size"].to_numpy().astype(np.float32)
    return theme_split.centre(vectors, weights).tolist(), model


def _insert_theme(con, *, theme_id: int, like_id: int, at: datetime, **values) -> None:
    row = {
        "theme_id": theme_id,
        "like_id": like_id,
        "at": at,
        "label_source": "analyst",
        "keywords": None,
        "parent_id": None,
        "parent_source": "analyst",
        "centroid": None,
        "centroid_model": None,
        "size": 0,
        "first_seen": None,
        "last_seen": None,
    }
    row.update(values)
    con.execute(named_query("insert_analyst_theme"), row)


def create_group(
    con: duckdb.DuckDBPyConnection,
    label: str,
    members: Sequence[int],
    actor: str,
    at: datetime,
) -> int:
    """A new top-level group named ``label`` holding the fine themes ``members`` (moved
    out of wherever they were). Its department and demand type start as those of the
    first member's top-level theme. Returns the new group's id."""
    members = list(dict.fromkeys(int(m) for m in members))
    if not members:
        raise MapEditError("a new group needs at least one theme to hold")
    themes = [_movable(con, m) for m in members]
    label = unique_label(con, label)
    first = themes[0]
    like = first["parent_id"] if first["parent_id"] is not None else first["theme_id"]
    rows = pl.DataFrame(
        {
            "centroid": [t["centroid"] for t in themes],
            "centroid_model": [t["centroid_model"] for t in themes],
            "size": [int(t["size"] or 0) for t in themes],
        },
        schema={
            "centroid": pl.List(pl.Float32),
            "centroid_model": pl.String,
            "size": pl.Int64,
        },
    )
    centroid, model = _centre_of(rows)
    group_id = next_theme_id(con)
    _insert_theme(
        con,
        theme_id=group_id,
        like_id=like,
        at=at,
        label=label,
        kind="group",
        centroid=centroid,
        centroid_model=model,
    )
    record_theme_event(con, group_id, actor, "created", None, f"group: {label}", at)
    for theme in themes:
        con.execute(
            named_query("set_theme_parent"),
            {"theme_id": theme["theme_id"], "parent_id": group_id, "at": at},
        )
        _refresh_group(con, theme["parent_id"], at)
        record_theme_event(
            con, theme["theme_id"], actor, "parent_id", theme["parent_id"], group_id, at
        )
    _refresh_group(con, group_id, at)
    return group_id


def merge_groups(
    con: duckdb.DuckDBPyConnection, keep: dict, absorbed: dict, actor: str, at: datetime
) -> list[int]:
    """The sub-themes of the group ``absorbed`` move under the group ``keep`` (their
    placement the analyst's); ``absorbed`` then counts as merged. Returns the moved ids.
    Called by ``core_tables.merge_themes`` once it has checked both themes."""
    if keep["kind"] != "group" or absorbed["kind"] != "group":
        raise MapEditError("merge_groups takes two groups")
    moved = group_members(con, absorbed["theme_id"])["theme_id"].to_list()
    for theme_id in moved:
        con.execute(
            named_query("set_theme_parent"),
            {"theme_id": theme_id, "parent_id": keep["theme_id"], "at": at},
        )
        record_theme_event(
            con, theme_id, actor, "parent_id", absorbed["theme_id"], keep["theme_id"], at
        )
    con.execute(
        named_query("merge_theme_into"),
        {"theme_id": absorbed["theme_id"], "into": keep["theme_id"], "at": at},
    )
    _refresh_group(con, keep["theme_id"], at)
    return moved


def refresh_after_fine_merge(
    con: duckdb.DuckDBPyConnection, keep: dict, absorbed: dict, at: datetime
) -> None:
    """After a fine theme's contacts moved into another: both groups' sizes, and the
    absorbed theme's group goes dormant if it has no live member left."""
    _refresh_group(con, absorbed["parent_id"], at)
    if keep["parent_id"] != absorbed["parent_id"]:
        _refresh_group(con, keep["parent_id"], at)


@dataclass(frozen=True)
class SplitResult:
    """What a split made: the two parts' ids (the first is the keyword's side, or the
    smaller cluster; for a group, the group that stays and the new one) and their sizes."""

    kept_id: int | None  # a group split: the group that kept its id
    part_ids: tuple[int, int]
    sizes: tuple[int, int]
    by: str  # 'vectors', 'keyword', 'named' or 'centroids'


def split_theme(
    con: duckdb.DuckDBPyConnection,
    theme_id: int,
    actor: str,
    at: datetime,
    *,
    keyword: str | None = None,
    labels: Sequence[str] | None = None,
    seed: int = theme_split.SEED,
) -> SplitResult:
    """Divide the fine theme ``theme_id``'s contacts into two new fine themes (by their
    vectors, or by ``keyword``), named ``labels`` (two, the keyword's side first) or after
    the words that set each part apart."""
    theme = _movable(con, theme_id)
    if theme["status"] != "active":
        raise MapEditError(f"theme {theme_id} is {theme['status']}: it has no contacts to split")
    if labels is not None and len(labels) not in (0, 2):
        raise MapEditError("a split takes two labels (one per part), or none")
    model = theme["centroid_model"]
    contacts = fetch_frame(
        con, named_query("theme_contacts"), {"theme_id": theme_id, "model": model}
    )
    if contacts.height < theme_split.MIN_CONTACTS:
        raise MapEditError(f"theme {theme_id} has {contacts.height} contact(s): too few to split")
    texts = contacts["text"].to_list()
    has_vectors = contacts["vector"].null_count() == 0 and model is not None
    vectors = (
        np.stack([np.asarray(v, dtype=np.float32) for v in contacts["vector"]])
        if has_vectors
        else None
    )
    first, by = _divide(theme_id, texts, vectors, keyword, seed)
    words = theme_split.distinctive_words(texts, first)
    names, label_source = _part_names(con, theme["label"], labels, words, keyword, by)

    becomes_group = theme["parent_id"] is None
    parent_id = theme_id if becomes_group else theme["parent_id"]
    parent_source = "analyst" if becomes_group else theme["parent_source"]
    ids: list[int] = []
    sizes: list[int] = []
    staged, examples = [], []
    for mask, name, kws in zip((first, ~first), names, words, strict=True):
        part = contacts.filter(pl.Series(mask))
        new_id, scores, picks = _add_part(
            con,
            part,
            vectors[mask] if vectors is not None else None,
            like_id=theme_id,
            at=at,
            label=name,
            label_source=label_source,
            keywords=kws or None,
            parent_id=parent_id,
            parent_source=parent_source,
            model=model,
        )
        staged.append(_part_scores(part, new_id, scores))
        examples += [
            {"theme_id": new_id, "rank": rank, "feedback_id": part["feedback_id"][i]}
            for rank, i in enumerate(picks, start=1)
        ]
        ids.append(new_id)
        sizes.append(part.height)
    _move_to_parts(con, theme_id, staged, examples)
    if becomes_group:
        con.execute(named_query("make_group"), {"theme_id": theme_id, "at": at})
    else:
        con.execute(named_query("retire_split_theme"), {"theme_id": theme_id, "at": at})
    _refresh_group(con, parent_id, at)
    detail = f"split by {by}" + (f" {keyword!r}" if by == "keyword" else "")
    _record_split_lineage(con, theme_id, ids, sizes, f"{detail} by {actor}", at)
    record_theme_event(con, theme_id, actor, "split", None, f"{ids[0]}, {ids[1]} ({detail})", at)
    return SplitResult(
        theme_id if becomes_group else None, (ids[0], ids[1]), (sizes[0], sizes[1]), by
    )


def _divide(
    theme_id: int,
    texts: list[str],
    vectors: np.ndarray | None,
    keyword: str | None,
    seed: int,
) -> tuple[np.ndarray, str]:
    """Which contacts go to the first part (by ``keyword`` when given, else by their
    vectors), and what divided them."""
    try:
        if keyword is not None and keyword.strip():
            return theme_split.split_by_keyword(texts, keyword), "keyword"
        if vectors is None:
            raise MapEditError(
                f"the contacts of theme {theme_id} have no vectors of its model; split by a keyword"
            )
        return theme_split.split_by_vectors(vectors, seed=seed), "vectors"
    except MapEditError:
        raise
    except ValueError as exc:
        raise MapEditError(str(exc)) from None


def _part_names(
    con: duckdb.DuckDBPyConnection,
    label: str,
    labels: Sequence[str] | None,
    words: Sequence[list[str]],
    keyword: str | None,
    by: str,
) -> tuple[list[str], str]:
    """The two parts' labels and who named them: the analyst's ``labels``, or the theme's
    label with the keyword or each part's distinctive words."""
    if labels:
        names = [unique_label(con, labels[0]), unique_label(con, labels[1])]
        if names[0].lower() == names[1].lower():
            raise edit_rules.InvalidEdit("the two parts need different labels", "label")
        return names, "analyst"
    names = [
        _part_label(label, w, keyword if by == "keyword" else None, i) for i, w in enumerate(words)
    ]
    names = [_free_label(con, n) for n in names]
    if names[0].lower() == names[1].lower():
        names[1] = _free_label(con, names[1] + " (2)")
    return names, "model"


def _add_part(
    con: duckdb.DuckDBPyConnection,
    part: pl.DataFrame,
    part_vectors: np.ndarray | None,
    *,
    like_id: int,
    at: datetime,
    label: str,
    label_source: str,
    keywords: list[str] | None,
    parent_id: int,
    parent_source: str,
    model: str | None,
) -> tuple[int, np.ndarray, list[int]]:
    """Insert one part of a split as a new fine theme: its id, its contacts' scores and
    the rows of its examples."""
    new_id = next_theme_id(con)
    if part_vectors is not None:
        cent = theme_split.centre(part_vectors)
        scores = (theme_split.normalise(part_vectors) @ cent).astype(np.float64)
        picks = theme_split.representative(part_vectors, EXAMPLES)
        centroid = cent.tolist()
    else:
        scores = part["score"].to_numpy().astype(np.float64)
        picks = list(range(min(EXAMPLES, part.height)))
        centroid = None
    _insert_theme(
        con,
        theme_id=new_id,
        like_id=like_id,
        at=at,
        label=label,
        label_source=label_source,
        keywords=keywords,
        kind="fine",
        parent_id=parent_id,
        parent_source=parent_source,
        centroid=centroid,
        centroid_model=model if centroid is not None else None,
        size=part.height,
        first_seen=part["received_at"].min(),
        last_seen=part["received_at"].max(),
    )
    return new_id, scores, picks


def _move_to_parts(
    con: duckdb.DuckDBPyConnection,
    theme_id: int,
    staged: list[pl.DataFrame],
    examples: list[dict],
) -> None:
    """Move the split theme's contacts to its parts; the parts' examples replace its own."""
    with _registered(con, staged_split=pl.concat(staged)):
        con.execute(named_query("move_split_contacts"))
    with _registered(
        con,
        staged_edit_examples=pl.DataFrame(
            examples, schema={"theme_id": pl.Int32, "rank": pl.Int32, "feedback_id": pl.String}
        ),
    ):
        con.execute(named_query("insert_edit_examples"))
    con.execute(named_query("clear_theme_examples"), {"theme_id": theme_id})


def _part_scores(part: pl.DataFrame, new_id: int, scores: np.ndarray) -> pl.DataFrame:
    """A part's contacts staged for their move to the new theme ``new_id``."""
    return pl.DataFrame(
        {"feedback_id": part["feedback_id"], "theme_id": new_id, "score": scores},
        schema={"feedback_id": pl.String, "theme_id": pl.Int32, "score": pl.Float64},
    )


def _record_split_lineage(
    con: duckdb.DuckDBPyConnection,
    theme_id: int,
    ids: list[int],
    sizes: list[int],
    detail: str,
    at: datetime,
) -> None:
    """One lineage row per new part: split off ``theme_id``, with its size."""
    for new_id, size in zip(ids, sizes, strict=True):
        con.execute(
            named_query("record_edit_lineage"),
            {
                "at": at,
                "event": "split",
                "theme_id": new_id,
                "related_theme_id": theme_id,
                "detail": f"{detail}: {size} contact(s)",
            },
        )


def _part_label(label: str, words: list[str], keyword: str | None, side: int) -> str:
    if keyword is not None:
        tail = keyword.strip() if side == 0 else f"not {keyword.strip()}"
    else:
        tail = ", ".join(words[:2]) if words else f"part {side + 1}"
    return edit_rules.label(f"{label[: edit_rules.MAX_LABEL - len(tail) - 3]}: {tail}")


def _free_label(con, label: str) -> str:
    """``label``, or ``label (2)``, ``(3)``... where a live theme carries it already."""
    candidate, n = label, 1
    while fetch_frame(
        con, named_query("label_holder"), {"label": candidate, "theme_id": -1}
    ).height:
        n += 1
        suffix = f" ({n})"
        candidate = label[: edit_rules.MAX_LABEL - len(suffix)] + suffix
    return candidate


def _leaving(
    group_id: int,
    members: pl.DataFrame,
    ids: list[int],
    going: Sequence[int] | None,
    seed: int,
) -> tuple[np.ndarray, str]:
    """Which of the group's sub-themes (``ids``, rows of ``members``) leave it: the ones in
    ``going``, or the part k-means on their centres sets apart; and how they were chosen."""
    if going:
        going = list(dict.fromkeys(int(t) for t in going))
        strangers = [t for t in going if t not in ids]
        if strangers:
            raise MapEditError(
                f"theme(s) {', '.join(map(str, strangers))} are not live sub-themes of group {group_id}"
            )
        if len(going) == len(ids):
            raise MapEditError("every sub-theme would go: at least one must stay with the group")
        return np.isin(ids, going), "named"
    models = members["centroid_model"].drop_nulls().unique()
    usable = members.filter(
        pl.col("centroid").is_not_null() & pl.col("centroid_model").is_in(models.to_list())
    )
    if models.len() != 1 or usable.height != members.height:
        raise MapEditError("the sub-themes have no common centres: name the ones that go")
    try:
        leaving = theme_split.split_groups_by_centroid(
            np.stack([np.asarray(v, dtype=np.float32) for v in members["centroid"]]),
            members["size"].to_numpy(),
            seed=seed,
        )
    except ValueError as exc:
        raise MapEditError(str(exc)) from None
    return leaving, "centroids"


def split_group(
    con: duckdb.DuckDBPyConnection,
    group_id: int,
    label: str,
    actor: str,
    at: datetime,
    *,
    going: Sequence[int] | None = None,
    seed: int = theme_split.SEED,
) -> SplitResult:
    """Divide the group ``group_id``'s sub-themes in two: those in ``going`` (or, when
    none are named, the part k-means on their centres sets apart from the biggest) move
    under a new group named ``label``; the group keeps the rest."""
    _live_group(con, group_id)
    members = group_members(con, group_id).filter(pl.col("status") == "active")
    if members.height < 2:
        raise MapEditError(f"group {group_id} has {members.height} sub-theme(s): too few to split")
    ids = [int(t) for t in members["theme_id"]]
    leaving, by = _leaving(group_id, members, ids, going, seed)
    label = unique_label(con, label)
    going_ids = [t for t, g in zip(ids, leaving, strict=True) if g]
    staying_ids = [t for t, g in zip(ids, leaving, strict=True) if not g]
    centroid, model = _centre_of(members.filter(pl.Series(leaving)))
    new_id = next_theme_id(con)
    _insert_theme(
        con,
        theme_id=new_id,
        like_id=group_id,
        at=at,
        label=label,
        kind="group",
        centroid=centroid,
        centroid_model=model,
    )
    for theme_id in going_ids:
        con.execute(
            named_query("set_theme_parent"), {"theme_id": theme_id, "parent_id": new_id, "at": at}
        )
        record_theme_event(con, theme_id, actor, "parent_id", group_id, new_id, at)
    for theme_id in staying_ids:  # the analyst decided these belong here: later runs keep it
        con.execute(named_query("pin_theme_parent"), {"theme_id": theme_id, "at": at})
    _refresh_group(con, group_id, at)
    _refresh_group(con, new_id, at)
    con.execute(
        named_query("record_edit_lineage"),
        {
            "at": at,
            "event": "split",
            "theme_id": new_id,
            "related_theme_id": group_id,
            "detail": f"group split ({by}) by {actor}: sub-themes {', '.join(map(str, going_ids))}",
        },
    )
    record_theme_event(con, new_id, actor, "created", None, f"group: {label}", at)
    record_theme_event(
        con,
        group_id,
        actor,
        "split",
        None,
        f"{new_id} ({by}: {', '.join(map(str, going_ids))})",
        at,
    )
    sizes = (
        int(members.filter(pl.Series(~leaving))["size"].sum()),
        int(members.filter(pl.Series(leaving))["size"].sum()),
    )
    return SplitResult(group_id, (group_id, new_id), sizes, by)
