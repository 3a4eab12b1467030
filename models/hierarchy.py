"""The theme map: fine themes (the clusters) under top-level themes, both found from the data.

A fine theme's top-level theme is a *group* of fine themes that say the same thing in
different words ("price rise", "price rises", "prices up again"), or the fine theme itself
when nothing else is like it. Nobody gives the number of either level:

* the groups come from Ward linkage over the fine themes' centres, cut where the
  *contacts* are best separated: the cut that maximises the silhouette of a fixed sample of
  contacts (cosine, in embedding space) under their top-level labels. On the demo inbox
  (15 problems in 52 fine themes) that cut gives 15 top-level themes; more groups split
  problems again, fewer join different ones.
* the map is built once (a warehouse's first run with themes, and ``--refit``); later runs
  keep every fine theme's parent, so a contact keeps its top-level id from week to week,
  and place only the fine themes that are new: under the group whose centre is as close as
  the group's own members are, else on their own at the top.
* a rebuilt map keeps its group ids where a new group holds mostly the contacts an old
  group held (Hungarian matching on that overlap), as the registry does for fine themes.
* compliments stand apart: a fine theme whose scored contacts are mostly pleased (a
  promoter's NPS, the top of a CSAT or rating scale; ``praised_themes``) is never grouped
  with one that is not, however alike their words ("Fast install" and "Engineer didn't turn
  up" both speak of the engineer). A group is what one owner fixes and what failure demand
  is charged for; praise under a failure's group would be charged to it as failure demand.
  Themes without scores (e-mails, calls, corpora with no survey) are grouped by words alone.
* an analyst's word is final: a fine theme the analyst moved (``parent_source='analyst'``)
  stays where it was put, and a group the analyst made stays while it has members.

Pure numpy and scipy: tested on small fixed vectors, no model needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.optimize import linear_sum_assignment

from models.registry import UNCLASSIFIED, LineageEvent, normalise
from models.review import DETRACTOR, PROMOTER
from models.weekly_stats import wilson_interval
from warehouse.contract import SCORE_RANGES

SILHOUETTE_SAMPLE = 3000  # contacts scored per candidate cut (seeded, so repeatable)
CUT_TOLERANCE = 0.05  # the finest cut within 5 % of the best silhouette (silhouette_cut)
FINE_PER_GROUP = 3  # ... with at least this many fine themes per group on average
JOIN_QUANTILE = 0.10  # a new fine theme joins a group as close as its weaker members are
JOIN_FLOOR = 0.5  # ... and never below this cosine
KEEP_GROUP_OVERLAP = 0.5  # a rebuilt group keeps an old id holding this share of its contacts
PRAISE_CONFIDENCE = 0.95  # praised: the Wilson lower bound of the pleased share is above a half
# Ward: an axis this long puts praised and other themes on branches joined at the root
APART = 100.0


@dataclass(frozen=True)
class FineTheme:
    theme_id: int
    centroid: np.ndarray  # L2-normalised
    size: int  # contacts now
    parent_id: int | None = None  # its top-level group last run (None: top-level, or new)
    parent_source: str = "model"  # 'analyst': moved by hand, never moved by a run
    new: bool = False  # created by this run
    praised: bool = False  # most of its scored contacts are pleased (praised_themes)


@dataclass(frozen=True)
class KnownGroup:
    theme_id: int
    origin: str = "model"  # 'analyst': made by hand, kept while it has members
    live: bool = True  # not merged away or dormant


@dataclass
class ThemeMap:
    parent_of: dict[int, int | None]  # every fine theme → its group's id, or None (top-level)
    groups: dict[int, list[int]]  # every group with members → its fine themes
    new_groups: list[int]
    events: list[LineageEvent] = field(default_factory=list)
    params: dict = field(default_factory=dict)
    praised: set[int] = field(default_factory=set)  # fine themes mostly praised

    def top_of(self, theme_id: int) -> int:
        parent = self.parent_of.get(theme_id)
        return theme_id if parent is None else parent

    def praised_tops(self) -> set[int]:
        """The top-level themes most of whose fine themes are praised."""
        tops: dict[int, list[bool]] = {}
        for t in self.parent_of:
            tops.setdefault(self.top_of(t), []).append(t in self.praised)
        return {top for top, flags in tops.items() if _mostly(flags)}


def _mostly(flags: list[bool]) -> bool:
    """More than half of ``flags`` are set: a group is praised when most of its themes are."""
    return 2 * sum(flags) > len(flags)


PLEASED, DISPLEASED = 0.6, 0.4  # of a scale: CSAT/rating 4-5 | 1-2 of 5, CES 5-7 | 1-3 of 7


def pleased_scores(scores: Sequence[float | None], kinds: Sequence[str | None]) -> np.ndarray:
    """Per item, what its score says of the customer: 1.0 pleased (an NPS promoter, 9-10;
    the top of any other scale: CSAT or rating 4-5 of 5, CES 5-7 of 7, a binary 1), 0.0
    displeased (an NPS detractor, 0-6; CSAT or rating 1-2, CES 1-3, a binary 0), 0.5 in
    between, NaN where there is no score."""
    out = np.full(len(scores), np.nan)
    for i, (score, kind) in enumerate(zip(scores, kinds, strict=True)):
        if score is None or kind not in SCORE_RANGES or np.isnan(score):
            continue
        if kind == "nps":
            out[i] = 1.0 if score >= PROMOTER else 0.0 if score <= DETRACTOR else 0.5
        else:
            low, high = SCORE_RANGES[kind]
            share = (score - low) / (high - low)
            out[i] = 1.0 if share > PLEASED else 0.0 if share < DISPLEASED else 0.5
    return out


def praised_themes(theme_of: np.ndarray, pleased: np.ndarray) -> set[int]:
    """The fine themes whose scored contacts are mostly pleased, with confidence: the Wilson
    lower bound (95 %) of the pleased share among the theme's scored contacts is above a
    half. ``pleased`` per item: 1.0 pleased, less not, NaN unscored (``pleased_scores``).
    A theme with few scores needs them nearly all pleased (4 of 5 is not enough; 9 of 10
    is); a theme with none is not praised."""
    scored = ~np.isnan(pleased) & (theme_of != UNCLASSIFIED)
    themes, trials = np.unique(theme_of[scored], return_counts=True)
    successes = np.array([np.sum(pleased[scored & (theme_of == t)] == 1.0) for t in themes])
    low, _ = wilson_interval(successes, trials, PRAISE_CONFIDENCE)
    return {int(t) for t, bound in zip(themes, low, strict=True) if bound > 0.5}


def silhouette_cut(
    centroids: np.ndarray,
    sample_vectors: np.ndarray,
    sample_theme: np.ndarray,
    apart: np.ndarray | None = None,
) -> tuple[np.ndarray, dict]:
    """A group number for each row of ``centroids`` (fine themes): Ward linkage over the
    centres, cut at the finest number of groups whose contacts are separated about as
    well as the best cut's.

    ``sample_vectors`` are contacts (L2-normalised) and ``sample_theme`` the row of
    ``centroids`` each belongs to. Every cut from 2 groups to one per fine theme is scored
    by the silhouette of the contacts (cosine) under the cut's groups. The finest cut
    scoring within ``CUT_TOLERANCE`` of the best wins: near the top the silhouette moves by
    a few thousandths between neighbouring cuts, less than a different sample of contacts
    moves it, while one cut coarser can put distinct problems under one top-level theme
    (one issue, one owner), which an analyst cannot see; two groups that should be one
    are merged in a click. Cuts finer than ``FINE_PER_GROUP`` fine themes per group on
    average are not considered. With fewer than 3 fine themes each is its own group.

    ``apart`` (a flag per row): rows flagged and rows not flagged are never in one group;
    Ward sees them on two branches joined only at the root."""
    m = len(centroids)
    if m < 3 or len(sample_vectors) < 3:
        return np.arange(m), {"groups": m, "silhouette": None}
    from sklearn.metrics import silhouette_score

    points = np.asarray(centroids, dtype=np.float64)
    if apart is not None and 0 < int(np.sum(apart)) < m:
        points = np.hstack([points, APART * np.asarray(apart, dtype=np.float64)[:, None]])
    tree = linkage(points, method="ward")
    distances = np.clip(1.0 - sample_vectors @ sample_vectors.T, 0.0, 2.0).astype(np.float64)
    np.fill_diagonal(distances, 0.0)
    cuts: list[tuple[np.ndarray, float]] = []
    # a map groups: a top-level theme holds three fine themes on average at the finest
    # (on a corpus of many similar intents the silhouette is flat from 30 to 90 groups)
    for n in range(2, max(3, min(m, -(-m // FINE_PER_GROUP) + 1))):
        labels = fcluster(tree, n, criterion="maxclust") - 1
        of_contacts = labels[sample_theme]
        if len(np.unique(of_contacts)) < 2:
            continue
        cuts.append((labels, float(silhouette_score(distances, of_contacts, metric="precomputed"))))
    if not cuts:
        return np.arange(m), {"groups": m, "silhouette": None}
    labels, score = cuts[pick_cut([score for _, score in cuts])]
    best = max(score for _, score in cuts)
    groups = len(np.unique(labels))
    return labels, {"groups": groups, "silhouette": round(score, 4), "best": round(best, 4)}


def pick_cut(scores: list[float], tolerance: float = CUT_TOLERANCE) -> int:
    """Which of the cuts (``scores``: their silhouettes, coarse to fine) to take: the
    finest within ``tolerance`` (a share) of the best."""
    best = max(scores)
    return max(i for i, score in enumerate(scores) if score >= best - tolerance * abs(best))


def _centre(fine: dict[int, FineTheme], members: list[int]) -> np.ndarray:
    weights = np.array([max(1, fine[t].size) for t in members], dtype=np.float32)
    stacked = np.stack([fine[t].centroid for t in members])
    return normalise((stacked * weights[:, None]).sum(axis=0))


def sample_contacts(
    theme_of: np.ndarray, themes: list[int], seed: int = 42, size: int = SILHOUETTE_SAMPLE
) -> np.ndarray:
    """Indices of a seeded sample of the contacts in ``themes``."""
    rows = np.flatnonzero(np.isin(theme_of, themes))
    if len(rows) <= size:
        return rows
    return np.sort(np.random.default_rng(seed).choice(rows, size=size, replace=False))


def build_map(
    fine_themes: list[FineTheme],
    groups: list[KnownGroup],
    sample_vectors: np.ndarray,
    sample_theme: np.ndarray,
    next_id: int,
    *,
    rebuild: bool,
) -> ThemeMap:
    """Every fine theme's top-level theme.

    ``sample_vectors``/``sample_theme``: contacts (a sample) and their fine theme ids, for
    the silhouette of a rebuild. ``rebuild``: group the fine themes afresh (first map of a
    warehouse, or a refit); otherwise keep each fine theme's parent and place new ones.
    ``next_id``: the first id a new group may take (ids are never re-used)."""
    fine = {f.theme_id: f for f in fine_themes if f.theme_id != UNCLASSIFIED}
    known = {g.theme_id: g for g in groups}
    live = {g for g, k in known.items() if k.live}
    parent_of: dict[int, int | None] = {}
    events: list[LineageEvent] = []
    params: dict = {"rebuilt": rebuild}

    # an analyst's move stands (under a live group, or at the top)
    pinned = {
        t: f.parent_id if f.parent_id in live else None
        for t, f in fine.items()
        if f.parent_source == "analyst"
    }
    parent_of.update(pinned)
    free = sorted(t for t in fine if t not in pinned)
    new_groups: list[int] = []

    if rebuild:
        new_groups, next_id = _regroup(
            fine, free, known, sample_vectors, sample_theme, next_id, parent_of, events, params
        )
    else:
        for t in free:
            f = fine[t]
            parent_of[t] = f.parent_id if f.parent_id in live and not f.new else None
        _place_new(fine, [t for t in free if fine[t].new], parent_of, events)

    members: dict[int, list[int]] = {}
    for t, g in parent_of.items():
        if g is not None:
            members.setdefault(g, []).append(t)
    new_groups = [g for g in new_groups if g in members]
    params["top_level"] = len(members) + sum(1 for g in parent_of.values() if g is None)
    praised = {t for t, f in fine.items() if f.praised}
    params["praised"] = sorted(praised)
    return ThemeMap(
        parent_of,
        {g: sorted(ts) for g, ts in sorted(members.items())},
        new_groups,
        events,
        params,
        praised,
    )


def _regroup(fine, free, known, sample_vectors, sample_theme, next_id, parent_of, events, params):
    """Group the free fine themes afresh; keep old group ids where the contacts say so."""
    new_groups: list[int] = []
    if not free:
        return new_groups, next_id
    index = {t: i for i, t in enumerate(free)}
    keep = np.isin(sample_theme, free)
    labels, found = silhouette_cut(
        np.stack([fine[t].centroid for t in free]),
        sample_vectors[keep],
        np.array([index[int(t)] for t in sample_theme[keep]], dtype=np.int64),
        apart=np.array([fine[t].praised for t in free]),
    )
    params.update(found)
    clusters: dict[int, list[int]] = {}
    for t, label in zip(free, labels, strict=True):
        clusters.setdefault(int(label), []).append(t)
    multi = [ts for _, ts in sorted(clusters.items()) if len(ts) > 1]
    for ts in clusters.values():
        if len(ts) == 1:
            parent_of[ts[0]] = None

    # keep an old model group's id where the new group holds mostly the contacts it held
    old = sorted(g for g, k in known.items() if k.live and k.origin == "model")
    overlap = np.zeros((len(multi), len(old)))
    for i, ts in enumerate(multi):
        total = sum(max(1, fine[t].size) for t in ts)
        for j, g in enumerate(old):
            held = sum(max(1, fine[t].size) for t in ts if fine[t].parent_id == g)
            overlap[i, j] = held / total
    chosen: dict[int, int] = {}
    if len(multi) and len(old):
        rows, cols = linear_sum_assignment(-overlap)
        for i, j in zip(rows, cols, strict=True):
            if overlap[i, j] >= KEEP_GROUP_OVERLAP:
                chosen[i] = old[j]
    for i, ts in enumerate(multi):
        if i in chosen:
            group = chosen[i]
            events.append(
                LineageEvent(
                    "group matched", group, None, None, f"{overlap[i].max():.0%} of its contacts"
                )
            )
        else:
            group = next_id
            next_id += 1
            new_groups.append(group)
            events.append(LineageEvent("group created", group, None, None, f"{len(ts)} themes"))
        for t in ts:
            parent_of[t] = group
            if fine[t].parent_id != group:
                events.append(LineageEvent("grouped", t, group, None, "under a top-level theme"))
    return new_groups, next_id


def _place_new(fine, new, parent_of, events) -> None:
    """A new fine theme joins the nearest group when it is as close to the group's centre
    as the group's weaker members are, and praised as most of them are; else it stands at
    the top on its own."""
    members: dict[int, list[int]] = {}
    for t, g in parent_of.items():
        if g is not None and not fine[t].new:
            members.setdefault(g, []).append(t)
    if not new or not members:
        return
    ids = sorted(members)
    centres = np.stack([_centre(fine, members[g]) for g in ids])
    praised = np.array([_mostly([fine[t].praised for t in members[g]]) for g in ids])
    spreads = [float(fine[t].centroid @ centres[i]) for i, g in enumerate(ids) for t in members[g]]
    bar = max(JOIN_FLOOR, float(np.quantile(spreads, JOIN_QUANTILE)))
    for t in new:
        sims = np.where(praised == fine[t].praised, centres @ fine[t].centroid, -np.inf)
        j = int(np.argmax(sims))
        if sims[j] >= bar:
            parent_of[t] = ids[j]
            events.append(
                LineageEvent("grouped", t, ids[j], float(sims[j]), "new theme joined a group")
            )
        else:
            parent_of[t] = None


def map_from_rows(
    rows: list[dict],
    theme_of: np.ndarray,
    embeddings: np.ndarray,
    centroids: dict[int, np.ndarray],
    new_ids: list[int],
    next_id: int,
    *,
    rebuild: bool,
    seed: int = 42,
    pleased: np.ndarray | None = None,
) -> ThemeMap:
    """``build_map`` from the registry's rows (``themes``: theme_id, kind, parent_id,
    parent_source, origin, status, merged_into) and this run's fine themes: ``theme_of`` per
    item, their ``centroids``, the ids this run created. ``pleased`` per item
    (``pleased_scores``) marks the praised themes."""
    by_id = {int(r["theme_id"]): r for r in rows}

    def alive_parent(parent) -> int | None:
        seen = set()
        while parent is not None and parent in by_id and parent not in seen:
            seen.add(parent)
            row = by_id[parent]
            if row.get("status") == "merged" and row.get("merged_into") is not None:
                parent = int(row["merged_into"])
                continue
            return parent
        return None

    ids, counts = np.unique(theme_of[theme_of > 0], return_counts=True)
    size = dict(zip(ids.tolist(), counts.tolist(), strict=True))
    created = set(new_ids)
    praised = praised_themes(theme_of, pleased) if pleased is not None else set()
    fine = []
    for t in sorted(centroids):
        if t == UNCLASSIFIED:
            continue
        row = by_id.get(t, {})
        parent = row.get("parent_id")
        fine.append(
            FineTheme(
                t,
                normalise(centroids[t]),
                int(size.get(t, 0)),
                alive_parent(int(parent)) if parent is not None else None,
                row.get("parent_source") or "model",
                new=t in created or t not in by_id,
                praised=t in praised,
            )
        )
    groups = [
        KnownGroup(int(r["theme_id"]), r.get("origin") or "model", r.get("status") == "active")
        for r in rows
        if r.get("kind") == "group"
    ]
    sample = sample_contacts(theme_of, [f.theme_id for f in fine], seed=seed)
    return build_map(fine, groups, embeddings[sample], theme_of[sample], next_id, rebuild=rebuild)


def top_level_of(theme_of: np.ndarray, theme_map: ThemeMap) -> np.ndarray:
    """Each item's top-level theme (its fine theme's group, or the fine theme itself)."""
    out = theme_of.copy()
    for t, parent in theme_map.parent_of.items():
        if parent is not None:
            out[theme_of == t] = parent
    return out
