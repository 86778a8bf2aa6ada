"""The CategoryTree's own rules: unique names, no cycles, bounded depth, leaves-only removal."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.categories import (
    MAX_DEPTH,
    CategoryConflict,
    CategoryNotFound,
    CategoryTree,
    InvalidCategory,
    UnknownCategory,
)


def chain(tree: CategoryTree, levels: int) -> list:  # type: ignore[type-arg]
    ids, parent = [], None
    for n in range(levels):
        parent = tree.add(f"L{n}", parent)
        ids.append(parent)
    return ids


def test_any_name_goes_until_the_tenant_has_categories_then_only_theirs() -> None:
    tree = CategoryTree.start(uuid4())
    assert tree.named("anything") == "anything"
    tree.add("Tea  Pots", None)
    assert tree.named("tea pots") == "Tea Pots"
    with pytest.raises(UnknownCategory):
        tree.named("kettles")


@pytest.mark.parametrize(
    ("move", "error"),
    [
        (lambda t, ids: t.move(ids[0], ids[2]), InvalidCategory),  # under its own grandchild
        (lambda t, ids: t.move(ids[1], ids[1]), InvalidCategory),  # under itself
        (lambda t, ids: t.move(ids[0], uuid4()), CategoryNotFound),
        (lambda t, ids: t.move(uuid4(), None), CategoryNotFound),
        (lambda t, ids: t.remove(ids[1], in_use=False), CategoryConflict),  # has a child
        (lambda t, ids: t.remove(ids[2], in_use=True), CategoryConflict),
        (lambda t, ids: t.rename(ids[2], "Other", in_use=True), CategoryConflict),
        (lambda t, ids: t.rename(ids[2], "l0", in_use=False), CategoryConflict),  # taken
        (lambda t, ids: t.add("L1", None), CategoryConflict),
        (lambda t, ids: t.add(" ", None), InvalidCategory),
    ],
)
def test_changes_that_break_the_tree_are_refused(move, error) -> None:  # type: ignore[no-untyped-def]
    tree = CategoryTree.start(uuid4())
    ids = chain(tree, 3)
    before = (dict(tree.names), dict(tree.parents))
    with pytest.raises(error):
        move(tree, ids)
    assert (tree.names, tree.parents) == before


def test_depth_is_bounded_for_adds_and_for_moved_subtrees() -> None:
    tree = CategoryTree.start(uuid4())
    deep = chain(tree, MAX_DEPTH)
    with pytest.raises(InvalidCategory):
        tree.add("too deep", deep[-1])
    other = tree.add("Other", None)
    tree.add("Other child", other)
    with pytest.raises(InvalidCategory):
        tree.move(other, deep[-2])  # two levels under the fifth: seven deep
    tree.move(other, deep[-3])  # two levels under the fourth: six deep, allowed
    assert tree.depth(other) == MAX_DEPTH - 1


def test_moves_renames_and_removals_are_recorded() -> None:
    tree = CategoryTree.start(uuid4())
    a, b = tree.add("A", None), tree.add("B", None)
    tree.move(b, a)
    tree.move(b, a)  # already there: nothing new
    tree.rename(b, "B", in_use=True)  # the same name: nothing new, even in use
    tree.rename(b, "Bee", in_use=False)
    tree.remove(b, in_use=False)
    kinds = [type(e).__name__ for e in tree.collect_events()]
    assert kinds == ["Started", "Added", "Added", "Moved", "Renamed", "Removed"]
    assert tree.names == {a: "A"}


def test_a_name_is_the_same_however_its_accents_are_typed() -> None:
    composed, decomposed = "Caf\u00e9", "Cafe\u0301"
    tree = CategoryTree.start(uuid4())
    cafe = tree.add(decomposed, None)
    assert tree.names[cafe] == composed  # kept in NFC
    for again in (composed, "CAFE\u0301", " caf\u00e9 "):
        with pytest.raises(CategoryConflict):
            tree.add(again, None)
    assert tree.named(decomposed.lower()) == tree.named(composed.upper()) == composed


def test_a_name_an_older_velora_stored_decomposed_reads_composed() -> None:
    tree = CategoryTree.start(uuid4())
    cafe = uuid4()
    tree._added(category_id=cafe, name="Cafe\u0301", parent_id=None)  # as it was recorded
    replayed = None
    for stored in tree.collect_events():
        replayed = stored.mutate(replayed)
    assert isinstance(replayed, CategoryTree)
    assert replayed.names[cafe] == "Caf\u00e9"
    assert replayed.named("caf\u00e9") == "Caf\u00e9"
    with pytest.raises(CategoryConflict):
        replayed.add("Caf\u00e9", None)
