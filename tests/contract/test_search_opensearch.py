"""The search contract on a real OpenSearch, whenever VELORA_OPENSEARCH_URL names one. None can
be installed on the machines Velora's CI runs on, so there this module skips; docker-compose runs
the real OpenSearch 2 it is meant for."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from uuid import uuid4

import pytest

from adapters.search.opensearch import OpenSearchIndex
from projections.search.port import SearchIndex
from tests.contract.search_contract import SearchIndexContract

URL = os.environ.get("VELORA_OPENSEARCH_URL")

if not URL:
    pytest.skip(
        "VELORA_OPENSEARCH_URL is not set: no OpenSearch to run the contract against",
        allow_module_level=True,
    )


class TestOpenSearchSearch(SearchIndexContract):
    @pytest.fixture
    def prefix(self) -> str:
        return f"velora-test-{uuid4().hex[:10]}"

    @pytest.fixture
    def index(self, prefix: str) -> Iterator[SearchIndex]:
        assert URL
        index = OpenSearchIndex(URL, prefix=prefix)
        yield index
        index.client.indices.delete(index=f"{prefix}-g*", params={"ignore_unavailable": "true"})
        index.client.indices.delete_index_template(name=prefix)
        index.close()

    @pytest.fixture
    def reopen(self, prefix: str) -> Callable[[], SearchIndex]:
        assert URL
        return lambda: OpenSearchIndex(URL, prefix=prefix)
