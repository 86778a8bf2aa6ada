from __future__ import annotations

from tests.e2e.backends import Embedded
from tests.e2e.search_option_params import SearchOptionParams


class TestSearchOptionParamsEmbedded(Embedded, SearchOptionParams):
    pass
