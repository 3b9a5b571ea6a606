"""Chinese search over published items and bundles (智能导航).

Documents and queries are cut the same way — jieba's `cut_for_search`, space-joined — so the
database's plain full-text index (SQLite FTS5, PostgreSQL `simple` tsvector) matches Chinese words
without a Chinese parser. Each document also carries the pinyin of its name (full and initials, for a
phone keyboard: `shipin`, `spjyxk`) and the character bigrams of its name (a fallback that survives
one wrong character: 食品经营许克 still finds 食品经营许可).

A query runs in up to three tiers:
1. strict: every meaningful word of the query (or of one synonym expansion) is in the document —
   looked for in names first, then in the rest (department, conditions, materials …);
2. relaxed, only when strict found nothing: all of those words but one are;
3. typo, also only when strict found nothing: three neighbouring characters of the query are in
   the name, and at least half of the query's character bigrams.
Candidates are then ranked in Python: tier first, then the whole phrase in the name above a partial
match, what the item issues (its result: 营业执照) just below its name, and a name match above a
material match.

A search can be scoped to a region (a county's portal): only documents of that region, of the regions
in it, and of the regions above it (a city's or the province's item) are candidates. The scope is a
condition inside each tier's SQL, before its LIMIT, never a filter on the ranked list.

The index is kept in step by explicit calls (`search_index_update`, `search_index_rebuild`) from the
services that publish; this module never writes anything but the index, and holds all the
vendor-specific SQL of search, one function per vendor.
"""

from __future__ import annotations

import itertools
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import jieba
from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.db.models.functions import Substr
from django.urls import reverse
from django.utils import timezone
from pypinyin import Style, lazy_pinyin

from tongban.org.models import Region, RegionLevel

from .models import (
    Bundle,
    ItemKind,
    ItemStatus,
    ItemVersion,
    OnlineDepth,
    SearchDocument,
    SearchDocumentKind,
    Synonym,
)

jieba.setLogLevel(60)  # its "Building prefix dict" chatter would land in every server log

CANDIDATES = 120  # per tier: enough to rank well, few enough to rank in well under a millisecond
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_QUERY_LENGTH = 60
TYPO_MIN_OVERLAP = 0.5

# Words that carry no meaning in a citizen's question ("我要怎么办营业执照"); never indexed terms.
_STOPWORDS = "我 我要 我想 想 要 想要 怎么 怎么办 怎样 如何 办 办理 去 哪里 在哪 哪儿 需要 什么 的 了 吗 呢 个 一个 请问 帮 帮我"
QUERY_STOPWORDS = frozenset(_STOPWORDS.split())
_WORD = re.compile(r"[0-9a-z\u3400-\u9fff]+")
_HAN = re.compile(r"[\u3400-\u9fff]")
_PINYIN_QUERY = re.compile(r"[a-z]+(?: [a-z]+)*")


# ---------------------------------------------------------------------------------------------
# Text: the same cutting for documents and queries


def _normalise(text: str) -> str:
    """Full-width letters and digits become ASCII, letters lower case: phones type both."""
    return unicodedata.normalize("NFKC", text).lower().strip()


def _words(text: str) -> list[str]:
    """jieba's search cut, without punctuation and spaces, in order, each word once."""
    seen: dict[str, None] = {}
    for chunk in _WORD.findall(_normalise(text)):
        for word in jieba.cut_for_search(chunk):
            if _WORD.fullmatch(word):
                seen.setdefault(word, None)
    return list(seen)


def segment(text: str) -> str:
    return " ".join(_words(text))


def bigrams(text: str) -> set[str]:
    han = "".join(_HAN.findall(text))
    return {han[i : i + 2] for i in range(len(han) - 1)}


def pinyin_text(name: str) -> str:
    """Full pinyin and initials of the whole name and of each word: what a phone user types."""
    han = "".join(_HAN.findall(name))
    if not han:
        return ""
    terms = ["".join(lazy_pinyin(han)), "".join(lazy_pinyin(han, style=Style.FIRST_LETTER))]
    for word in jieba.cut(han):
        if len(word) > 1:
            terms.append("".join(lazy_pinyin(word)))
    return " ".join(dict.fromkeys(terms))


# ---------------------------------------------------------------------------------------------
# Building the documents


@dataclass
class _Document:
    kind: str
    code: str
    name: str
    department: str
    item_kind: str
    immediate: bool
    full_online: bool
    body: list[str]
    region_code: str
    result_name: str = ""

    def row(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "code": self.code,
            "name": self.name,
            "department": self.department,
            "item_kind": self.item_kind,
            "immediate": self.immediate,
            "full_online": self.full_online,
            "name_text": segment(self.name),
            "pinyin_text": pinyin_text(self.name),
            "body_text": segment(" ".join(self.body)),
            "grams_text": " ".join(sorted(bigrams(self.name))),
            "region_code": self.region_code,
            "result_name": self.result_name,
            "indexed_at": timezone.now(),
        }


def _item_document(version: ItemVersion) -> _Document:
    item = version.item
    body = [
        item.entry.name,
        item.department.name,
        version.implementing_body,
        ItemKind(item.entry.kind).label,
        version.conditions,
        version.result_name,
        *(m.name for m in version.materials.all()),
    ]
    return _Document(
        kind=SearchDocumentKind.ITEM,
        code=item.local_code,
        name=version.name,
        department=item.department.name,
        item_kind=item.entry.kind,
        immediate=version.is_immediate,
        full_online=version.online_depth == OnlineDepth.FULL_ONLINE,
        body=[str(part) for part in body if part],
        region_code=item.region.code,
        result_name=version.result_name[:200],
    )


def _bundle_document(bundle: Bundle) -> _Document:
    published = list(
        ItemVersion.objects.filter(
            status=ItemStatus.PUBLISHED, item__bundle_memberships__bundle=bundle
        ).select_related("item__department")
    )
    departments = list(dict.fromkeys(v.item.department.name for v in published))
    return _Document(
        kind=SearchDocumentKind.BUNDLE,
        code=bundle.code,
        name=bundle.name,
        department="、".join(departments),
        item_kind="",
        immediate=bundle.promised_limit == 0,
        full_online=bool(published)
        and all(v.online_depth == OnlineDepth.FULL_ONLINE for v in published),
        body=[bundle.description, bundle.get_stage_display(), *(v.name for v in published)],
        region_code=bundle.region.code,
    )


def _published_versions() -> QuerySet[ItemVersion]:
    return (
        ItemVersion.objects.filter(status=ItemStatus.PUBLISHED)
        .select_related("item__entry", "item__department", "item__region")
        .prefetch_related("materials")
    )


def search_index_update(
    *, version: ItemVersion | None = None, bundle: Bundle | None = None
) -> None:
    """Bring the index in step with one item (through any of its versions) or one bundle.

    Call it after publishing, suspending or replacing a version, and after a bundle changes: the
    item's published version is indexed, or the item leaves the index when none is published. The
    bundles an item belongs to are refreshed with it, since they show its name and department.
    """
    if (version is None) == (bundle is None):
        raise ValueError("search_index_update needs exactly one of version= or bundle=")
    with transaction.atomic():
        if version is not None:
            _update_item(version.item_id)
            bundles = Bundle.objects.filter(members__item_id=version.item_id).distinct()
        else:
            bundles = Bundle.objects.filter(pk=bundle.pk)  # type: ignore[union-attr]
        bundles = bundles.select_related("region")
        for each in bundles:
            _update_bundle(each)


def _update_item(item_id: int) -> None:
    published = _published_versions().filter(item_id=item_id).first()
    if published is None:
        _remove(SearchDocument.objects.filter(item_id=item_id))
        return
    row = {**_item_document(published).row(), "version": published}
    document, _created = SearchDocument.objects.update_or_create(item_id=item_id, defaults=row)
    _store_full_text([document.pk])


def _update_bundle(bundle: Bundle) -> None:
    if bundle.status != ItemStatus.PUBLISHED:
        _remove(SearchDocument.objects.filter(bundle=bundle))
        return
    document, _created = SearchDocument.objects.update_or_create(
        bundle=bundle, defaults=_bundle_document(bundle).row()
    )
    _store_full_text([document.pk])


def _remove(documents: QuerySet[SearchDocument]) -> None:
    ids = list(documents.values_list("pk", flat=True))
    if ids:
        documents.delete()
        _store_full_text(ids, deleted=True)


def search_index_rebuild(*, batch_size: int = 1000) -> int:
    """Throw the index away and index every published item and bundle again; returns the count."""
    with transaction.atomic():
        SearchDocument.objects.all().delete()
        _clear_full_text()
        count = 0
        batch: list[SearchDocument] = []
        versions = _published_versions().order_by("pk")
        for version in versions.iterator(chunk_size=batch_size):
            row = _item_document(version).row()
            batch.append(SearchDocument(item_id=version.item_id, version=version, **row))
            if len(batch) >= batch_size:
                count += _insert(batch)
                batch = []
        for bundle in Bundle.objects.filter(status=ItemStatus.PUBLISHED).select_related("region"):
            batch.append(SearchDocument(bundle=bundle, **_bundle_document(bundle).row()))
        count += _insert(batch)
    return count


def _insert(batch: list[SearchDocument]) -> int:
    if not batch:
        return 0
    created = SearchDocument.objects.bulk_create(batch)
    _store_full_text([d.pk for d in created], fresh=True)
    return len(created)


# ---------------------------------------------------------------------------------------------
# The queries: one neutral form, written out per database


@dataclass(frozen=True)
class Term:
    text: str
    prefix: bool = False


# A group is one word of the query: OR of options, each an AND of terms (the word itself, or all
# of its parts). An alternative is an AND of groups; a query is an OR of alternatives.
Group = tuple[tuple[Term, ...], ...]
Alternative = tuple[Group, ...]


@dataclass
class Query:
    text: str
    phrases: list[str]  # the citizen's own words, whole, and the everyday terms found in them
    strict: list[Alternative]
    relaxed: list[Alternative]
    grams: set[str]
    typo: list[Alternative] = field(default_factory=list)
    expansions: list[str] = field(default_factory=list)  # the synonym table's catalogue words
    pinyin: bool = False


def _groups(text: str) -> Alternative:
    """One group per precise-mode word: the word itself, or all its dictionary parts together
    (结婚登记, or 结婚 and 登记), since a document's text may have been cut into the parts.

    Single characters (开, 上, 领) are dropped when there is anything else: they are the verbs of
    everyday speech, not catalogue words.
    """
    groups: list[Group] = []
    for chunk in _WORD.findall(_normalise(text)):
        for word in jieba.cut(chunk):
            if word in QUERY_STOPWORDS or not _WORD.fullmatch(word):
                continue
            parts = [p for p in jieba.cut_for_search(word) if len(p) > 1 and p != word]
            options: list[tuple[Term, ...]] = [(Term(word),)]
            if parts:
                options.append(tuple(Term(p) for p in dict.fromkeys(parts)))
            groups.append(tuple(options))
    meaningful = [g for g in groups if len(g[0][0].text) > 1]
    return tuple(meaningful or groups)


@cache
def _jieba_ready() -> bool:
    jieba.initialize()
    return True


def query_parse(text: str, synonyms: dict[str, list[str]] | None = None) -> Query | None:
    """The query's tiers; None when nothing searchable is left."""
    _jieba_ready()
    text = _normalise(text)[:MAX_QUERY_LENGTH]
    if not _WORD.search(text):
        return None
    if _PINYIN_QUERY.fullmatch(" ".join(text.split())):
        words = text.split()
        joined = Term("".join(words), prefix=True)
        alternatives: list[Alternative] = [(((joined,),),)]
        if len(words) > 1:
            alternatives.append(tuple(((Term(w, prefix=True),),) for w in words))
        return Query(
            text=text,
            phrases=["".join(words)],
            strict=alternatives,
            relaxed=_all_but_one(alternatives[1:]),
            grams=set(),
            pinyin=True,
        )
    own = "".join(_WORD.findall(text))
    phrases, expansions = [own], []
    for term, expansion in (synonyms if synonyms is not None else synonym_map()).items():
        if term and term in own:
            phrases.append(term)
            expansions += expansion
    strict = [g for g in (_groups(p) for p in dict.fromkeys([own, *expansions])) if g]
    if not strict:
        return None
    han = "".join(_HAN.findall(own))
    pairs = [han[i : i + 2] for i in range(len(han) - 1)]
    # Two neighbouring bigrams are three characters typed right: one wrong character in a name of
    # four or more still leaves such a run, and it is rare enough to keep the match small.
    typo: list[Alternative] = []
    for a, b in itertools.pairwise(pairs):
        option = (Term(a), Term(b))
        typo.append(((option,),))
    return Query(
        text=text,
        phrases=list(dict.fromkeys(phrases)),
        strict=strict,
        relaxed=_all_but_one(strict),
        grams=set(pairs),
        typo=list(dict.fromkeys(typo)),
        expansions=list(dict.fromkeys(expansions)),
    )


def _all_but_one(alternatives: Sequence[Alternative]) -> list[Alternative]:
    """Each alternative with one of its words left out: a citizen's extra word should not lose
    them the item ("结婚登记需要什么材料")."""
    relaxed: list[Alternative] = []
    for alt in alternatives:
        if len(alt) > 1:
            relaxed += [alt[:i] + alt[i + 1 :] for i in range(len(alt))]
    return list(dict.fromkeys(relaxed))


def synonym_map() -> dict[str, list[str]]:
    """Everyday words and their catalogue words; read every time, as an admin edits them live."""
    return {
        _normalise(term): expansion.split()
        for term, expansion in Synonym.objects.values_list("term", "expansion")
    }


@dataclass
class SearchResult:
    kind: str
    code: str
    name: str
    department: str
    item_kind: str
    immediate: bool
    full_online: bool
    score: float = 0.0

    @property
    def item_kind_label(self) -> str:
        if not self.item_kind:
            return str(SearchDocumentKind.BUNDLE.label)
        return str(ItemKind(self.item_kind).label)

    @property
    def url(self) -> str:
        """The guide page of the item or bundle."""
        if self.kind == SearchDocumentKind.BUNDLE:
            return reverse("catalog:bundle_guide", kwargs={"code": self.code})
        return reverse("catalog:item_guide", kwargs={"local_code": self.code})


def search(
    text: str, *, limit: int = DEFAULT_LIMIT, region: str | None = None
) -> list[SearchResult]:
    """Published items and bundles for a citizen's words, best first.

    With a region code, only that region's, its subregions' and its ancestors' documents.
    """
    limit = max(1, min(limit, MAX_LIMIT))
    query = query_parse(text)
    if query is None:
        return []
    scope = _Scope.of(region)
    found: dict[int, tuple[int, float, Row]] = {}  # document id → (tier, database rank, row)

    def collect(tier: int, rows: list[Row]) -> None:
        for row in rows:
            found.setdefault(row[0], (tier, float(row[-1]), row))

    # Names first: when a common word matches thousands of items, the candidates are the shortest
    # names that contain it, which is what ranking would choose among them anyway.
    collect(3, _match(query.strict, NAME, scope))
    if len(found) < limit:
        collect(3, _match(query.strict, BODY, scope))
    # The looser tiers only speak when the strict one found nothing: padding good answers with
    # everything that shares one word would bury them on a phone screen.
    if not found:
        collect(2, _match(query.relaxed, ALL, scope))
        collect(1, _match(query.typo, GRAMS, scope))
    ranked: list[SearchResult] = []
    for tier, rank, row in found.values():
        (_pk, kind, code, name, department, item_kind, immediate, online, words, pinyin, grams) = (
            row[:11]
        )
        result = row[11]
        score = _score(
            query, tier, rank, name, set(words.split()), pinyin.split(), grams, result=result
        )
        if score is None:
            continue
        ranked.append(
            SearchResult(kind, code, name, department, item_kind, immediate, online, score)
        )
    ranked.sort(key=lambda r: (-r.score, len(r.name), r.code))
    return ranked[:limit]


def _score(
    query: Query,
    tier: int,
    rank: float,
    name: str,
    words: set[str],
    pinyin: list[str],
    grams: str,
    *,
    result: str = "",
) -> float | None:
    """Tier first; then the whole phrase in the name (or in what the item issues, just below),
    then how much of the query is in the name."""
    score = tier * 1000.0 + min(rank, 20.0)  # rank: the database's relevance, higher is better
    if query.pinyin:
        joined = query.phrases[0]
        if any(p == joined for p in pinyin[:2]):
            score += 500
        elif any(p.startswith(joined) for p in pinyin[:2]):
            score += 300
        return score - len(name) * 0.1
    # The citizen's own words (and the everyday term they contain) before what we expanded them to.
    phrase_bonus = 0.0
    for phrases, exact, contained in ((query.phrases, 500, 400), (query.expansions, 300, 250)):
        for phrase in phrases:
            if phrase == name:
                phrase_bonus = max(phrase_bonus, exact)
            elif phrase in name:
                phrase_bonus = max(phrase_bonus, contained)
    # 营业执照 finds 公司设立登记, which issues it, before 发票领用, which asks for it.
    for phrase in query.phrases:
        if len(phrase) >= 2 and result and phrase in result:
            phrase_bonus = max(phrase_bonus, 350)
    coverage = max(
        (sum(_group_in(g, words) for g in alt) / len(alt) for alt in query.strict), default=0.0
    )
    overlap = (
        len(query.grams.intersection(grams.split())) / len(query.grams) if query.grams else 0.0
    )
    if tier == 1 and overlap < TYPO_MIN_OVERLAP:
        return None  # a few shared characters are a coincidence, not a typo
    return score + phrase_bonus + 100 * coverage + 50 * overlap - len(name) * 0.1


def _group_in(group: Group, words: set[str]) -> bool:
    return any(all(t.text in words for t in option) for option in group)


# Where a tier looks, and how its candidates are chosen.
NAME = "name"  # name and its pinyin; the shortest names first
BODY = "body"  # department, conditions, materials …; the shortest names first
ALL = "all"  # every column, by the database's relevance
GRAMS = "grams"  # the name's character bigrams, by the database's relevance

# The document columns every match returns, then the database's rank.
Row = tuple[Any, ...]
_COLUMNS = (
    "d.id, d.kind, d.code, d.name, d.department, d.item_kind, d.immediate, d.full_online, "
    "d.name_text, d.pinyin_text, d.grams_text, d.result_name"
)


@dataclass(frozen=True)
class _Scope:
    """A region's documents, its subregions' (code prefix) and its ancestors' (code lineage)."""

    code: str
    lineage: tuple[str, ...]

    @classmethod
    def of(cls, code: str | None) -> _Scope | None:
        code = (code or "").strip()
        return cls(code, tuple(Region.lineage_codes(code))) if code else None

    def sql(self, column: str) -> tuple[str, list[Any]]:
        """A condition on `column` that both databases understand, and its parameters."""
        marks = ", ".join(["%s"] * len(self.lineage)) or "NULL"
        condition = f"({column} IN ({marks}) OR substr({column}, 1, %s) = %s)"
        return condition, [*self.lineage, len(self.code), self.code]


def _match(alternatives: Sequence[Alternative], where: str, scope: _Scope | None) -> list[Row]:
    if not alternatives:
        return []
    if connection.vendor == "postgresql":
        return _postgresql_match(alternatives, where, scope)
    return _sqlite_match(alternatives, where, scope)


# ---------------------------------------------------------------------------------------------
# SQLite: an FTS5 table beside the documents. Its rowid is (length of the name << 32) | document
# id, so that FTS5's natural rowid order is "shortest name first" and a LIMIT stops early.

_ROWID_SHIFT = 32
_ID_MASK = (1 << _ROWID_SHIFT) - 1
_MAX_NAME = 200  # SearchDocument.name's max_length: the range of name lengths in rowids


def _fts5_expression(alternatives: Sequence[Alternative], where: str) -> str:
    def term(t: Term) -> str:
        quoted = '"' + t.text.replace('"', '""') + '"'
        return quoted + " *" if t.prefix else quoted

    def group(g: Group) -> str:
        return "(" + " OR ".join("(" + " AND ".join(map(term, o)) + ")" for o in g) + ")"

    expression = " OR ".join(
        "(" + " AND ".join(group(g) for g in alt) + ")" for alt in alternatives
    )
    return f"{_FTS5_COLUMNS[where]} : ({expression})"


_FTS5_COLUMNS = {
    NAME: "{name_text pinyin_text}",
    BODY: "{body_text}",
    ALL: "{name_text pinyin_text body_text}",
    GRAMS: "{grams_text}",
}
# {join} and {scope}: nothing, or the documents joined by `_SQLITE_SCOPE` and the region condition
# on them, inside the LIMIT.
_SQLITE_MATCH = {
    # A name match ranks 10, a body match 1; bm25 is lower for better matches, hence the minus.
    NAME: "SELECT catalog_searchdocument_fts.rowid, 10.0 AS rank FROM catalog_searchdocument_fts "
    "{join} WHERE catalog_searchdocument_fts MATCH %s {scope} "
    "ORDER BY catalog_searchdocument_fts.rowid LIMIT %s",
    BODY: "SELECT catalog_searchdocument_fts.rowid, 1.0 AS rank FROM catalog_searchdocument_fts "
    "{join} WHERE catalog_searchdocument_fts MATCH %s {scope} "
    "ORDER BY catalog_searchdocument_fts.rowid LIMIT %s",
    ALL: "SELECT catalog_searchdocument_fts.rowid, "
    "-bm25(catalog_searchdocument_fts, 10.0, 6.0, 1.0, 0.0) AS rank "
    "FROM catalog_searchdocument_fts {join} WHERE catalog_searchdocument_fts MATCH %s {scope} "
    "ORDER BY rank DESC LIMIT %s",
    GRAMS: "SELECT catalog_searchdocument_fts.rowid, -bm25(catalog_searchdocument_fts) AS rank "
    "FROM catalog_searchdocument_fts {join} WHERE catalog_searchdocument_fts MATCH %s {scope} "
    "ORDER BY rank DESC LIMIT %s",
}
# CROSS JOIN keeps the FTS5 table the outer loop (SQLite never reorders it), so the name tiers
# still walk rowids shortest name first and stop at the LIMIT; each document is a primary-key look-up.
_SQLITE_SCOPE = (
    "CROSS JOIN catalog_searchdocument AS s "
    f"ON s.id = (catalog_searchdocument_fts.rowid & {_ID_MASK})"
)


def _sqlite_match(
    alternatives: Sequence[Alternative], where: str, scope: _Scope | None
) -> list[Row]:
    condition, scope_params = scope.sql("s.region_code") if scope is not None else ("", [])
    candidates = _SQLITE_MATCH[where].format(
        join=_SQLITE_SCOPE if scope is not None else "",
        scope="AND " + condition if scope is not None else "",
    )
    sql = (
        f"SELECT {_COLUMNS}, f.rank FROM ({candidates}) AS f "  # noqa: S608 - constants
        f"JOIN catalog_searchdocument AS d ON d.id = (f.rowid & {_ID_MASK})"
    )
    params = [_fts5_expression(alternatives, where), *scope_params, CANDIDATES]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(r) for r in cursor.fetchall()]


def _sqlite_store(ids: list[int], deleted: bool, fresh: bool) -> None:
    wanted = json.dumps(ids)
    with connection.cursor() as cursor:
        if not fresh:
            # The old row's key holds the old name's length: try them all (a rowid lookup each).
            cursor.execute(
                "WITH RECURSIVE n(len) AS (SELECT 0 UNION ALL SELECT len + 1 FROM n WHERE len < %s) "
                "DELETE FROM catalog_searchdocument_fts WHERE rowid IN "
                "(SELECT (n.len << %s) | j.value FROM n, json_each(%s) AS j)",
                [_MAX_NAME, _ROWID_SHIFT, wanted],
            )
        if not deleted:
            cursor.execute(
                "INSERT INTO catalog_searchdocument_fts "
                "(rowid, name_text, pinyin_text, body_text, grams_text) "
                "SELECT (min(length(name), %s) << %s) | id, name_text, pinyin_text, body_text, "
                "grams_text FROM catalog_searchdocument "
                "WHERE id IN (SELECT value FROM json_each(%s))",
                [_MAX_NAME, _ROWID_SHIFT, wanted],
            )


# ---------------------------------------------------------------------------------------------
# PostgreSQL: generated tsvector columns on the documents table (they follow the row by themselves),
# one for the name and its pinyin, one for the body, one for the name's bigrams, each with a GIN index.


def _tsquery(alternatives: Sequence[Alternative]) -> str:
    def term(t: Term) -> str:
        text = t.text.replace("\\", "").replace("'", "''")
        return f"'{text}':*" if t.prefix else f"'{text}'"

    def group(g: Group) -> str:
        return "(" + " | ".join("(" + " & ".join(map(term, o)) + ")" for o in g) + ")"

    return " | ".join("(" + " & ".join(group(g) for g in alt) + ")" for alt in alternatives)


# {scope}: nothing, or the region condition on d.
_POSTGRESQL_MATCH = {
    NAME: f"SELECT {_COLUMNS}, 10.0 AS rank "  # noqa: S608 - constants only
    "FROM catalog_searchdocument AS d, to_tsquery('simple', %s) AS q "
    "WHERE d.name_vector @@ q {scope} ORDER BY length(d.name), d.id LIMIT %s",
    BODY: f"SELECT {_COLUMNS}, 1.0 AS rank "  # noqa: S608 - constants only
    "FROM catalog_searchdocument AS d, to_tsquery('simple', %s) AS q "
    "WHERE d.body_vector @@ q {scope} ORDER BY length(d.name), d.id LIMIT %s",
    # A name match weighs ten times a body match, as in SQLite's bm25 weights.
    ALL: f"SELECT {_COLUMNS}, "  # noqa: S608 - constants only
    "(ts_rank(d.name_vector, q) * 10 + ts_rank(d.body_vector, q)) * 10 AS rank "
    "FROM catalog_searchdocument AS d, to_tsquery('simple', %s) AS q "
    "WHERE (d.name_vector @@ q OR d.body_vector @@ q) {scope} ORDER BY rank DESC LIMIT %s",
    GRAMS: f"SELECT {_COLUMNS}, ts_rank(d.grams_vector, q) * 10 AS rank "  # noqa: S608 - constants only
    "FROM catalog_searchdocument AS d, to_tsquery('simple', %s) AS q "
    "WHERE d.grams_vector @@ q {scope} ORDER BY rank DESC LIMIT %s",
}


def _postgresql_match(
    alternatives: Sequence[Alternative], where: str, scope: _Scope | None
) -> list[Row]:
    condition, scope_params = scope.sql("d.region_code") if scope is not None else ("", [])
    sql = _POSTGRESQL_MATCH[where].format(scope="AND " + condition if scope is not None else "")
    params = [_tsquery(alternatives), *scope_params, CANDIDATES]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(r) for r in cursor.fetchall()]


def _store_full_text(ids: list[int], deleted: bool = False, fresh: bool = False) -> None:
    if connection.vendor == "sqlite":
        _sqlite_store(ids, deleted, fresh)
    # PostgreSQL: nothing to do, the tsvector columns are generated from the row.


def _clear_full_text() -> None:
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM catalog_searchdocument_fts")


def search_suggestions(*, limit: int = 8) -> list[str]:
    """Words to try when nothing matched: the everyday words the synonym table knows."""
    return list(Synonym.objects.order_by("term").values_list("term", flat=True)[:limit])


_REGION_CODE = re.compile(r"[0-9]{0,12}")


def search_region_code(requested: str | None) -> str:
    """The region a public search is scoped to: the one asked for ("" asks for every region), or
    else — also when what was asked for is not a region code — the portal's own region."""
    if requested is not None and _REGION_CODE.fullmatch(requested.strip()):
        return requested.strip()
    return str(settings.PORTAL_REGION_CODE)


def search_regions(*, current: str = "") -> list[Region]:
    """The counties with something published in their subtree, for the portal's choice of region;
    the region searched now comes first when it is not one of them (a city's portal, a county with
    nothing published yet, a code no region has, shown as itself)."""
    codes = SearchDocument.objects.annotate(county=Substr("region_code", 1, 6)).values("county")
    counties = list(
        Region.objects.filter(level=RegionLevel.COUNTY, code__in=codes).order_by("code")
    )
    if not current or any(r.code == current for r in counties):
        return counties
    region = Region.objects.filter(code=current).first() or Region(code=current, name=current)
    return [region, *counties]
