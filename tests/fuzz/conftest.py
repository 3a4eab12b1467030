"""Hypothesis profiles for the fuzz tests (issue #8).

- ``ci`` (the default): a modest number of examples per property, no deadline (the CI
  machines are shared and slow; speed targets live in the benchmarks, not in tests), a
  fixed seed (``derandomize``) so a red CI run is red again on a laptop, and no example
  database (nothing written into the checkout).
- ``deep``: many more examples, random seeds and the example database (``.hypothesis/``,
  git-ignored), for long local runs: ``HYPOTHESIS_PROFILE=deep pytest tests/fuzz``.

``HYPOTHESIS_PROFILE`` picks the profile; without it, a profile chosen with pytest's
``--hypothesis-profile`` (when this folder's conftest is loaded early enough to register
it) is kept, else ``ci`` is loaded.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile(
    "ci",
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
)
settings.register_profile(
    "deep",
    max_examples=2_000,
    deadline=None,
    derandomize=False,
    print_blob=True,
)

_chosen = os.environ.get("HYPOTHESIS_PROFILE")
if _chosen:
    settings.load_profile(_chosen)
elif settings.get_current_profile_name() == "default":
    settings.load_profile("ci")
