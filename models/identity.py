"""One customer, several identifiers: which ``customer_ref`` values are the same person.

A customer writes from their e-mail address, rings from their phone and appears in the
CRM with both; each identifier hashes to its own ``customer_ref``. Records that carry two
identifiers of one customer link them (``customer_links``), and the linked refs form one
customer here. Pure: pairs in, a mapping out.

An identifier linked to many others is not one person's (a shop's phone number typed into
every case, a family's shared landline): it links nobody, so it cannot fold strangers
into one customer. ``max_links`` is how many other identifiers one may link to.

    groups = customer_groups([("e1", "p1"), ("p1", "e2")])
    groups["e2"]  # "e1": the three refs are one customer, named by the smallest
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

MAX_LINKS = 4  # an e-mail address, a mobile, a landline, an account number, another e-mail


def customer_groups(
    links: Iterable[tuple[str, str]], *, max_links: int = MAX_LINKS
) -> dict[str, str]:
    """``ref → the customer's canonical ref`` (the smallest ref of its group) for every
    ref that takes part in a usable link; a ref not in the mapping is its own customer."""
    pairs = {(a, b) if a < b else (b, a) for a, b in links if a and b and a != b}
    degree: dict[str, set[str]] = defaultdict(set)
    for a, b in pairs:
        degree[a].add(b)
        degree[b].add(a)
    shared = {ref for ref, others in degree.items() if len(others) > max_links}
    parent: dict[str, str] = {}

    def root(ref: str) -> str:
        parent.setdefault(ref, ref)
        while parent[ref] != ref:
            parent[ref] = parent[parent[ref]]
            ref = parent[ref]
        return ref

    for a, b in sorted(pairs):
        if a in shared or b in shared:
            continue
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {ref: root(ref) for ref in parent}


def canonical(ref: str | None, groups: dict[str, str]) -> str | None:
    """The customer a ref belongs to (itself when it links to nobody)."""
    return None if ref is None else groups.get(ref, ref)
