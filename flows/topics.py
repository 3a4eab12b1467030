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
import subprocess
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.config import Settings, load_settings
from flows.process_setup import crash_point, prefect_server_ready, progress, run_logger
from warehouse import Warehouse, core_tables
from warehouse.clock import utc_now

if TYPE_CHECKING:
    from models.theme_run import ThemeResult

EMBED_CHUNK = 2048
RENDER_CHUNK = 200  # contacts per run of the rendering engine (one start-up each)
EDIT_RETRIES = 3  # topic runs computed again when an analyst edits the themes meanwhile


def make_embedder(kind: str, settings: Settings):
    from models.embedder_choice import make_embedder as embedder_at

    return embedder_at(
        kind,
        db=settings.db,
        model_cache=settings.resolved_model_cache,
        backend=settings.embed_backend,
        teacher=settings.teacher_dir,
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


def _fit_to_warehouse(embedder, kind: str, warehouse: Warehouse, team: str, logger) -> bool:
    """Fit an embedder that learns from the warehouse (TF-IDF on every text; the adapted
    MiniLM on a sample of those in the team's language) once; False while there are too
    few texts to learn from."""
    with warehouse.read() as con:
        corpus = core_tables.texts_to_fit(con, None if kind == "tfidf" else team)
    if len(corpus) < 10:
        return False
    if kind == "tfidf":
        embedder.fit(corpus)
        return True
    from models.adapted import fitting_sample

    steps = (embedder.recipe["epochs"] + 1) * len(
        fitting_sample(corpus, embedder.recipe["sample"], embedder.seed)
    )
    logger.info("adapting MiniLM to this warehouse's texts (once; minutes on a laptop)")
    progress.start("adapting the embedder", steps)
    embedder.fit(corpus, progress=lambda n: progress.advance("adapting the embedder", n))
    progress.done("adapting the embedder")
    logger.info("embeddings: adapted model %s", embedder.name)
    return True


@task(retries=1, retry_delay_seconds=2, cache_policy=NO_CACHE)
def embed_new(db: str, embedder_kind: str) -> int:
    """Embed every feedback item that has no vector for this model yet."""
    logger = run_logger()
    settings = load_settings(db=Path(db))
    warehouse = Warehouse(settings.db, lock_timeout=settings.lock_timeout)
    embedder = make_embedder(embedder_kind, settings)
    if not getattr(embedder, "fitted", True) and not _fit_to_warehouse(
        embedder, embedder_kind, warehouse, settings.team_language, logger
    ):
        return 0
    with warehouse.read() as con:
        todo = core_tables.feedback_needing_embedding(con, embedder.name)
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
            core_tables.store_embeddings(
                con, embedder.name, rows["feedback_id"].to_list(), rows["vector"], utc_now()
            )
        crash_point("topics.embedded-chunk")
        done += rows.height
        progress.advance("embedding", rows.height)
        logger.info("embeddings: %d/%d", done, todo.height)
    progress.done("embedding")
    return done


@task(retries=1, retry_delay_seconds=2, cache_policy=NO_CACHE)
def embed_crosslingual(db: str) -> int:
    """Multilingual vectors for placing contacts in other languages by meaning: those
    contacts and a fixed sample of the team's (models/crosslingual.py). Nothing runs
    where every contact is in the team's language; cached like every vector."""
    from models.crosslingual import MODEL_NAME, MultilingualEncoder

    logger = run_logger()
    settings = load_settings(db=Path(db))
    warehouse = Warehouse(settings.db, lock_timeout=settings.lock_timeout)
    with warehouse.read() as con:
        todo = core_tables.crosslingual_needed(
            con, MODEL_NAME, settings.team_language, settings.crosslingual_sample, missing=True
        )
    if todo.height == 0:
        return 0
    logger.info(
        "embeddings: %d item(s) for placing other languages by meaning, model %s",
        todo.height,
        MODEL_NAME,
    )
    encoder = MultilingualEncoder(model_dir=settings.resolved_model_cache)
    progress.start("multilingual embedding", todo.height)
    for start in range(0, todo.height, EMBED_CHUNK):
        part = todo.slice(start, EMBED_CHUNK)
        vectors = encoder.encode(
            part["text"].to_list(),
            progress=lambda n: progress.advance("multilingual embedding", n),
        )
        with warehouse.write() as con:
            core_tables.store_embeddings(
                con, MODEL_NAME, part["feedback_id"].to_list(), list(vectors), utc_now()
            )
        logger.info("embeddings: %d/%d", min(start + EMBED_CHUNK, todo.height), todo.height)
    progress.done("multilingual embedding")
    logger.info("embeddings: multilingual-e5 ran on %s", encoder.runtime)
    return todo.height


@task(retries=1, retry_delay_seconds=2, cache_policy=NO_CACHE)
def render_other_languages(db: str) -> int:
    """Renderings in the team's language of the contacts written in a language voc can
    render offline (models/rendering.py: Spanish, where Apertium is installed), a chunk
    per short transaction and cached: for the reader only, themes never read them. A
    chunk the engine fails on is logged and left for the next run; nothing else waits."""
    from models.rendering import engines_into

    logger = run_logger()
    settings = load_settings(db=Path(db))
    warehouse = Warehouse(settings.db, lock_timeout=settings.lock_timeout)
    engines = engines_into(settings.team_language)
    if not engines:
        return 0
    with warehouse.read() as con:
        todo = core_tables.renderings_needed(con, sorted(engines), settings.team_language)
    if todo.height == 0:
        return 0
    logger.info(
        "renderings: %d contact(s) to render in '%s' (%s)",
        todo.height,
        settings.team_language,
        ", ".join(f"{k} by {v.name}" for k, v in sorted(engines.items())),
    )
    progress.start("rendering", todo.height)
    done = 0
    for (language,), rows in todo.group_by("language", maintain_order=True):
        engine = engines[language]
        for start in range(0, rows.height, RENDER_CHUNK):
            part = rows.slice(start, RENDER_CHUNK)
            try:
                texts = engine.render(part["text"].to_list())
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
                logger.warning(
                    "renderings: %s skipped %d contact(s): %s", engine.name, part.height, exc
                )
                continue
            frame = part.select("feedback_id").with_columns(
                text=pl.Series(texts, dtype=pl.String), engine=pl.lit(engine.name)
            )
            with warehouse.write() as con:
                core_tables.store_renderings(con, settings.team_language, frame, utc_now())
            done += part.height
            progress.advance("rendering", part.height)
    progress.done("rendering")
    logger.info("renderings: %d/%d stored", done, todo.height)
    return done


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
    """Read what a topic run needs, decide the themes (models/theme_run.py), no writes."""
    from models.crosslingual import MODEL_NAME
    from models.theme_run import ThemeInputs, compute_themes

    logger = run_logger()
    settings = load_settings(db=Path(db))
    warehouse = Warehouse(settings.db, lock_timeout=settings.lock_timeout)
    with warehouse.read() as con:
        corpus = core_tables.corpus_for_topics(con, embedder_name)
        inputs = ThemeInputs(
            corpus=corpus,
            embeddings=core_tables.corpus_vectors(con, embedder_name, corpus.height),
            previous=core_tables.current_assignments(con),
            known=core_tables.known_themes(con),
            next_id=core_tables.next_theme_id(con),
            embedder_name=embedder_name,
            had_map="map" in _last_params(core_tables.last_topic_run(con)),
            crosslingual={
                row["feedback_id"]: np.asarray(row["vector"], dtype=np.float32)
                for row in core_tables.crosslingual_needed(
                    con,
                    MODEL_NAME,
                    settings.team_language,
                    settings.crosslingual_sample,
                    missing=False,
                ).iter_rows(named=True)
                if row["vector"] is not None
            },
        )
    if corpus.height < 10:
        logger.warning("only %d item(s) with vectors: too few to find themes", corpus.height)
        return None
    return compute_themes(
        inputs,
        make_embedder(embedder_kind, settings).encode,
        run_id=run_id,
        seed=seed,
        max_fit=max_fit,
        refit=refit,
        team_language=settings.team_language,
        log=logger.info,
    )


def _last_params(run: dict | None) -> dict:
    return json.loads(run["params"]) if run and run["params"] else {}


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
        edited = core_tables.last_theme_edit(con)
        if edited is not None and edited >= started_at:
            return False
        core_tables.write_topic_run(
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


def _settled_embedder(embedder: str, last: dict | None, settings: Settings, logger) -> str:
    """The embedder to use: MiniLM stays at the precision the warehouse was themed with,
    unless that precision is not right on this machine (then everything is embedded again)."""
    was_minilm = last is not None and last["embedder"].startswith("all-MiniLM")
    if embedder != "minilm" or not was_minilm:
        return embedder
    here = make_embedder("minilm", settings)  # measures the networks once per machine
    settled = settle_kind(embedder, last["embedder"], f"minilm-{here.precision}")
    if settled == "minilm" and here.name != last["embedder"]:
        logger.warning(
            "embeddings: this warehouse was themed with %s, which is not right on this "
            "machine; every item is embedded again once with %s",
            last["embedder"],
            here.name,
        )
    return settled


def _nothing_new(last: dict | None, embedded: int, name: str, total: int) -> bool:
    """No item embedded since the last run, which used this embedder on as many items."""
    return (
        embedded == 0
        and last is not None
        and last["embedder"] == name
        and last["items"] == total
        and "map" in json.loads(last["params"] or "{}")  # an older warehouse gains its map
    )


def _themes_written(
    db: str,
    embedder: str,
    name: str,
    max_fit: int,
    seed: int,
    refit: bool,
    embedded: int,
    logger,
) -> ThemeResult | None:
    """Find the themes and write them; again, from the edited map, when an analyst edited
    the themes meanwhile. None when there was nothing to theme."""
    for attempt in range(1, EDIT_RETRIES + 1):
        read_at = utc_now()
        run_id = str(uuid.uuid4())
        result = find_themes(db, embedder, name, max_fit, seed, run_id, refit)
        if result is None:
            return None
        if write_themes(db, result, name, read_at, embedded):
            return result
        logger.warning(
            "themes: an analyst edited the themes while this run computed; computing again "
            "from the edited map (%d of %d)",
            attempt,
            EDIT_RETRIES,
        )
    raise RuntimeError(
        f"the themes were edited during each of {EDIT_RETRIES} topic runs in a row; "
        "nothing was written (every edit is kept): run voc topics again"
    )


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
        last = core_tables.last_topic_run(con)
    embedder = _settled_embedder(embedder, last, settings, logger)
    network = getattr(make_embedder(embedder, settings), "why", "")
    if network:
        logger.info("embeddings: %s", network)
    embedded = embed_new(str(settings.db), embedder)
    embed_crosslingual(str(settings.db))
    render_other_languages(str(settings.db))
    made = make_embedder(embedder, settings)  # a model fitted to the warehouse: named now
    name, network = made.name, getattr(made, "why", network)
    with warehouse.read() as con:
        total = core_tables.embedded_count(con, name)
    if not force and _nothing_new(last, embedded, name, total):
        logger.info("themes: nothing new since run %s; themes unchanged", last["run_id"])
        return TopicSummary(None, 0, total, skipped=True, network=network)
    result = _themes_written(
        str(settings.db), embedder, name, max_fit, seed, refit, embedded, logger
    )
    if result is None:
        return TopicSummary(None, embedded, total, skipped=True, network=network)
    run_id = result.run_id
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
    seed: int = 42,
    force: bool = False,
    refit: bool = False,
) -> TopicSummary:
    settings = settings or load_settings()
    prefect_server_ready()
    return topics_flow(
        db=str(settings.db),
        embedder=embedder,
        max_fit=max_fit,
        seed=seed,
        force=force,
        refit=refit,
    )
