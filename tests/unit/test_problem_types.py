"""docs/problems.md lists every kind of problem the API answers, each with one `type` of its own
(issue 31): a client branches on `type`, so two kinds must never share one, and a kind added in
the code must be added to the list."""

from __future__ import annotations

from pathlib import Path

from api.problems import PROBLEM_BASE, catalogue, catalogue_markdown, problem_body, problem_type
from domain.reviews import WrongReviewStep

DOC = Path(__file__).resolve().parents[2] / "docs" / "problems.md"


def test_the_documented_list_is_every_kind_of_problem() -> None:
    assert DOC.read_text() == catalogue_markdown(), "run: python -m api.problems > docs/problems.md"


def test_each_kind_has_a_type_of_its_own() -> None:
    kinds = catalogue()
    types = [problem_type(title) for title, _, _ in kinds]
    assert len(set(types)) == len(types) > 100
    assert all(t.startswith(PROBLEM_BASE) and t != PROBLEM_BASE for t in types)


def test_a_problem_names_its_kind_not_its_status() -> None:
    step = problem_body(409, "this review is hidden already", title=WrongReviewStep.title)
    busy = problem_body(
        409, "a request with this key is still running", title="Request in progress"
    )
    assert step["status"] == busy["status"] == 409
    assert step["type"] != busy["type"]
    assert problem_body(404, "gone")["type"] == PROBLEM_BASE + "not-found"
