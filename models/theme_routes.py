"""The weekly review's routing step, on frames: which department owns each top-level theme
and its demand type, and which department owns each contact. The ``Router`` (routing.py)
and ``classify_theme`` (demand.py) decide; this module applies them to the warehouse's
rows and keeps what analysts chose. No warehouse, no Prefect: flows/weekly.py reads the
rows and writes the result.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import polars as pl

from warehouse.contract import TRIAGE_SOURCE

THEME_ROUTE_SCHEMA = {
    "theme_id": pl.Int32,
    "department": pl.String,
    "confidence": pl.Float64,
    "source": pl.String,
    "best_guess": pl.String,
    "demand_type": pl.String,
    "demand_subtype": pl.String,
    "demand_reason": pl.String,
}
ITEM_ROUTE_SCHEMA = {
    "feedback_id": pl.String,
    "department": pl.String,
    "confidence": pl.Float64,
    "source": pl.String,
}
SCORE_SCHEMA = {
    "feedback_id": pl.String,
    "best_guess": pl.String,
    "confidence": pl.Float64,
    "margin": pl.Float64,
}
SCORE_CHUNK = 20_000  # items scored at a time (bounds the memory of a big backlog)


@dataclass
class Routing:
    # theme_id, department, confidence, source, best_guess, demand_type, demand_subtype,
    # demand_reason, demand_source (THEME_ROUTE_SCHEMA and the analysts' choices)
    themes: pl.DataFrame
    items: pl.DataFrame  # ITEM_ROUTE_SCHEMA: feedback_id, department, confidence, source
    router_version: str = ""
    # items scored for the first time under this router version (to cache)
    new_scores: pl.DataFrame | None = None


def no_routing() -> Routing:
    """The routing of a warehouse with no themes yet."""
    return Routing(pl.DataFrame(schema=THEME_ROUTE_SCHEMA), pl.DataFrame(schema=ITEM_ROUTE_SCHEMA))


def vectors_of(column: pl.Series) -> np.ndarray:
    """A list column of equal-length vectors as one float32 matrix."""
    if column.len() == 0:
        return np.zeros((0, 0), dtype=np.float32)
    return column.list.to_array(len(column[0])).to_numpy().astype(np.float32, copy=False)


def router_version(org, embedder_name: str, examples: pl.DataFrame) -> str:
    """Changes whenever an item's own route could: departments, model, analyst examples."""
    h = hashlib.sha256(f"{org.fingerprint}\x1f{embedder_name}".encode())
    for row in examples.iter_rows():
        h.update("\x1f".join(str(v) for v in row).encode())
    return h.hexdigest()[:16]


def route_themes(router, themes: pl.DataFrame, samples: pl.DataFrame) -> pl.DataFrame:
    """A department (None: triage, with routing's best guess kept) and a demand type for
    each theme (``themes``: theme_id, label, keywords), from its label, keywords and
    typical texts with their vectors (``samples``: theme_id, text, vector)."""
    from models.demand import classify_theme

    by_theme = {t: g for (t,), g in samples.group_by("theme_id", maintain_order=True)}
    rows = []
    for theme in themes.iter_rows(named=True):
        group = by_theme.get(theme["theme_id"])
        texts = group["text"].to_list() if group is not None else []
        vectors = vectors_of(group["vector"]) if group is not None else None
        route = router.route_theme(theme["label"], theme["keywords"] or [], texts, vectors)
        verdict = classify_theme(theme["label"], theme["keywords"] or [], texts)
        rows.append(
            {
                "theme_id": theme["theme_id"],
                "department": route.department,
                "confidence": float(route.confidence),
                "source": "model" if route.department else TRIAGE_SOURCE,
                "best_guess": route.best_guess,
                "demand_type": verdict.demand_type
                if verdict.demand_type in ("failure", "value")
                else None,
                "demand_subtype": verdict.sub_kind,
                "demand_reason": verdict.reason,
            }
        )
    return pl.DataFrame(rows, schema=THEME_ROUTE_SCHEMA)


def keep_analyst_choices(routes: pl.DataFrame, themes: pl.DataFrame) -> pl.DataFrame:
    """The model's routes, except where an analyst chose the department or the demand
    type (``themes``: the stored department_*, demand_* columns): their choice stands."""
    stored = themes.select(
        "theme_id",
        "department",
        "department_confidence",
        "department_source",
        "demand_type",
        "demand_subtype",
        "demand_source",
    )
    by_analyst = pl.col("department_source") == "analyst"
    demand_by_analyst = pl.col("demand_source") == "analyst"
    return routes.join(stored, on="theme_id", how="left", suffix="_stored").select(
        "theme_id",
        pl.when(by_analyst)
        .then(pl.col("department_stored"))
        .otherwise(pl.col("department"))
        .alias("department"),
        pl.when(by_analyst)
        .then(pl.col("department_confidence"))
        .otherwise(pl.col("confidence"))
        .alias("confidence"),
        pl.when(by_analyst).then(pl.lit("analyst")).otherwise(pl.col("source")).alias("source"),
        "best_guess",
        pl.when(demand_by_analyst)
        .then(pl.col("demand_type_stored"))
        .otherwise(pl.col("demand_type"))
        .alias("demand_type"),
        pl.when(demand_by_analyst)
        .then(pl.col("demand_subtype_stored"))
        .otherwise(pl.col("demand_subtype"))
        .alias("demand_subtype"),
        "demand_reason",
        pl.col("demand_source").fill_null("model").alias("demand_source"),
    )


def score_items(router, todo: pl.DataFrame) -> pl.DataFrame:
    """Each item's own route scores (``todo``: feedback_id, text, vector), in chunks."""
    parts = []
    for start in range(0, todo.height, SCORE_CHUNK):
        chunk = todo.slice(start, SCORE_CHUNK)
        scores = router.score_texts(chunk["text"].to_list(), vectors_of(chunk["vector"]))
        parts.append(
            pl.DataFrame(
                {
                    "feedback_id": chunk["feedback_id"],
                    "best_guess": list(scores.best_guess),
                    "confidence": np.asarray(scores.confidence, dtype=float),
                    "margin": np.asarray(scores.margin, dtype=float),
                },
                schema=SCORE_SCHEMA,
            )
        )
    return pl.concat(parts) if parts else pl.DataFrame(schema=SCORE_SCHEMA)


def item_scores(
    top_themes: pl.DataFrame, cached: pl.DataFrame, new_scores: pl.DataFrame
) -> pl.DataFrame:
    """Each themed item (``top_themes``: feedback_id and its top-level theme_id) with its
    route scores: cached ones, or new ones where an item was scored this run."""
    scored = pl.concat([cached.drop("theme_id"), new_scores]).unique("feedback_id", keep="last")
    return top_themes.join(scored, on="feedback_id", how="inner")


def decide_item_departments(
    items: pl.DataFrame, theme_routes: pl.DataFrame, team_language: str | None = None
) -> pl.DataFrame:
    """Each item keeps its theme's department unless it routes clearly elsewhere itself.

    An item written in another language than ``team_language`` (its ``language`` column;
    'und' counts as the team's) always follows its theme: its theme was found by meaning
    across languages (models/crosslingual.py), while its own route reads it with the
    team language's embedder and keywords, which misread it (on the demo 1 of the 4
    non-English contacts that routed "clearly" on their own went to the right place)."""
    from models.crosslingual import UNDETERMINED
    from models.routing import item_departments

    if items.height == 0:
        return pl.DataFrame(schema=ITEM_ROUTE_SCHEMA)
    if team_language and "language" in items.columns:
        foreign = pl.col("language").is_not_null() & ~pl.col("language").is_in(
            [team_language, UNDETERMINED]
        )
        items = items.with_columns(
            pl.when(foreign).then(0.0).otherwise(pl.col("confidence")).alias("confidence")
        )
    themes = theme_routes.select(
        "theme_id",
        pl.col("department").alias("theme_department"),
        pl.col("confidence").alias("theme_confidence"),
    )
    frame = items.with_columns(pl.col("theme_id").cast(pl.Int32)).join(
        themes, on="theme_id", how="left"
    )
    departments, sources = item_departments(
        frame["theme_department"].to_numpy(),
        frame["best_guess"].to_numpy(),
        frame["confidence"].fill_null(0.0).to_numpy(),
        frame["margin"].fill_null(0.0).to_numpy(),
    )
    confidence = np.where(
        sources == "item",
        frame["confidence"].fill_null(0.0).to_numpy(),
        frame["theme_confidence"].fill_null(0.0).to_numpy(),
    )
    return pl.DataFrame(
        {
            "feedback_id": frame["feedback_id"],
            "department": list(departments),
            "confidence": confidence.astype(float),
            "source": list(sources),
        },
        schema=ITEM_ROUTE_SCHEMA,
    )
