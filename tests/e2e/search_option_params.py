"""The search route's `option.<Name>` parameters over HTTP: read from the query string (no declared
parameter can name them), validated where they were given, described in the OpenAPI document.
What they find is the search contract's (tests/contract/search_contract.py); products with
variants reach it once the catalog lists them."""

from __future__ import annotations

from typing import Any

from tests.e2e.client import Api, assert_problem
from tests.e2e.shop import Shop


class SearchOptionParams(Shop):
    def test_option_filters_narrow_and_option_facets_answer(self, api: Api, root: str) -> None:
        _, seller, _, buyer, _ = self.shop(api, root)
        self.stocked(api, seller, 2, 3500, title="Linen shirt")

        def search(params: Any) -> dict[str, Any]:
            response = api.get("/v1/search/products", token=buyer, params=params)
            assert response.status_code == 200, response.text
            return dict(response.json())

        everything = search({"q": "shirt"})
        assert [i["title"] for i in everything["items"]] == ["Linen shirt"]
        # A product without variants has no options: it counts under none and no option
        # filter finds it.
        assert everything["facets"]["options"] == {}
        for params in (
            {"q": "shirt", "option.Size": "M"},
            {"option.Size": ["M", "L"], "option.Colour": "Red"},
            {"option.Größe": "M", "option.colour": " café "},
        ):
            body = search(params)
            assert (body["items"], body["total"], body["facets"]["options"]) == ([], 0, {})
        # Parameters that only look like option filters are not option filters.
        assert search({"q": "shirt", "options.Size": "M", "Option.Size": "M"})["total"] == 1

    def test_bad_option_parameters_answer_422_where_they_were_given(
        self, api: Api, root: str
    ) -> None:
        m = self.marketplace(api, root)
        buyer = self.user(api, m, "buyer")

        def refused(params: Any) -> list[dict[str, Any]]:
            response = api.get("/v1/search/products", token=buyer, params=params)
            return list(assert_problem(response, 422)["errors"])

        for key, value in (
            ("option.Size", ""),
            ("option.Size", "   "),
            ("option.", "M"),
            ("option.Size", "M" * 101),
            ("option." + "S" * 101, "M"),
        ):
            (error,) = refused({key: value, "q": "shirt"})
            assert error["loc"] == ["query", key]
        # Control characters are refused at the edge already, in any query parameter.
        for key, value in (
            ("option.Size", "M\x00"),
            ("option.Size", "M\x1b[31m"),
            ("option.Si\nze", "M"),
            ("option.Size", "\x85"),
        ):
            refused({key: value})
        two = refused({"option.Size": "", "option.Colour": " "})
        assert [e["loc"] for e in two] == [["query", "option.Size"], ["query", "option.Colour"]]
        # At most 10 option parameters, naming at most 5 options.
        refused({"option.Size": [str(i) for i in range(11)]})
        refused({f"option.Option {i}": "x" for i in range(6)})
        for params in (
            {"option.Size": [str(i) for i in range(9)], "option.Colour": "x" * 100},
            {f"option.Option {i}": "x" for i in range(5)},
        ):
            response = api.get("/v1/search/products", token=buyer, params=params)
            assert response.status_code == 200, response.text

    def test_the_route_describes_its_option_parameters(self, api: Api) -> None:
        document = api.get("/openapi.json").json()
        described = document["paths"]["/v1/search/products"]["get"]
        assert "option.<Name>" in described["description"]
        assert "option.Size=M&option.Colour=Red" in described["description"]
        facets = document["components"]["schemas"]["FacetsOut"]
        assert "options" in facets["required"]
        assert facets["properties"]["options"]["additionalProperties"] == {
            "type": "object",
            "additionalProperties": {"type": "integer"},
        }
