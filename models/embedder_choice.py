"""Which embedder a warehouse's vectors come from, and where its model is kept: the flows
that embed (topics) and the ones that read those vectors back (the weekly review's
routing) must make the same one."""

from __future__ import annotations

from pathlib import Path


def make_embedder(
    kind: str, *, db: Path, model_cache: Path, backend: str = "auto", teacher: Path | None = None
):
    """The embedder of ``kind`` (models.embeddings.EMBEDDERS) for the warehouse at ``db``.
    A TF-IDF model and an adapted MiniLM are fitted on that warehouse's texts, so they are
    kept beside it; MiniLM's network (and the adapted one's teacher) live in the shared
    model cache."""
    from models.embeddings import get_embedder

    if kind == "minilm-adapted":  # fitted to this warehouse's texts, from a teacher
        from models.adapted import AdaptedMiniLM
        from models.teacher import teacher_dir

        return AdaptedMiniLM(
            db.parent / "models", lambda: teacher_dir(model_cache, teacher), backend=backend
        )
    if kind == "tfidf":
        return get_embedder(kind, model_dir=db.parent / "models")
    return get_embedder(kind, model_dir=model_cache, backend=backend)


def embedder_for(name: str | None, *, db: Path, model_cache: Path, backend: str = "auto"):
    """The embedder that made the vectors named ``name`` (the last topic run's embedder;
    None: plain ``minilm``), or a RuntimeError saying how to get going again."""
    from models.embeddings import kind_for_name

    try:
        kind = kind_for_name(name) if name else "minilm"
        return make_embedder(kind, db=db, model_cache=model_cache, backend=backend)
    except (ValueError, RuntimeError) as exc:
        raise RuntimeError(
            f"themes were found with {name} but that model is not available here ({exc}); run `voc topics` again"
        ) from None
