"""models.identity: which customer_refs are one customer."""

from __future__ import annotations

from models.identity import canonical, customer_groups


def test_linked_identifiers_are_one_customer_named_by_the_smallest_ref():
    groups = customer_groups([("email-ann", "phone-ann"), ("phone-ann", "acct-ann"), ("b1", "b2")])
    assert {canonical(r, groups) for r in ("email-ann", "phone-ann", "acct-ann")} == {"acct-ann"}
    assert canonical("b2", groups) == "b1"
    assert canonical("stranger", groups) == "stranger" and canonical(None, groups) is None


def test_an_identifier_shared_by_many_links_nobody():
    # a shop's phone number typed into every case must not fold its customers into one
    links = [(f"email-{i}", "shop-phone") for i in range(6)] + [("email-0", "mobile-0")]
    groups = customer_groups(links, max_links=4)
    assert canonical("email-1", groups) != canonical("email-2", groups)
    assert canonical("email-0", groups) == canonical("mobile-0", groups)
    assert canonical("shop-phone", groups) == "shop-phone"


def test_groups_do_not_depend_on_the_order_or_direction_of_links():
    links = [("c", "a"), ("b", "c"), ("d", "e"), ("a", "a")]
    one = customer_groups(links)
    two = customer_groups([(b, a) for a, b in reversed(links)])
    assert one == two and one["b"] == "a" and one["e"] == "d"
