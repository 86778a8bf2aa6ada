"""Search: the index buyers search (OpenSearch or tantivy) and the projector that keeps it."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.search.opensearch import OpenSearchIndex
from adapters.search.tantivy import TantivyIndex
from api.settings import Settings
from api.wiring.platform import Wiring
from projections.search.port import SearchIndex
from projections.search.projector import SearchProjector


@dataclass
class SearchParts:
    search: SearchIndex


def search_index(settings: Settings) -> SearchIndex:
    """OpenSearch when a URL is configured, else tantivy under the data directory."""
    if settings.opensearch_url:
        return OpenSearchIndex(settings.opensearch_url)
    return TantivyIndex(settings.data_dir / "search")


def wire_search(wiring: Wiring) -> SearchParts:
    index = search_index(wiring.settings)
    wiring.project(SearchProjector(index))
    return SearchParts(search=index)
