"""One topic run, decided from what the warehouse holds: pure (no database, no Prefect).

``compute_themes`` takes the corpus with its vectors and the registry as the flow read
them, and returns every row the flow writes (``ThemeResult``):

1. **cluster** the items in the team's language: with known themes, items keep theirs,
   new items join the theme they clearly belong to and only the rest is clustered into
   new themes; with none (or ``refit``), BERTopic fits from scratch and the registry
   matches its clusters to the known themes, recording splits and merges;
2. **map** each fine theme under a top-level theme (built on a warehouse's first map and
   on a refit; kept, with new themes placed, otherwise);
3. **place** the items in other languages by meaning (models/crosslingual.py);
4. **name** new themes with their customers' own words, top-level themes first;
5. **frame** themes, assignments, examples and lineage for one write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from models.crosslingual import fitted_language, place
from models.hierarchy import ThemeMap, map_from_rows, pleased_scores, top_level_of
from models.registry import UNCLASSIFIED, KnownTheme, LineageEvent, match_clusters, resolve
from models.topics import (
    assign_incrementally,
    centroids_of,
    describe_themes,
    disambiguate,
    fit_themes,
    ranked_sentence_labels,
    representative,
)

THEME_SCHEMA = {
    "theme_id": pl.Int32,
    "label": pl.String,
    "keywords": pl.List(pl.String),
    "centroid": pl.List(pl.Float32),
    "size": pl.Int64,
    "first_seen": pl.Datetime("us"),
    "last_seen": pl.Datetime("us"),
    "parent_id": pl.Int32,
    "kind": pl.String,
}
LINEAGE_SCHEMA = {
    "event": pl.String,
    "theme_id": pl.Int32,
    "related_theme_id": pl.Int32,
    "similarity": pl.Float64,
    "detail": pl.String,
}


@dataclass
class ThemeInputs:
    """What a topic run reads: ``corpus`` (feedback_id, text, received_at, language, and
    score and score_kind where it has them: they keep praise apart in the map) with
    its ``embeddings`` in the same order, the current ``previous`` assignments
    (feedback_id, theme_id), the registry's ``known`` themes, and the cross-lingual
    vectors by feedback id (``crosslingual``: the items to place and the sample)."""

    corpus: pl.DataFrame
    embeddings: np.ndarray
    previous: pl.DataFrame
    known: pl.DataFrame
    next_id: int
    embedder_name: str
    had_map: bool
    crosslingual: dict[str, np.ndarray] = field(default_factory=dict)

    def pleased(self) -> np.ndarray | None:
        """What each item's score says (``pleased_scores``); None for a corpus without."""
        if "score" not in self.corpus.columns:
            return None
        return pleased_scores(self.corpus["score"].to_list(), self.corpus["score_kind"].to_list())


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
    placed: int = 0  # items in another language, placed by meaning


@dataclass
class _Clusters:
    theme_of: np.ndarray
    similarity: np.ndarray
    params: dict
    events: list[LineageEvent]
    new_ids: list[int]


def _registry(known: pl.DataFrame, dim: int, embedder_name: str) -> dict[int, KnownTheme]:
    """The fine themes the registry keeps (the map keeps the groups over them); a centre
    made by another model is no centre here."""
    registry = {}
    for row in known.iter_rows(named=True):
        if row["theme_id"] == UNCLASSIFIED or row["kind"] == "group":
            continue
        usable = row["centroid"] is not None and row["centroid_model"] == embedder_name
        centroid = (
            np.asarray(row["centroid"], dtype=np.float32)
            if usable
            else np.zeros(dim, dtype=np.float32)
        )
        registry[int(row["theme_id"])] = KnownTheme(
            int(row["theme_id"]),
            centroid,
            int(row["size"] or 0),
            row["merged_into"] if row["status"] == "merged" else None,
        )
    return registry


def _previous_themes(
    ids: pl.Series, previous: pl.DataFrame, registry: dict[int, KnownTheme]
) -> np.ndarray:
    """Each item's theme before this run (merges followed), -1 where it had none."""
    raw = (
        pl.DataFrame({"feedback_id": ids})
        .join(previous, on="feedback_id", how="left", maintain_order="left")["theme_id"]
        .fill_null(-1)
        .to_numpy()
    )
    return np.array([resolve(int(t), registry) if t > 0 else int(t) for t in raw], dtype=np.int64)


def _cluster(
    texts: list[str],
    embeddings: np.ndarray,
    prev: np.ndarray,
    registry: dict[int, KnownTheme],
    next_id: int,
    *,
    seed: int,
    max_fit: int,
    refit: bool,
    log: Callable[[str], None],
) -> _Clusters:
    live = {
        t: k.centroid
        for t, k in registry.items()
        if k.merged_into is None and np.any(k.centroid) and (prev == t).any()
    }
    if live and not refit:
        log(
            f"themes: {len(live)} known theme(s); placing "
            f"{int((~np.isin(prev, list(live))).sum())} item(s) without a theme"
        )
        inc = assign_incrementally(texts, embeddings, prev, live, next_id, seed=seed)
        events = [
            LineageEvent("created", t, None, None, "new cluster among items no theme fitted")
            for t in inc.new_themes
        ]
        return _Clusters(
            inc.theme_of.astype(np.int64), inc.similarity, inc.params, events, inc.new_themes
        )
    log(f"themes: fitting on {len(texts)} item(s) (sample of at most {max_fit})")
    fit = fit_themes(texts, embeddings, seed=seed, max_fit=max_fit)
    match = match_clusters(fit.labels, embeddings, prev, list(registry.values()), next_id)
    theme_of = np.array(
        [
            match.cluster_to_theme.get(int(c), UNCLASSIFIED) if c >= 0 else UNCLASSIFIED
            for c in fit.labels
        ],
        dtype=np.int64,
    )
    return _Clusters(theme_of, fit.similarity, fit.params, list(match.events), match.new_theme_ids)


def _place_others(
    ids: pl.Series,
    fit: np.ndarray,
    theme_of: np.ndarray,
    top: np.ndarray,
    prev: np.ndarray,
    theme_map: ThemeMap,
    vectors: dict[str, np.ndarray],
    pleased: np.ndarray | None,
    keep_previous: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fine, top, support) for the items outside the fit, in their order. An item keeps a
    theme it had that is still alive (unless ``keep_previous`` is off: a refit); the rest
    is placed by its neighbours among the sampled fitted items, a pleased or displeased
    one (``pleased`` per item) among praised or other top-level themes."""
    rows = np.flatnonzero(~fit)
    fine_out = np.zeros(len(rows), dtype=np.int64)
    top_out = np.zeros(len(rows), dtype=np.int64)
    support = np.zeros(len(rows), dtype=np.float32)
    sample = [int(i) for i in np.flatnonzero(fit) if theme_of[i] > 0 and ids[int(i)] in vectors]
    todo = [j for j, i in enumerate(rows) if ids[int(i)] in vectors]
    if todo and sample:
        placed = place(
            np.stack([vectors[ids[int(rows[j])]] for j in todo]),
            np.stack([vectors[ids[i]] for i in sample]),
            theme_of[sample],
            top[sample],
            query_pleased=None if pleased is None else pleased[rows[todo]],
            sample_praised=np.isin(top[sample], list(theme_map.praised_tops())),
        )
        fine_out[todo], top_out[todo], support[todo] = placed.fine, placed.top, placed.support
    if keep_previous:
        alive = set(np.unique(theme_of[fit]).tolist()) - {UNCLASSIFIED}
        kept = np.isin(prev[rows], list(alive))
        fine_out[kept] = prev[rows][kept]
        top_out[kept] = [theme_map.parent_of.get(int(t)) or int(t) for t in prev[rows][kept]]
    return fine_out, top_out, support


def _name_themes(
    texts: list[str],
    fit: np.ndarray,
    theme_of: np.ndarray,
    top: np.ndarray,
    similarity: np.ndarray,
    group_sim: np.ndarray,
    cents: dict[int, np.ndarray],
    group_cents: dict[int, np.ndarray],
    known: pl.DataFrame,
    renamed: set[int],
    encode,
) -> tuple[dict[int, str], dict[int, list[str]]]:
    """Each theme's label and keywords, from its team-language members only. A theme keeps
    its name from run to run (an analyst's always); only ``renamed`` themes (new ones, or
    all on a refit) are named afresh, top-level themes first so they keep the plain phrase,
    and a fresh name never repeats a label another theme keeps."""
    own = np.where(fit, theme_of, UNCLASSIFIED)
    own_top = np.where(fit & np.isin(top, list(group_cents)), top, UNCLASSIFIED)
    keywords, names = describe_themes(texts, own, similarity)
    group_keywords, group_names = describe_themes(texts, own_top, group_sim)
    stored = {int(r["theme_id"]): r["label"] for r in known.iter_rows(named=True)}
    analyst = {
        int(r["theme_id"]) for r in known.iter_rows(named=True) if r["label_source"] == "analyst"
    }
    alive = set(cents) | set(group_cents)
    kept = {t: stored[t] for t in alive if t in stored and (t in analyst or t not in renamed)}
    to_name = sorted(t for t in alive if t not in kept)
    members_of = {}
    for t in to_name:
        level, score = (own_top, group_sim) if t in group_cents else (own, similarity)
        rows = np.flatnonzero(level == t)
        members_of[t] = rows[np.argsort(-score[rows])]
    ranked = ranked_sentence_labels(
        texts,
        members_of,
        {**cents, **group_cents},
        encode,
        rivals=_top_level_rivals(to_name, top[fit], cents, group_cents),
    )
    sentences = {t: labels[0] for t, labels in ranked.items()}
    taken = [label for t, label in stored.items() if t in kept or t not in alive]
    fresh = disambiguate(
        {
            g: sentences.get(g, group_names.get(g, f"theme {g}"))
            for g in to_name
            if g in group_cents
        },
        group_keywords,
        taken=taken,
        alternatives=ranked,
    )
    fresh |= disambiguate(
        {t: sentences.get(t, names.get(t, f"theme {t}")) for t in to_name if t in cents},
        keywords,
        taken=taken + list(fresh.values()),
        alternatives=ranked,
    )
    return kept | fresh, keywords | group_keywords


def _top_level_rivals(
    to_name: list[int],
    tops: np.ndarray,
    cents: dict[int, np.ndarray],
    group_cents: dict[int, np.ndarray],
) -> dict[int, np.ndarray]:
    """For each top-level theme to name (a group, or a fine theme on its own at the top):
    the centres of the other top-level themes, which its label must tell it apart from
    (``ranked_sentence_labels``). Sub-themes have none: beside their siblings they keep the
    plain phrase of what they say."""
    top_level = {int(t) for t in np.unique(tops) if t > 0}
    centre = {t: group_cents.get(t, cents.get(t)) for t in top_level}
    centre = {t: c for t, c in centre.items() if c is not None}
    return {
        t: np.stack([c for u, c in centre.items() if u != t])
        for t in to_name
        if t in centre and len(centre) > 1
    }


def compute_themes(
    inputs: ThemeInputs,
    encode,
    *,
    run_id: str,
    seed: int = 42,
    max_fit: int = 20_000,
    refit: bool = False,
    team_language: str = "en",
    log: Callable[[str], None] = lambda _: None,
) -> ThemeResult:
    """Themes for every item of ``inputs`` (see the module's docstring). ``encode`` embeds
    candidate label phrases with the corpus's own encoder."""
    corpus, embeddings, known = inputs.corpus, inputs.embeddings, inputs.known
    ids = corpus["feedback_id"]
    texts = corpus["text"].to_list()
    registry = _registry(known, embeddings.shape[1], inputs.embedder_name)
    prev = _previous_themes(ids, inputs.previous, registry)
    fit = fitted_language(corpus["language"].to_list(), team_language)
    if fit.sum() < 10 or not inputs.crosslingual:
        fit = np.ones(len(texts), dtype=bool)  # nothing to place by (or with): fit them all
    clusters, theme_of, similarity, cents = _fine_themes(
        texts, embeddings, prev, fit, registry, known, inputs.next_id, seed, max_fit, refit, log
    )
    new_ids = clusters.new_ids
    pleased = inputs.pleased()
    theme_map = map_from_rows(
        known.to_dicts(),
        np.where(fit, theme_of, UNCLASSIFIED),
        embeddings,
        cents,
        new_ids,
        max([inputs.next_id, *[t + 1 for t in new_ids]]),
        rebuild=refit or not inputs.had_map,
        seed=seed,
        pleased=pleased,
    )
    params = clusters.params | {"map": theme_map.params}
    top = top_level_of(theme_of, theme_map)
    placed = int((~fit).sum())
    if placed:
        fine_p, top_p, support = _place_others(
            ids, fit, theme_of, top, prev, theme_map, inputs.crosslingual, pleased, not refit
        )
        theme_of[~fit], top[~fit], similarity[~fit] = fine_p, top_p, support
        params["placed"] = {"items": placed, "team_language": team_language}
        log(f"themes: {placed} item(s) in other languages placed by meaning")
    group_cents, group_sim = _group_centres(embeddings, fit, top, theme_map)
    renamed = set(cents) | set(group_cents) if refit else set(new_ids) | set(theme_map.new_groups)
    labels, keywords = _name_themes(
        texts, fit, theme_of, top, similarity, group_sim, cents, group_cents, known, renamed, encode
    )
    themes, examples = _theme_frames(
        corpus, embeddings, fit, theme_of, top, cents, group_cents, theme_map, labels, keywords
    )
    events = clusters.events + theme_map.events
    return ThemeResult(
        run_id,
        themes,
        _assignments(ids, theme_of, similarity),
        examples,
        _lineage_frame(events),
        int((theme_of == UNCLASSIFIED).sum()),
        len(texts),
        len(new_ids),
        len(set(cents) - set(new_ids)),
        params,
        [
            f"{e.event} theme {e.theme_id}" + (f" ({e.detail})" if e.detail else "")
            for e in events
            if e.event in ("split", "merged")
        ],
        fine_themes=len(cents),
        top_level=len({int(t) for t in top if t > 0}),
        placed=placed,
    )


def _assignments(ids: pl.Series, theme_of: np.ndarray, similarity: np.ndarray) -> pl.DataFrame:
    """Each item's fine theme and its score there."""
    return pl.DataFrame(
        {
            "feedback_id": ids,
            "theme_id": theme_of.astype(np.int32),
            "score": similarity.astype(np.float64),
        }
    )


def _fine_themes(
    texts: list[str],
    embeddings: np.ndarray,
    prev: np.ndarray,
    fit: np.ndarray,
    registry: dict[int, KnownTheme],
    known: pl.DataFrame,
    next_id: int,
    seed: int,
    max_fit: int,
    refit: bool,
    log: Callable[[str], None],
) -> tuple[_Clusters, np.ndarray, np.ndarray, dict[int, np.ndarray]]:
    """Cluster the fitted items into fine themes: the clusters, each item's theme and score
    (0 for items not fitted), and each theme's centre."""
    rows = np.flatnonzero(fit)
    everyone = bool(fit.all())  # no copy of the vectors when every item is fitted
    clusters = _cluster(
        texts if everyone else [texts[i] for i in rows],
        embeddings if everyone else embeddings[rows],
        prev if everyone else prev[rows],
        registry,
        next_id,
        seed=seed,
        max_fit=max_fit,
        refit=refit,
        log=log,
    )
    theme_of = np.zeros(len(texts), dtype=np.int64)
    similarity = np.zeros(len(texts), dtype=np.float32)
    theme_of[rows], similarity[rows] = clusters.theme_of, clusters.similarity
    if refit:  # the contacts of themes an analyst made by hand stay in them
        by_hand = [int(t) for t in known.filter(pl.col("origin") == "analyst")["theme_id"]]
        keep = fit & np.isin(prev, by_hand)
        theme_of[keep] = prev[keep]
    own = np.where(fit & (theme_of > 0), theme_of, -1)
    cents = centroids_of(embeddings, own)
    # a theme's score for an item is its similarity to the theme's centre as it is now
    for t, centre in cents.items():
        members = own == t
        similarity[members] = embeddings[members] @ centre
    return clusters, theme_of, similarity, cents


def _group_centres(
    embeddings: np.ndarray, fit: np.ndarray, top: np.ndarray, theme_map: ThemeMap
) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """Each top-level group's centre (over its fitted items) and each item's similarity to
    its group's centre."""
    group_cents = {
        g: c
        for g, c in centroids_of(embeddings, np.where(fit & (top > 0), top, -1)).items()
        if g in theme_map.groups
    }
    group_sim = np.zeros(len(fit), dtype=np.float32)
    for g, centre in group_cents.items():
        members = fit & (top == g)
        group_sim[members] = embeddings[members] @ centre
    return group_cents, group_sim


def _lineage_frame(events: list[LineageEvent]) -> pl.DataFrame:
    """The run's lineage events as a frame."""
    return pl.DataFrame(
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
        schema=LINEAGE_SCHEMA,
    )


def _theme_frames(
    corpus: pl.DataFrame,
    embeddings: np.ndarray,
    fit: np.ndarray,
    theme_of: np.ndarray,
    top: np.ndarray,
    cents: dict[int, np.ndarray],
    group_cents: dict[int, np.ndarray],
    theme_map: ThemeMap,
    labels: dict[int, str],
    keywords: dict[int, list[str]],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The themes' rows (size and dates count every member, in any language) and their
    examples (three typical and different members in the team's language)."""
    received = corpus["received_at"]
    theme_rows, example_rows = [], []
    levels = [(t, theme_of, cents) for t in sorted(cents)] + [
        (g, top, group_cents) for g in sorted(group_cents)
    ]
    for theme_id, level, centres in levels:
        members = np.flatnonzero(level == theme_id)
        dates = received.gather(members)
        theme_rows.append(
            {
                "theme_id": theme_id,
                "label": labels[theme_id],
                "keywords": keywords.get(theme_id, []),
                "centroid": centres[theme_id].tolist(),
                "size": len(members),
                "first_seen": dates.min(),
                "last_seen": dates.max(),
                "parent_id": None if level is top else theme_map.parent_of.get(theme_id),
                "kind": "group" if level is top else "fine",
            }
        )
        own = members[fit[members]]
        for rank, local in enumerate(
            representative(embeddings[own], centres[theme_id], k=3), start=1
        ):
            example_rows.append(
                {
                    "theme_id": theme_id,
                    "rank": rank,
                    "feedback_id": corpus["feedback_id"][int(own[local])],
                }
            )
    return (
        pl.DataFrame(theme_rows, schema=THEME_SCHEMA),
        pl.DataFrame(
            example_rows,
            schema={"theme_id": pl.Int32, "rank": pl.Int32, "feedback_id": pl.String},
        ),
    )
