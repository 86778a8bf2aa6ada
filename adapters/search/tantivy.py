"""The embedded search engine: tantivy, in generations under `<data dir>/search`.

    search/CURRENT    the name of the live generation, replaced atomically (rename) on a rebuild
    search/g000001/   one complete tantivy index per generation

Every product that has ever been indexed keeps one document. A removed product's document is a
tombstone (its id, tenant and version, `live` false) so that a late, older change cannot bring
it back; every query filters on `live`.

Writers open per batch and close after it, so several processes (`velora serve`, `velora
project`, a rebuild) can share the directory: the projector's tracking row already makes sure
only one of them writes a generation at a time.

A generation made by an earlier Velora, with other fields, is upgraded when it is first opened:
every document it stores (tombstones too, with their versions) is copied into a new generation
with today's fields, which then becomes live, as a rebuild's would. Every field a document is
made of is stored, and a field added since takes its default, which is what the earlier
documents meant (products had no variants before their fields came). One process upgrades while
the others wait for it on a lock file; processes of the earlier release must be stopped first,
as their writes to the old generation would not be copied.

The fields, and how a query and a document map onto them, are tantivy_schema.py's."""

from __future__ import annotations

import fcntl
import logging
import os
import re
import shutil
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

import tantivy
from tantivy import Occur, Order, Query

from adapters.search.facets import facet_aggregations, read_facets
from adapters.search.tantivy_schema import (
    ANALYZER,
    MAX_QUERY_TERMS,
    SCHEMA,
    TEXT,
    as_change,
    as_document,
    as_filter,
    as_tantivy,
    build_query,
    query_filters,
    term_query,
)
from projections.scope import TenantScope
from projections.search.port import (
    ProductDocument,
    Rebuild,
    Removal,
    SearchIndex,
    SearchQuery,
    SearchResult,
    SearchUnavailable,
    distinct,
    newest_version,
    next_cursor,
)

log = logging.getLogger(__name__)

WRITER_HEAP_BYTES = 32_000_000
_GENERATION = re.compile(r"^g(\d{6})$")
FIRST_GENERATION = "g000001"


class SchemaMismatch(SearchUnavailable):
    """A generation made by an earlier Velora, with other fields."""


@contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """Held by one thread of one process at a time (an flock on its own open of the file)."""
    with open(path, "a") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


class Generation:
    """One tantivy index directory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = path.name
        path.mkdir(parents=True, exist_ok=True)
        try:
            self.index = tantivy.Index(SCHEMA, path=str(path), reuse=True)
        except (OSError, ValueError) as e:
            if "schema does not match" in str(e):
                raise SchemaMismatch(f"the search index at {path} has other fields") from e
            raise SearchUnavailable(f"cannot open the search index at {path}: {e}") from e
        self.index.register_tokenizer(ANALYZER, TEXT)
        self._lock = threading.Lock()
        self._seen_commit: tuple[int, int] | None = None
        self._view_lock = threading.Lock()
        # Whether any document seen since the last commit has option values (None: not looked).
        self._any_options: bool | None = None

    def _commit_stamp(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path / "meta.json")
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns

    def searcher(self) -> tantivy.Searcher:
        # Another process may have committed: tantivy rewrites meta.json (by rename) on every
        # commit, so a changed file means there is something new to see.
        stamp = self._commit_stamp()
        with self._view_lock:
            if stamp != self._seen_commit:
                self.index.reload()
                self._seen_commit = stamp
                self._any_options = None
            return self.index.searcher()

    def any_options(self, searcher: tantivy.Searcher) -> bool:
        """Whether any document this searcher sees has option values, looked up once per
        commit. Until a product has variants, a search then asks for no option facets and costs
        what it did before they came."""
        with self._view_lock:
            if self._any_options is None:
                has = Query.exists_query("option_pairs")
                self._any_options = bool(searcher.search(has, limit=1, count=False).hits)
            return self._any_options

    def _held_version(self, searcher: tantivy.Searcher, product_id: str) -> int | None:
        hits = searcher.search(term_query("product_id", product_id), limit=1, count=False).hits
        if not hits:
            return None
        value = searcher.fast_field_values("version", [hits[0][1]])[0]
        return int(value) if value is not None else None

    def apply(self, upserts: Sequence[ProductDocument], removals: Sequence[Removal]) -> None:
        latest = newest_version(upserts, removals)
        if not latest:
            return
        with self._lock:
            searcher = self.searcher()
            try:
                writer = self.index.writer(heap_size=WRITER_HEAP_BYTES, num_threads=1)
            except (OSError, ValueError) as e:
                raise SearchUnavailable(f"search index {self.name} is busy: {e}") from e
            try:
                changed = 0
                for product_id, change in latest.items():
                    held = self._held_version(searcher, product_id)
                    if held is not None and held >= change.version:
                        continue  # the index already holds this change or a newer one
                    writer.delete_documents_by_term("product_id", product_id)
                    writer.add_document(as_tantivy(change))
                    changed += 1
                if changed:
                    writer.commit()
            except BaseException:
                writer.rollback()
                raise
            writer.wait_merging_threads()
            with self._view_lock:
                self.index.reload()
                self._seen_commit = self._commit_stamp()
                self._any_options = None

    def copy_from(self, earlier: Path) -> int:
        """Copies every document of a generation with other fields into this new, empty one,
        versions and tombstones as they are. Returns how many."""
        try:
            old = tantivy.Index.open(str(earlier))
            searcher = old.searcher()
            hits = searcher.search(Query.all_query(), limit=max(searcher.num_docs, 1), count=False)
            addresses = [address for _, address in hits.hits]
            writer = self.index.writer(heap_size=WRITER_HEAP_BYTES, num_threads=1)
        except (OSError, ValueError) as e:
            raise SearchUnavailable(f"cannot read the search index at {earlier}: {e}") from e
        try:
            for address in addresses:
                writer.add_document(as_tantivy(as_change(searcher.doc(address).to_dict())))
            writer.commit()
        except (KeyError, TypeError, ValueError) as e:
            writer.rollback()
            raise SearchUnavailable(
                f"cannot upgrade the search index at {earlier} ({e}): "
                "`velora projections rebuild search` builds it anew from the catalog"
            ) from e
        writer.wait_merging_threads()
        self.index.reload()
        return len(addresses)

    # -- queries ---------------------------------------------------------------------------------

    def search(self, scope: TenantScope, q: SearchQuery) -> SearchResult:
        searcher = self.searcher()
        query = build_query(scope, q)
        if q.sort_by_score:
            found = searcher.search(query, limit=q.size, offset=q.offset, count=True)
        else:
            field, order = {
                "price_asc": ("price_minor", Order.Asc),
                "price_desc": ("price_minor", Order.Desc),
                "featured": ("featured_rank", Order.Desc),
            }.get(q.sort, ("created_position", Order.Desc))
            found = searcher.search(
                query,
                limit=q.size,
                offset=q.offset,
                count=True,
                order_by_field=field,
                order=order,
            )
        items = [as_document(searcher.doc(address).to_dict()) for _, address in found.hits]
        aggregations = facet_aggregations("category_key", options=self.any_options(searcher))
        facets = read_facets(searcher.aggregate(query, aggregations))
        total = found.count or 0  # type: ignore[attr-defined]  # missing from tantivy's stubs
        return SearchResult(items, total, facets, next_cursor(scope, q, total))

    def suggest(self, scope: TenantScope, prefix: str, limit: int) -> list[str]:
        words: list[str | tuple[int, str]] = list(TEXT.analyze(prefix)[:MAX_QUERY_TERMS])
        if not words:
            return []
        searcher = self.searcher()
        filters = [(Occur.Must, as_filter(f)) for f in query_filters(scope, SearchQuery())]

        def matching(field: str) -> Query:
            phrase = Query.phrase_prefix_query(SCHEMA, field, words)
            return Query.boolean_query([*filters, (Occur.Must, phrase)])

        categories = searcher.aggregate(
            matching("category"),
            {"names": {"terms": {"field": "category_key", "size": limit}}},
        )
        found = searcher.search(
            matching("title"), limit=limit * 4, count=False, weight_by_field="rating_count"
        )
        titles = [searcher.doc(address)["title"][0] for _, address in found.hits]
        names = [b["key"] for b in categories["names"]["buckets"]]
        return distinct(names + titles, limit)


class TantivyRebuild(Rebuild):
    def __init__(self, generation: Generation) -> None:
        self.target = generation
        self.generation = generation.name

    def apply(self, upserts: Sequence[ProductDocument], removals: Sequence[Removal]) -> None:
        self.target.apply(upserts, removals)


class TantivyIndex(SearchIndex):
    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._live: Generation | None = None
        self._pointer: tuple[int, int] | None = None

    # -- generations -----------------------------------------------------------------------------

    @property
    def _current_file(self) -> Path:
        return self.root / "CURRENT"

    def _generations(self) -> list[str]:
        if not self.root.exists():
            return []
        return sorted(p.name for p in self.root.iterdir() if _GENERATION.match(p.name))

    def _point_to(self, name: str) -> None:
        """Replaces CURRENT in one rename, so a reader sees the old generation or the new one,
        never a half-written name."""
        tmp = self.root / f"CURRENT.{os.getpid()}.tmp"
        with open(tmp, "w") as f:
            f.write(name)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self._current_file)
        fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _new_generation_name(self) -> str:
        numbers = [int(m.group(1)) for n in self._generations() if (m := _GENERATION.match(n))]
        return f"g{max(numbers, default=0) + 1:06d}"

    def _pointer_stamp(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self._current_file)
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns

    def _start(self) -> None:
        """Makes the first generation live, once, however many threads or processes try at the
        same moment: linking CURRENT into place fails for all but the first."""
        self.root.mkdir(parents=True, exist_ok=True)
        # One an earlier Velora made just before it stopped is upgraded by `live`.
        with suppress(SchemaMismatch):
            Generation(self.root / FIRST_GENERATION)
        tmp = self.root / f"CURRENT.{os.getpid()}.{threading.get_ident()}.tmp"
        tmp.write_text(FIRST_GENERATION)
        try:
            os.link(tmp, self._current_file)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()

    def live(self) -> Generation:
        """The live generation, noticing a switch made by any process since the last call."""
        stamp = self._pointer_stamp()
        if self._live is not None and stamp == self._pointer:
            return self._live
        with self._lock:
            if stamp is None:
                self._start()
            # Stamp first, then name: if CURRENT changes in between, the next call sees a new
            # stamp and reads the name again.
            stamp = self._pointer_stamp()
            name = self._current_file.read_text().strip()
            if self._live is None or self._live.name != name:
                try:
                    self._live = Generation(self.root / name)
                except SchemaMismatch:
                    self._live = self._upgrade(name)
                    stamp = self._pointer_stamp()
            self._pointer = stamp
            return self._live

    def _upgrade(self, stale: str) -> Generation:
        """Copies a generation an earlier Velora made into a new one with today's fields and
        makes that live (see the module docstring). Called holding `_lock`."""
        with _exclusive(self.root / "UPGRADE.lock"):
            name = self._current_file.read_text().strip()
            if name != stale:  # another process upgraded it meanwhile
                return Generation(self.root / name)
            target = Generation(self.root / self._new_generation_name())
            try:
                copied = target.copy_from(self.root / stale)
            except BaseException:
                shutil.rmtree(target.path, ignore_errors=True)
                raise
            # The generation it came from stays until the next rebuild removes it, as the one a
            # rebuild replaces does.
            self._point_to(target.name)
        log.warning(
            "upgraded the search index %s to %s with today's fields (%d documents)",
            stale,
            target.name,
            copied,
        )
        return target

    def _current_name(self) -> str:
        """The live generation's name, without opening it: a rebuild replaces a generation that
        cannot be opened or upgraded."""
        if self._pointer_stamp() is None:
            self.live()
        return self._current_file.read_text().strip()

    def generation(self) -> str:
        return self._current_name()

    # -- the port --------------------------------------------------------------------------------

    def apply(self, upserts: Sequence[ProductDocument], removals: Sequence[Removal]) -> None:
        self.live().apply(upserts, removals)

    def search(self, scope: TenantScope, query: SearchQuery) -> SearchResult:
        return self.live().search(scope, query)

    def suggest(self, scope: TenantScope, prefix: str, limit: int) -> list[str]:
        return self.live().suggest(scope, prefix, limit)

    def begin_rebuild(self) -> TantivyRebuild:
        self._current_name()
        with self._lock:
            return TantivyRebuild(Generation(self.root / self._new_generation_name()))

    def publish(self, rebuild: Rebuild) -> None:
        assert isinstance(rebuild, TantivyRebuild)
        previous = self._current_name()
        with self._lock:
            self._point_to(rebuild.generation)
        # Keep the generation just replaced (a reader may still be finishing a query on it) and
        # remove any older ones.
        for name in self._generations():
            if name not in (rebuild.generation, previous):
                shutil.rmtree(self.root / name, ignore_errors=True)
        self.live()

    def discard(self, rebuild: Rebuild) -> None:
        assert isinstance(rebuild, TantivyRebuild)
        if rebuild.generation != self.generation():
            shutil.rmtree(self.root / rebuild.generation, ignore_errors=True)

    def ping(self) -> None:
        self.live().searcher()

    def close(self) -> None:
        # Writers close after every batch; the readers hold only memory maps, freed with them.
        with self._lock:
            self._live = None
            self._pointer = None
