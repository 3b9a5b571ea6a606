"""How fast catalogue search answers over 20,000 published items, against a naive LIKE in the same run.

Run by hand from the repository root (never as a test; the figures go to docs/BENCHMARKS.md):

    python bench/bench_search.py                       # SQLite, a scratch file in a temp folder
    DATABASE_URL=postgres://USER@HOST:PORT/DB python bench/bench_search.py   # PostgreSQL

It creates a scratch test database (PostgreSQL: `test_<DB>`, dropped afterwards), writes 20,000
published items directly (bulk inserts: 40 counties × the same 500 standard entries, each with two
materials), builds the search index, then times `search()` — the whole call: synonyms, segmentation,
full-text match, ranking, rows — for a few hundred realistic queries (catalogue names, parts of
names, everyday phrasings through the synonym table, pinyin initials, full pinyin, one wrong
character). The naive baseline is what one writes without an index: `name LIKE '%query%'` over the
published versions, first 20 rows, timed on the same queries in the same run.
"""

import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

# Runs from a checkout without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
SCRATCH = tempfile.mkdtemp(prefix="tongban-bench-")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ.setdefault("ALLOWED_HOSTS", "localhost")
os.environ.setdefault("TONGBAN_VAR_DIR", SCRATCH)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from pypinyin import Style, lazy_pinyin  # noqa: E402

ITEMS = 20_000
COUNTIES = 40
QUERIES = 400
SEED = 20261123

SUBJECTS = [
    "食品",
    "药品",
    "医疗器械",
    "化妆品",
    "建筑工程",
    "道路运输",
    "危险化学品",
    "烟草专卖",
    "户口",
    "结婚",
    "离婚",
    "出生",
    "养老保险",
    "医疗保险",
    "失业保险",
    "工伤保险",
    "公共租赁住房",
    "不动产",
    "机动车",
    "驾驶证",
    "个体工商户",
    "农民专业合作社",
    "公司",
    "林木采伐",
    "取水",
    "排污",
    "户外广告",
    "娱乐场所",
    "互联网上网服务",
    "旅馆业",
    "印章刻制",
    "发票",
    "社会保险",
    "残疾人",
    "高龄津贴",
    "最低生活保障",
    "特困人员",
    "教师资格",
    "医师执业",
    "护士执业",
    "律师执业",
    "公证",
    "居民身份证",
    "护照",
    "港澳通行证",
    "建设工程规划",
    "施工图审查",
    "消防设计",
    "人防工程",
    "燃气经营",
    "供热",
    "水路运输",
    "渔业捕捞",
    "动物防疫",
    "种子生产",
    "农药经营",
    "兽药经营",
    "生猪屠宰",
    "民办学校",
    "幼儿园",
    "职业技能",
    "人才引进",
    "住房公积金",
    "殡葬",
]
ACTIONS = [
    "经营许可",
    "生产许可",
    "登记",
    "变更登记",
    "注销登记",
    "设立登记",
    "备案",
    "核准",
    "审批",
    "申领",
    "补领",
    "换领",
    "证明",
    "资格认定",
    "注册",
    "延续",
    "年度报告",
    "待遇申领",
    "补贴申领",
    "验收",
]
DEPARTMENTS = [
    "市场监督管理局",
    "公安局",
    "民政局",
    "人力资源和社会保障局",
    "住房和城乡建设局",
    "交通运输局",
    "卫生健康局",
    "自然资源局",
    "生态环境局",
    "农业农村局",
    "教育局",
    "司法局",
    "税务局",
    "医疗保障局",
    "林业局",
    "水利局",
    "应急管理局",
]
MATERIALS = [
    "申请人居民身份证",
    "营业执照",
    "户口簿",
    "法定代表人身份证明",
    "经营场所证明",
    "申请书",
    "承诺书",
    "授权委托书",
    "房屋产权证明",
    "结婚证",
    "出生医学证明",
    "健康证明",
    "安全管理制度",
    "平面布局图",
    "检验报告",
]
SYNONYMS = {
    "开饭店": "食品经营许可 营业执照",
    "开餐馆": "食品经营许可 营业执照",
    "上户口": "户口登记",
    "领结婚证": "结婚登记",
    "办执照": "营业执照 个体工商户",
    "开公司": "公司设立登记",
    "办护照": "护照",
    "退休": "养老保险 待遇申领",
    "生孩子": "出生 户口登记",
    "买房": "不动产 登记",
    "租房": "公共租赁住房",
    "开网吧": "互联网上网服务",
    "砍树": "林木采伐",
    "开药店": "药品经营许可",
    "盖房子": "建设工程规划 施工",
    "考驾照": "驾驶证",
}
EVERYDAY = [
    *SYNONYMS,
    "我想开饭店",
    "怎么上户口",
    "我要领结婚证",
    "开个小超市",
    "办营业执照",
    "公租房申请",
    "养老金怎么领",
    "身份证丢了",
    "社保",
    "公积金",
]


def build_catalogue(rng: random.Random) -> list[str]:
    """Bulk-write the regions, departments, entries, items, versions and materials."""
    from tongban.catalog.models import (
        CatalogEntry,
        ItemKind,
        ItemStatus,
        ItemVersion,
        MaterialRequirement,
        OnlineDepth,
        ServiceItem,
        Synonym,
    )
    from tongban.org.models import Department, Region, RegionLevel

    names = [f"{s}{a}" for s in SUBJECTS for a in ACTIONS]
    rng.shuffle(names)
    per_county = ITEMS // COUNTIES
    names = names[:per_county]
    province = Region.objects.create(code="43", name="湖南省", level=RegionLevel.PROVINCE)
    city = Region.objects.create(
        code="4309", name="益阳市", level=RegionLevel.CITY, parent=province
    )
    counties = Region.objects.bulk_create(
        Region(code=f"4309{n:02d}", name=f"县{n}", level=RegionLevel.COUNTY, parent=city)
        for n in range(1, COUNTIES + 1)
    )
    departments = Department.objects.bulk_create(
        Department(region=c, name=f"{c.name}{d}", short_name=d[:6], code=f"D{i:02d}")
        for c in counties
        for i, d in enumerate(DEPARTMENTS)
    )
    by_region: dict[int, list] = {}
    for d in departments:
        by_region.setdefault(d.region_id, []).append(d)
    kinds = list(ItemKind.values)
    entries = CatalogEntry.objects.bulk_create(
        CatalogEntry(code=f"E{n:05d}", name=name, kind=rng.choice(kinds))
        for n, name in enumerate(names)
    )
    items = ServiceItem.objects.bulk_create(
        ServiceItem(
            entry=e,
            region=c,
            department=rng.choice(by_region[c.pk]),
            local_code=f"{c.code}-{n:05d}",
        )
        for c in counties
        for n, e in enumerate(entries)
    )
    now = timezone.now()
    versions = ItemVersion.objects.bulk_create(
        (
            ItemVersion(
                item=i,
                version=1,
                status=ItemStatus.PUBLISHED,
                name=i.entry.name,
                implementing_body=i.department.name,
                legal_limit=20,
                promised_limit=rng.choice([0, 1, 3, 5, 10]),
                online_depth=rng.choice(list(OnlineDepth.values)),
                conditions="符合法律法规规定的条件",
                published_at=now,
            )
            for i in items
        ),
        batch_size=2000,
    )
    MaterialRequirement.objects.bulk_create(
        (
            MaterialRequirement(version=v, order=k, name=m, material_type=f"m{k}")
            for v in versions
            for k, m in enumerate(rng.sample(MATERIALS, 2), start=1)
        ),
        batch_size=5000,
    )
    Synonym.objects.bulk_create(Synonym(term=t, expansion=e) for t, e in SYNONYMS.items())
    return names


def typo(name: str, rng: random.Random) -> str:
    position = rng.randrange(1, len(name))
    return (
        name[:position]
        + rng.choice("的是在有和人这中大为上个国我以要他时来用们")
        + name[position + 1 :]
    )


def make_queries(names: list[str], rng: random.Random) -> list[tuple[str, str]]:
    makers = {
        "name": lambda n: n,
        "part": lambda n: n[: rng.randint(2, max(2, len(n) - 2))],
        "subject": lambda n: rng.choice(SUBJECTS),
        "everyday": lambda n: rng.choice(EVERYDAY),
        "initials": lambda n: "".join(lazy_pinyin(n, style=Style.FIRST_LETTER)),
        "pinyin": lambda n: "".join(lazy_pinyin(n[: rng.randint(2, 4)])),
        "typo": lambda n: typo(n, rng),
    }
    return [
        (kind, makers[kind](rng.choice(names))) for kind in rng.choices(list(makers), k=QUERIES)
    ]


def timed(calls: list[tuple[str, str]], work) -> tuple[list[float], dict[str, list[float]], int]:
    overall: list[float] = []
    by_kind: dict[str, list[float]] = {}
    found = 0
    for kind, query in calls:
        began = time.perf_counter()
        results = work(query)
        elapsed = (time.perf_counter() - began) * 1000
        found += bool(results)
        overall.append(elapsed)
        by_kind.setdefault(kind, []).append(elapsed)
    return overall, by_kind, found


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1]


def processor_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    from tongban.catalog.models import ItemStatus, ItemVersion
    from tongban.catalog.search import search, search_index_rebuild

    if connection.vendor == "sqlite":
        connection.settings_dict["TEST"]["NAME"] = str(Path(SCRATCH) / "bench.sqlite3")
    original_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        rng = random.Random(SEED)
        began = time.perf_counter()
        names = build_catalogue(rng)
        written = time.perf_counter() - began
        began = time.perf_counter()
        indexed = search_index_rebuild()
        index_seconds = time.perf_counter() - began
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # fresh bulk rows: give the planner its statistics
                cursor.execute("VACUUM ANALYZE")
        calls = make_queries(names, rng)

        def naive(query: str) -> list[str]:
            return list(
                ItemVersion.objects.filter(
                    status=ItemStatus.PUBLISHED, name__contains=query
                ).values_list("name", flat=True)[:20]
            )

        for _kind, query in calls[:30]:  # warm up: jieba's dictionary, caches, prepared plans
            search(query)
            naive(query)
        ours, ours_by_kind, ours_found = timed(calls, search)
        theirs, _by_kind, theirs_found = timed(calls, naive)

        print(
            f"database: {connection.vendor} {connection.Database.sqlite_version if connection.vendor == 'sqlite' else connection.pg_version}"
        )
        print(
            f"machine: {processor_name()}, {os.cpu_count()} CPU, Python {platform.python_version()}"
        )
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(
            f"catalogue: {ITEMS} items written in {written:.1f} s; index of {indexed} documents built in {index_seconds:.1f} s"
        )
        print(
            f"queries: {len(calls)}; with results: search {ours_found}, naive LIKE {theirs_found}"
        )
        print(
            f"search():      median {statistics.median(ours):6.2f} ms   p90 {p90(ours):6.2f} ms   max {max(ours):6.2f} ms"
        )
        print(
            f"naive LIKE:    median {statistics.median(theirs):6.2f} ms   p90 {p90(theirs):6.2f} ms"
        )
        print(
            f"search / naive (median): {statistics.median(ours) / statistics.median(theirs):.2f}×"
        )
        for kind, values in sorted(ours_by_kind.items()):
            print(
                f"  {kind:9} n={len(values):3}  median {statistics.median(values):6.2f} ms  p90 {p90(values):6.2f} ms"
            )
    finally:
        connection.creation.destroy_test_db(original_name, verbosity=0, keepdb=False)
        shutil.rmtree(SCRATCH, ignore_errors=True)


if __name__ == "__main__":
    main()
