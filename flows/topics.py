"""The topics flow: embed what is new, find themes, keep their ids, write them in one go.

1. ``embed_new``: feedback without a vector for the chosen model is embedded (identical
   texts once) and cached in DuckDB, a chunk per short transaction, so an interrupted run
   keeps what it embedded and a re-run embeds nothing twice;
2. ``find_themes``: BERTopic over the cached vectors (no connection is held meanwhile);
   the theme registry maps the clusters onto the known theme ids;
3. ``write_themes``: themes, assignments, examples and lineage in one transaction.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.config import Settings, load_settings
from flows.runtime import crash_point, prefect_server_ready, progress, run_logger
from warehouse import Warehouse, repo
from warehouse.clock import utc_now

EMBED_CHUNK = 2048
EDIT_RETRIES = 3  # topic runs computed again when an analyst edits the themes meanwhile


def make_embedder(kind: str, settings: Settings):
    from models.embeddings import get_embedder

    if kind == "tfidf":  # fitted on this warehouse's texts: kept beside it
        return get_embedder(kind, model_dir=settings.db.parent / "models")
    return get_embedder(
        kind, model_dir=settings.resolved_model_cache, backend=settings.embed_backend
    )


def settle_kind(kind: str, last_embedder: str | None, machine_kind: str) -> str:
    """A warehouse keeps the MiniLM vectors it has where they are right on this machine.

    Plain ``minilm`` means the precision of the last theme run when that was MiniLM: a
    warehouse themed on float vectors is not re-embedded and its themes keep matching; one
    themed on int8 vectors keeps them where the int8 network passed its check on this
    machine (``machine_kind``, what plain ``minilm`` runs here, is ``minilm-int8``), and
    moves to float vectors where it did not. ``minilm-int8`` or ``minilm-fp32`` ask for
    one explicitly."""
    from models.embeddings import kind_for_name

    if kind != "minilm" or not last_embedder:
        return kind
    try:
        settled = kind_for_name(last_embedder)
    except ValueError:
        return kind
    if settled == "minilm-int8" and machine_kind != "minilm-int8":
        return kind
    return settled if settled.startswith("minilm") else kind


@dataclass
class TopicSummary:
    run_id: str | None
    embedded: int
    items: int
    themes: int = 0
    new_themes: int = 0
    matched_themes: int = 0
    unclassified_share: float = 0.0
    skipped: bool = False
    seconds: float = 0.0
    events: list[str] = field(default_factory=list)
    network: str = ""  # which embedding network ran, and why
    top_level: int = 0  # top-level themes over the fine ones


@task(retries=1, retry_delay_seconds=2, cache_policy=NO_CACHE)
def embed_new(db: str, embedder_kind: str) -> int:
    """Embed every feedback item that has no vector for this model yet."""
    logger = run_logger()
    settings = load_settings(db=Path(db))
    warehouse = Warehouse(settings.db, lock_timeout=settings.lock_timeout)
    embedder = make_embedder(embedder_kind, settings)
    if embedder_kind == "tfidf" and not embedder.fitted:
        with warehouse.read() as con:
            corpus = con.sql("SELECT text FROM feedback").pl()["text"].to_list()
        if len(corpus) < 10:
            return 0
        embedder.fit(corpus)
    with warehouse.read() as con:
        todo = repo.feedback_needing_embedding(con, embedder.name)
    if todo.height == 0:
        logger.info("embeddings: nothing new for %s", embedder.name)
        return 0
    # identical texts (a "Great service" answered a hundred times) are embedded once
    unique = todo.select("text").unique(maintain_order=True)
    logger.info(
        "embeddings: %d new item(s), %d distinct text(s), model %s",
        todo.height,
        unique.height,
        embedder.name,
    )
    progress.start("embedding", todo.height)
    done = 0
    for start in range(0, unique.height, EMBED_CHUNK):
        texts = unique["text"].slice(start, EMBED_CHUNK)
        vectors = embedder.encode(texts.to_list())
        chunk = pl.DataFrame(
            {"text": texts, "vector": list(vectors)},
            schema={"text": pl.String, "vector": pl.List(pl.Float32)},
        )
        rows = todo.join(chunk, on="text", how="inner")
        with warehouse.write() as con:
            repo.store_embeddings(
                con, embedder.name, rows["feedback_id"].to_list(), rows["vector"], utc_now()
            )
        crash_point("topics.embedded-chunk")
        done += rows.height
        progress.advance("embedding", rows.height)
        logger.info("embeddings: %d/%d", done, todo.height)
    progress.done("embedding")
    return done


@dataclass
class ThemeResult:
    run_id: str
    themes: pl.DataFrame
    assignments: pl.DataFrame
    examples: pl.DataFrame
    lineage: pl.DataFrame
    unclassified: int
    items: int
    new_themes: int
    matched_themes: int
    params: dict
    events: list[str]
    fine_themes: int = 0
    top_level: int = 0


@task(cache_policy=NO_CACHE)
def find_themes(
    db: str,
    embedder_kind: str,
    embedder_name: str,
    max_fit: int,
    seed: int,
    run_id: str,
    refit: bool = False,
) -> ThemeResult | None:
    """Themes for every item (no writes). With known themes, items keep theirs, new items
    join the theme they clearly belong to and only the rest is clustered into new themes;
    with none (or ``refit``), BERTopic fits from scratch and the registry matches its
    clusters to the known themes, recording splits and merges."""
    from models.hierarchy import map_from_rows, top_level_of
    from models.registry import UNCLASSIFIED, KnownTheme, LineageEvent, match_clusters, resolve
    from models.topics import (
        assign_incrementally,
        centroids_of,
        describe_themes,
        disambiguate,
        fit_themes,
        representative,
        sentence_labels,
    )

    logger = run_logger()
    settings = load_settings(db=Path(db))
    warehouse = Warehouse(settings.db, lock_timeout=settings.lock_timeout)
    with warehouse.read() as con:
        corpus = repo.corpus_for_topics(con, embedder_name)
        embeddings = repo.corpus_vectors(con, embedder_name, corpus.height)
        previous = repo.current_assignments(con)
        known = repo.known_themes(con)
        next_id = repo.next_theme_id(con)
        last_run = repo.last_topic_run(con)
    last_params = json.loads(last_run["params"]) if last_run and last_run["params"] else None
    if corpus.height < 10:
        logger.warning("only %d item(s) with vectors: too few to find themes", corpus.height)
        return None
    texts = corpus["text"].to_list()
    embedder = make_embedder(embedder_kind, settings)

    registry = {}
    for row in known.iter_rows(named=True):
        if row["theme_id"] == UNCLASSIFIED or row["kind"] == "group":
            continue  # the registry keeps fine themes; the map keeps the groups over them
        usable = row["centroid"] is not None and row["centroid_model"] == embedder_name
        centroid = (
            np.asarray(row["centroid"], dtype=np.float32)
            if usable
            else np.zeros(embeddings.shape[1], dtype=np.float32)
        )
        registry[int(row["theme_id"])] = KnownTheme(
            int(row["theme_id"]),
            centroid,
            int(row["size"] or 0),
            row["merged_into"] if row["status"] == "merged" else None,
        )
    prev_raw = (
        corpus.select("feedback_id")
        .join(previous, on="feedback_id", how="left", maintain_order="left")["theme_id"]
        .fill_null(-1)
        .to_numpy()
    )
    prev = np.array([resolve(int(t), registry) if t > 0 else int(t) for t in prev_raw])
    live = {
        t: k.centroid
        for t, k in registry.items()
        if k.merged_into is None and np.any(k.centroid) and (prev == t).any()
    }
    events: list[LineageEvent] = []

    if live and not refit:
        logger.info(
            "themes: %d known theme(s); placing %d item(s) without a theme",
            len(live),
            int((~np.isin(prev, list(live))).sum()),
        )
        inc = assign_incrementally(texts, embeddings, prev, live, next_id, seed=seed)
        theme_of, similarity, params = inc.theme_of, inc.similarity, inc.params
        events += [
            LineageEvent("created", t, None, None, "new cluster among items no theme fitted")
            for t in inc.new_themes
        ]
        new_ids = inc.new_themes
    else:
        logger.info("themes: fitting on %d item(s) (sample of at most %d)", len(texts), max_fit)
        fit = fit_themes(texts, embeddings, seed=seed, max_fit=max_fit)
        match = match_clusters(fit.labels, embeddings, prev, list(registry.values()), next_id)
        theme_of = np.array(
            [
                match.cluster_to_theme.get(int(c), UNCLASSIFIED) if c >= 0 else UNCLASSIFIED
                for c in fit.labels
            ]
        )
        similarity, params = fit.similarity, fit.params
        events += match.events
        new_ids = match.new_theme_ids
    theme_of = theme_of.astype(np.int64)
    if refit:  # the contacts of themes an analyst made by hand stay in them
        by_hand = [int(t) for t in known.filter(pl.col("origin") == "analyst")["theme_id"]]
        keep = np.isin(prev, by_hand)
        theme_of[keep] = prev[keep]
    cents = centroids_of(embeddings, np.where(theme_of > 0, theme_of, -1))
    # a theme's score for an item is its similarity to the theme's centre as it is now
    for t, centre in cents.items():
        members = theme_of == t
        similarity[members] = embeddings[members] @ centre

    # the theme map: each fine theme under a top-level theme (built on a warehouse's first
    # map and on a refit; kept, with new themes placed, otherwise)
    had_map = last_params is not None and "map" in last_params
    theme_map = map_from_rows(
        known.to_dicts(),
        theme_of,
        embeddings,
        cents,
        new_ids,
        max([next_id, *[t + 1 for t in new_ids]]),
        rebuild=refit or not had_map,
        seed=seed,
    )
    params["map"] = theme_map.params
    events += theme_map.events
    top = top_level_of(theme_of, theme_map)
    group_cents = {
        g: c
        for g, c in centroids_of(embeddings, np.where(top > 0, top, -1)).items()
        if g in theme_map.groups
    }
    group_sim = np.zeros(len(texts), dtype=np.float32)
    for g, centre in group_cents.items():
        rows = top == g
        group_sim[rows] = embeddings[rows] @ centre

    keywords, names = describe_themes(texts, theme_of, similarity)
    group_keywords, group_names = describe_themes(
        texts, np.where(np.isin(top, list(theme_map.groups)), top, 0), group_sim
    )
    # a theme keeps its name from run to run; only new themes (or a refit) are named afresh
    stored = {int(r["theme_id"]): r["label"] for r in known.iter_rows(named=True)}
    analyst = {
        int(r["theme_id"]) for r in known.iter_rows(named=True) if r["label_source"] == "analyst"
    }
    new_groups = set(theme_map.new_groups)
    alive = set(cents) | set(group_cents)
    kept = {
        t: stored[t]
        for t in alive
        if t in stored
        and (t in analyst or (not refit and t not in new_ids and t not in new_groups))
    }
    to_name = sorted(t for t in alive if t not in kept)
    members_of = {}
    for t in to_name:
        level, score, centre = (
            (top, group_sim, group_cents) if t in group_cents else (theme_of, similarity, cents)
        )
        rows = np.flatnonzero(level == t)
        members_of[t] = rows[np.argsort(-score[rows])]
    sentences = sentence_labels(texts, members_of, {**cents, **group_cents}, embedder.encode)
    # a fresh name never repeats a label another theme keeps (this run's or a dormant one's);
    # top-level themes are named first, so they keep the plain phrase
    taken = [label for t, label in stored.items() if t in kept or t not in alive]
    fresh = disambiguate(
        {
            g: sentences.get(g, group_names.get(g, f"theme {g}"))
            for g in to_name
            if g in group_cents
        },
        group_keywords,
        taken=taken,
    )
    fresh |= disambiguate(
        {t: sentences.get(t, names.get(t, f"theme {t}")) for t in to_name if t in cents},
        keywords,
        taken=taken + list(fresh.values()),
    )
    received = corpus["received_at"]
    theme_rows, example_rows = [], []
    levels = [(t, theme_of, cents, keywords) for t in sorted(cents)] + [
        (g, top, group_cents, group_keywords) for g in sorted(group_cents)
    ]
    for theme_id, level, centres, words in levels:
        members = np.flatnonzero(level == theme_id)
        dates = received.gather(members)
        theme_rows.append(
            {
                "theme_id": theme_id,
                "label": kept[theme_id] if theme_id in kept else fresh[theme_id],
                "keywords": words.get(theme_id, []),
                "centroid": centres[theme_id].tolist(),
                "size": len(members),
                "first_seen": dates.min(),
                "last_seen": dates.max(),
                "parent_id": None if level is top else theme_map.parent_of.get(theme_id),
                "kind": "group" if level is top else "fine",
            }
        )
        for rank, local in enumerate(
            representative(embeddings[members], centres[theme_id], k=3), start=1
        ):
            example_rows.append(
                {
                    "theme_id": theme_id,
                    "rank": rank,
                    "feedback_id": corpus["feedback_id"][int(members[local])],
                }
            )
    themes = pl.DataFrame(
        theme_rows,
        schema={
            "theme_id": pl.Int32,
            "label": pl.String,
            "keywords": pl.List(pl.String),
            "centroid": pl.List(pl.Float32),
            "size": pl.Int64,
            "first_seen": pl.Datetime("us"),
            "last_seen": pl.Datetime("us"),
            "parent_id": pl.Int32,
            "kind": pl.String,
        },
    )
    assignments = pl.DataFrame(
        {
            "feedback_id": corpus["feedback_id"],
            "theme_id": theme_of.astype(np.int32),
            "score": similarity.astype(np.float64),
        }
    )
    examples = pl.DataFrame(
        example_rows, schema={"theme_id": pl.Int32, "rank": pl.Int32, "feedback_id": pl.String}
    )
    lineage = pl.DataFrame(
        [
            {
                "event": e.event,
                "theme_id": e.theme_id,
                "related_theme_id": e.related_theme_id,
                "similarity": e.similarity,
                "detail": e.detail,
            }
            for e in events
        ],
        schema={
            "event": pl.String,
            "theme_id": pl.Int32,
            "related_theme_id": pl.Int32,
            "similarity": pl.Float64,
            "detail": pl.String,
        },
    )
    unclassified = int((theme_of == UNCLASSIFIED).sum())
    kept_ids = len(set(cents) - set(new_ids))
    notes = [
        f"{e.event} theme {e.theme_id}" + (f" ({e.detail})" if e.detail else "")
        for e in events
        if e.event in ("split", "merged")
    ]
    return ThemeResult(
        run_id,
        themes,
        assignments,
        examples,
        lineage,
        unclassified,
        len(texts),
        len(new_ids),
        kept_ids,
        params,
        notes,
        fine_themes=len(cents),
        top_level=len({int(t) for t in top if t > 0}),
    )


@task(retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def write_themes(
    db: str, result: ThemeResult, embedder_name: str, started_at: datetime, embedded: int
) -> bool:
    """Write what ``find_themes`` decided from the warehouse as it was at ``started_at``,
    unless an analyst edited the themes since (a rename, merge, move or split): then
    nothing is written and the caller computes again, so the edit is never undone."""
    settings = load_settings(db=Path(db))
    warehouse = Warehouse(settings.db, lock_timeout=settings.lock_timeout)
    run = {
        "run_id": result.run_id,
        "embedder": embedder_name,
        "started_at": started_at,
        "finished_at": utc_now(),
        "items": result.items,
        "embedded": embedded,
        "themes": result.fine_themes,
        "new_themes": result.new_themes,
        "matched_themes": result.matched_themes,
        "unclassified_share": result.unclassified / max(1, result.items),
        "params": json.dumps(result.params),
        "status": "ok",
    }
    with warehouse.write() as con:
        edited = repo.last_theme_edit(con)
        if edited is not None and edited >= started_at:
            return False
        repo.write_topic_run(
            con,
            run=run,
            themes=result.themes,
            assignments=result.assignments,
            examples=result.examples,
            lineage=result.lineage,
            unclassified=result.unclassified,
            model=embedder_name,
        )
        crash_point("topics.writing-themes")  # all written, not yet committed
    return True


@flow(name="voc-topics", log_prints=False, validate_parameters=False)
def topics_flow(
    db: str | None = None,
    embedder: str = "minilm",
    max_fit: int = 20_000,
    seed: int = 42,
    force: bool = False,
    refit: bool = False,
) -> TopicSummary:
    """Embed new feedback, then find and register themes."""
    logger = run_logger()
    started = utc_now()
    settings = load_settings(db=Path(db) if db else None)
    warehouse = Warehouse(settings.db, lock_timeout=settings.lock_timeout)
    warehouse.ensure_schema()
    with warehouse.read() as con:
        last = repo.last_topic_run(con)
    was_minilm = last is not None and last["embedder"].startswith("all-MiniLM")
    if embedder == "minilm" and was_minilm:
        here = make_embedder("minilm", settings)  # measures the networks once per machine
        settled = settle_kind(embedder, last["embedder"], f"minilm-{here.precision}")
        if settled == "minilm" and here.name != last["embedder"]:
            logger.warning(
                "embeddings: this warehouse was themed with %s, which is not right on this "
                "machine; every item is embedded again once with %s",
                last["embedder"],
                here.name,
            )
        embedder = settled
    network = getattr(make_embedder(embedder, settings), "why", "")
    if network:
        logger.info("embeddings: %s", network)
    embedded = embed_new(str(settings.db), embedder)
    name = make_embedder(embedder, settings).name  # a TF-IDF model is named once fitted
    with warehouse.read() as con:
        total = repo.embedded_count(con, name)
    if (
        not force
        and embedded == 0
        and last is not None
        and last["embedder"] == name
        and last["items"] == total
        and "map" in json.loads(last["params"] or "{}")  # an older warehouse gains its map
    ):
        logger.info("themes: nothing new since run %s; themes unchanged", last["run_id"])
        return TopicSummary(None, 0, total, skipped=True, network=network)
    for attempt in range(1, EDIT_RETRIES + 1):
        read_at = utc_now()
        run_id = str(uuid.uuid4())
        result = find_themes(str(settings.db), embedder, name, max_fit, seed, run_id, refit)
        if result is None:
            return TopicSummary(None, embedded, total, skipped=True, network=network)
        if write_themes(str(settings.db), result, name, read_at, embedded):
            break
        logger.warning(
            "themes: an analyst edited the themes while this run computed; computing again "
            "from the edited map (%d of %d)",
            attempt,
            EDIT_RETRIES,
        )
    else:
        raise RuntimeError(
            f"the themes were edited during each of {EDIT_RETRIES} topic runs in a row; "
            "nothing was written (every edit is kept): run voc topics again"
        )
    share = result.unclassified / max(1, result.items)
    logger.info(
        "themes: %d theme(s) under %d top-level theme(s), %d new, %d matched, %.1f%% unclassified",
        result.fine_themes,
        result.top_level,
        result.new_themes,
        result.matched_themes,
        100 * share,
    )
    return TopicSummary(
        run_id,
        embedded,
        result.items,
        result.fine_themes,
        result.new_themes,
        result.matched_themes,
        share,
        events=result.events,
        seconds=(utc_now() - started).total_seconds(),
        network=network,
        top_level=result.top_level,
    )


def run_topics(
    settings: Settings | None = None,
    *,
    embedder: str = "minilm",
    max_fit: int = 20_000,
    force: bool = False,
    refit: bool = False,
) -> TopicSummary:
    settings = settings or load_settings()
    prefect_server_ready()
    return topics_flow(
        db=str(settings.db), embedder=embedder, max_fit=max_fit, force=force, refit=refit
    )
