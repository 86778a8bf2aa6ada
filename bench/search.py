"""Search on the embedded engine (tantivy): indexing rate and query latency at 100,000 products.

1. Generates 100,000 products across 3 tenants (USD, EUR, JPY), 150 sellers and 24 categories
   each, with titles and descriptions drawn from a shop vocabulary.
2. Indexing: writes them into a fresh index through the SearchIndex port in batches of 1,000
   (what a rebuild's snapshot does), and separately rebuilds from a catalog read model holding the
   same products (reading rows, building documents, indexing, switching).
3. Queries: a mixed load per tenant, each with text (one word in ten misspelt) or none, random
   filters (category, seller, price range, rating, stock), a random sort, 20 hits and all facets;
   and prefix suggestions. Latency is measured around each engine call, one at a time.

Prints the figures and writes bench/results/search.json. Timing is never asserted; the tests run
it only as `--smoke` (2,000 products, 30 queries).

    python bench/search.py [--products 100000] [--queries 3000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa

from adapters.search.tantivy import TantivyIndex
from bench import report
from eventstore.log import open_event_log
from migrations import runner as read_migrations
from projections.catalog.tables import products
from projections.scope import TenantScope
from projections.search.port import ProductDocument, SearchQuery
from projections.search.rebuild import rebuild_search
from projections.store import ReadStore, make_engine

TENANTS = {
    "USD": UUID("00000000-0000-4000-8000-000000000001"),
    "EUR": UUID("00000000-0000-4000-8000-000000000002"),
    "JPY": UUID("00000000-0000-4000-8000-000000000003"),
}
ADJECTIVES = (  # noqa: SIM905
    "red blue green black white grey oak walnut linen wool cotton silk leather steel brass copper "
    "ceramic glass bamboo vintage modern rustic compact large small handmade organic waterproof"
).split()
NOUNS = (  # noqa: SIM905
    "lamp chair table desk shelf rug vase mug bowl plate kettle teapot pan knife board jacket "
    "shirt scarf hat boots sneakers sandals backpack wallet watch bracelet necklace candle "
    "blanket pillow towel basket planter hose rake shovel bicycle helmet tent lantern notebook "
    "pen speaker headphones charger cable keyboard mouse monitor camera tripod"
).split()
EXTRA = (  # noqa: SIM905
    "durable gift everyday classic premium soft warm light strong easy clean travel home office "
    "garden kitchen outdoor kids design quality made by hand finish comfort fit style care"
).split()
CATEGORIES = [
    "Home", "Kitchen", "Garden", "Office", "Clothing", "Shoes", "Bags", "Jewelry", "Toys",
    "Sports", "Outdoors", "Electronics", "Audio", "Books", "Stationery", "Beauty", "Health",
    "Pets", "Baby", "Tools", "Lighting", "Furniture", "Art", "Music",
]  # fmt: skip
SORTS = ("relevance", "price_asc", "price_desc", "newest")


def generate(count: int, rng: random.Random) -> list[ProductDocument]:
    docs = []
    currencies = list(TENANTS)
    sellers = {c: [str(UUID(int=rng.getrandbits(128))) for _ in range(150)] for c in currencies}
    for i in range(count):
        currency = currencies[i % 3]
        scale = 1 if currency == "JPY" else 100
        rated = rng.random() < 0.6
        docs.append(
            ProductDocument(
                product_id=str(UUID(int=rng.getrandbits(128))),
                tenant_id=str(TENANTS[currency]),
                seller_id=rng.choice(sellers[currency]),
                title=" ".join([*rng.sample(ADJECTIVES, 2), rng.choice(NOUNS)]).capitalize(),
                description=" ".join(rng.choices(ADJECTIVES + NOUNS + EXTRA, k=14)),
                category=rng.choice(CATEGORIES),
                price_minor=int(10 ** rng.uniform(0.5, 3.5)) * scale,
                currency=currency,
                available=0 if rng.random() < 0.2 else rng.randint(1, 500),
                rating_avg=round(rng.uniform(1, 5), 2) if rated else 0.0,
                rating_count=rng.randint(1, 300) if rated else 0,
                created_position=i + 1,
                version=i + 1,
            )
        )
    return docs


def typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(len(word))
    return word[:i] + rng.choice("aeiourst") + word[i + 1 :]


def random_query(
    rng: random.Random, docs: list[ProductDocument]
) -> tuple[TenantScope, SearchQuery]:
    sample = rng.choice(docs)
    scale = 1 if sample.currency == "JPY" else 100
    words = [] if rng.random() < 0.15 else [rng.choice(NOUNS)]
    if words and rng.random() < 0.4:
        words.insert(0, rng.choice(ADJECTIVES))
    if words and rng.random() < 0.1:
        words[-1] = typo(words[-1], rng)
    low = rng.choice([None, 5 * scale, 20 * scale]) if rng.random() < 0.3 else None
    query = SearchQuery(
        text=" ".join(words),
        category=sample.category if rng.random() < 0.3 else None,
        seller_id=sample.seller_id if rng.random() < 0.1 else None,
        min_price_minor=low,
        max_price_minor=(low or 0) + 200 * scale if rng.random() < 0.3 else None,
        min_rating=rng.choice([3.0, 4.0]) if rng.random() < 0.2 else None,
        in_stock=rng.random() < 0.5,
        sort=rng.choice(SORTS),
        limit=20,
    )
    return TenantScope.only(sample.tenant_id), query


def percentiles(samples_s: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in samples_s)
    cut = statistics.quantiles(ms, n=100, method="inclusive")
    return {
        "p50_ms": round(cut[49], 3),
        "p95_ms": round(cut[94], 3),
        "p99_ms": round(cut[98], 3),
        "max_ms": round(ms[-1], 3),
        "mean_ms": round(statistics.fmean(ms), 3),
    }


def index_directly(
    root: Path, docs: list[ProductDocument], batch: int
) -> tuple[TantivyIndex, float]:
    index = TantivyIndex(root)
    began = time.perf_counter()
    for start in range(0, len(docs), batch):
        index.apply(docs[start : start + batch], [])
    return index, time.perf_counter() - began


def rebuild_from_catalog(root: Path, docs: list[ProductDocument]) -> dict[str, float]:
    """The whole rebuild path: catalog rows in a SQLite read model to a switched-in generation."""
    store = ReadStore(make_engine(None, root))
    read_migrations.upgrade(store.engine)
    log = open_event_log(None, root)
    log.migrate()
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        {
            "product_id": d.product_id,
            "tenant_id": d.tenant_id,
            "seller_id": d.seller_id,
            "sku": f"SKU-{i}",
            "title": d.title,
            "description": d.description,
            "category": d.category,
            "price_amount": d.price_minor,
            "currency": d.currency,
            "attributes": {},
            "status": "active",
            "seller_status": "approved",
            "commission_bps": None,
            "on_hand": d.available,
            "held": 0,
            "sold": 0,
            "rating_count": d.rating_count,
            "rating_sum": round(d.rating_avg * d.rating_count),
            "created_at": now,
            "updated_at": now,
            "created_position": d.created_position,
            "updated_position": d.version,
        }
        for i, d in enumerate(docs)
    ]
    with store.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(sa.insert(products), rows[start : start + 5000])
    index = TantivyIndex(root / "search")
    report = rebuild_search(log, store, index)
    index.close()
    log.close()
    store.engine.dispose()
    return {
        "documents": report.documents,
        "seconds": report.elapsed_s,
        "docs_per_s": round(report.documents / report.elapsed_s, 1),
    }


def measure(count: int, rng: random.Random, call: object, make: object) -> list[float]:
    samples = []
    for _ in range(count):
        args = make()  # type: ignore[operator]
        began = time.perf_counter()
        call(*args)  # type: ignore[operator]
        samples.append(time.perf_counter() - began)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=3_000)
    parser.add_argument("--seed", type=int, default=7)
    args = report.arguments(parser, smoke={"products": 2_000, "queries": 30})
    rng = random.Random(args.seed)
    docs = generate(args.products, rng)

    with tempfile.TemporaryDirectory(prefix="velora-bench-search-") as tmp:
        index, index_s = index_directly(Path(tmp) / "direct", docs, batch=1000)
        rebuild = rebuild_from_catalog(Path(tmp) / "rebuild", docs)

        def search_args() -> tuple[TenantScope, SearchQuery]:
            return random_query(rng, docs)

        def suggest_args() -> tuple[TenantScope, str, int]:
            sample = rng.choice(docs)
            word = rng.choice(sample.title.split())
            return TenantScope.only(sample.tenant_id), word[: rng.randint(1, len(word))], 10

        measure(min(200, args.queries), rng, index.search, search_args)  # warm the caches
        searches = measure(args.queries, rng, index.search, search_args)
        suggests = measure(args.queries // 3, rng, index.suggest, suggest_args)
        example_scope, example = random_query(random.Random(1), docs)
        example_total = index.search(example_scope, example).total
        index.close()

    result = {
        "benchmark": "search",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "engine": "tantivy",
        "products": args.products,
        "tenants": len(TENANTS),
        "indexing": {
            "direct": {
                "batch": 1000,
                "seconds": round(index_s, 3),
                "docs_per_s": round(args.products / index_s, 1),
            },
            "rebuild_from_catalog": rebuild,
        },
        "search": {"queries": len(searches), **percentiles(searches)},
        "suggest": {"queries": len(suggests), **percentiles(suggests)},
        "example_query": {"query": asdict(example), "total": example_total},
        "target": "search p99 under 10 ms",
    }
    s, g = result["search"], result["suggest"]
    print(f"products: {args.products:,} in {len(TENANTS)} tenants")
    direct = result["indexing"]["direct"]["docs_per_s"]
    print(f"indexing (port, 1,000 a batch): {direct:>10,.0f} docs/s")
    print(f"rebuild from the catalog model:  {rebuild['docs_per_s']:>10,.0f} docs/s")
    print(f"{'':<8}{'queries':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for name, r in (("search", s), ("suggest", g)):
        print(
            f"{name:<8}{r['queries']:>9,}{r['p50_ms']:>9.2f}{r['p95_ms']:>9.2f}"
            f"{r['p99_ms']:>9.2f}{r['max_ms']:>9.2f}"
        )
    print(f"target: search p99 < 10 ms: {'met' if s['p99_ms'] < 10 else 'NOT met'}")
    report.write("search", result)


if __name__ == "__main__":
    main()
