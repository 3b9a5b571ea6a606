"""Search as a citizen uses it: their own words, pinyin on a phone, a slip of the finger."""

from __future__ import annotations

import html

import pytest
from django.test import Client

from tongban.catalog import search as search_module
from tongban.catalog import services
from tongban.catalog.models import ItemKind, OnlineDepth, ServiceItem
from tongban.catalog.search import search, search_index_rebuild, search_index_update
from tongban.catalog.tests.factories import CatalogEntryFactory, make_version
from tongban.org.tests.factories import CityFactory, CountyFactory, DepartmentFactory

pytestmark = pytest.mark.django_db

ID_CARD = {"name": "申请人居民身份证", "material_type": "id-card", "form": "original"}


def item(name: str, department, *, materials=(), **content):
    entry = CatalogEntryFactory(name=name, kind=content.pop("kind", ItemKind.LICENSE))
    return make_version(
        entry=entry,
        region=department.region,
        department=department,
        content={"name": name, **content},
        children={"materials": [ID_CARD, *materials]},
    )


@pytest.fixture
def catalogue(db):
    """A small county catalogue, indexed; the everyday word 开饭店 is in the synonym table."""
    county = CountyFactory()
    market = DepartmentFactory(region=county, name="沅江市市场监督管理局")
    police = DepartmentFactory(region=county, name="沅江市公安局")
    civil = DepartmentFactory(region=county, name="沅江市民政局")
    health = DepartmentFactory(region=county, name="沅江市卫生健康局")
    items = {
        "food": item(
            "食品经营许可",
            market,
            online_depth=OnlineDepth.FULL_ONLINE,
            materials=[
                {"name": "营业执照复印件", "material_type": "licence", "form": "copy"},
                {"name": "食品安全管理制度", "material_type": "food-rules"},
            ],
        ),
        "sole_trader": item(
            "个体工商户设立登记",
            market,
            kind=ItemKind.CONFIRMATION,
            promised_limit=0,
            result_name="营业执照",
        ),
        "company": item("公司设立登记", market, result_name="营业执照"),
        "household": item("户口登记", police, kind=ItemKind.CONFIRMATION),
        "id_card": item("居民身份证申领", police, kind=ItemKind.PUBLIC_SERVICE),
        "marriage": item(
            "结婚登记",
            civil,
            kind=ItemKind.CONFIRMATION,
            promised_limit=0,
            materials=[{"name": "户口簿", "material_type": "hukou"}],
        ),
        "divorce": item("离婚登记", civil, kind=ItemKind.CONFIRMATION),
        "doctor": item("医师执业注册", health),
    }
    services.synonym_set(term="开饭店", expansion="食品经营许可 营业执照")
    services.synonym_set(term="办执照", expansion="营业执照 个体工商户")
    search_index_rebuild()
    return items


def names(query: str) -> list[str]:
    return [r.name for r in search(query)]


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("上户口", "户口登记"),
        ("领结婚证", "结婚登记"),
        ("我要领结婚证", "结婚登记"),
        ("结婚登记需要什么材料", "结婚登记"),
        ("办身份证", "居民身份证申领"),
        ("食品经营许可", "食品经营许可"),
    ],
)
def test_everyday_words_find_the_item(catalogue, query, first):
    # Given a county catalogue; when a citizen types what they would say; then the item is first.
    assert names(query)[0] == first


def test_synonyms_turn_an_everyday_phrase_into_catalogue_words(catalogue):
    # Given 开饭店 → 食品经营许可 营业执照 in the synonym table
    # When a citizen searches in their own words
    found = names("我想开饭店")
    # Then the food licence comes first and the items that issue or need a business licence follow
    assert found[0] == "食品经营许可"
    assert {"个体工商户设立登记", "公司设立登记"} <= set(found)
    assert "户口登记" not in found


def test_a_synonym_edited_in_the_admin_applies_at_once(catalogue):
    # Given no synonym for 医生上岗, which shares no word with the catalogue
    assert names("医生上岗") == []
    # When an admin adds one
    services.synonym_set(term="医生上岗", expansion="医师执业注册")
    # Then the next search uses it, without rebuilding the index
    assert names("医生上岗")[0] == "医师执业注册"


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("spjyxk", "食品经营许可"),
        ("spjy", "食品经营许可"),
        ("hkdj", "户口登记"),
        ("JHDJ", "结婚登记"),
        ("shipin", "食品经营许可"),
        ("shipin jingying", "食品经营许可"),
        ("hukoudengji", "户口登记"),
        ("jiehun", "结婚登记"),
    ],
)
def test_pinyin_and_its_initials_as_typed_on_a_phone(catalogue, query, first):
    assert names(query)[0] == first


@pytest.mark.parametrize(
    ("query", "first"),
    [("食品经营许克", "食品经营许可"), ("结婚登纪", "结婚登记"), ("医师执叶注册", "医师执业注册")],
)
def test_one_wrong_character_still_finds_the_item(catalogue, query, first):
    assert names(query)[0] == first


def test_a_name_match_ranks_above_a_material_match(catalogue):
    # 身份证 is in every item's materials, and in the name of one
    found = names("身份证")
    assert found[0] == "居民身份证申领"
    assert len(found) == len(catalogue)


def test_the_items_that_issue_a_paper_rank_above_those_that_ask_for_it(catalogue):
    # 营业执照 is what the two registrations issue, and a material of the food licence
    found = names("营业执照")
    assert set(found[:2]) == {"个体工商户设立登记", "公司设立登记"}
    assert "食品经营许可" in found[2:]


def test_the_whole_phrase_ranks_above_a_partial_match(catalogue):
    # 结婚登记 asks for a 户口簿, so it matches 户口 and 登记 too, but only through a material
    assert names("户口登记") == ["户口登记", "结婚登记"]
    # 登记 alone matches four names equally; the shorter, closer names come first
    assert names("登记")[:4] == sorted(names("登记")[:4], key=len)


def test_nothing_found_for_words_unrelated_to_the_catalogue(catalogue):
    assert names("宇宙飞船") == []
    assert names("   ") == []
    assert names("！？。") == []


def test_drafts_are_never_found(catalogue):
    # Given an item that only has a draft
    draft = item("建筑工程施工许可", DepartmentFactory(name="沅江市住房和城乡建设局"))
    draft_only = make_version(publish=False, content={"name": "城乡居民养老保险待遇申领"})
    # When the index is rebuilt and updated for the draft
    search_index_rebuild()
    search_index_update(version=draft_only)
    # Then the draft is not found, the published item is
    assert names("养老保险") == []
    assert names("施工许可") == [draft.name]


def test_publishing_a_new_version_replaces_the_old_one_in_the_index(catalogue):
    # Given the published 医师执业注册, and a new version that renames it
    first = catalogue["doctor"]
    draft = services.item_draft_start(actor=None, item=first.item)
    services.version_update(actor=None, version=draft, content={"name": "医师执业变更注册"})
    # When the draft is published and the index told about it
    services.version_publish(actor=None, version=draft)
    search_index_update(version=draft)
    # Then the new name is found once, and the superseded name no longer leads anywhere else
    assert names("医师执业变更注册") == ["医师执业变更注册"]
    assert names("医师执业注册") == ["医师执业变更注册"]
    assert all(r.code == first.item.local_code for r in search("医师"))


def test_a_suspended_item_leaves_the_index(catalogue):
    version = catalogue["divorce"]
    services.version_suspend(actor=None, version=version, reason="法规修订")
    search_index_update(version=version)
    assert "离婚登记" not in names("离婚登记")


def test_bundles_are_found_with_their_items(catalogue):
    # Given a published 一件事 made of the food licence and the sole trader registration
    bundle = services.bundle_create(
        actor=None,
        code="KFD",
        name="我要开饭店",
        region=CountyFactory(),
        stage="enterprise",
        promised_limit=5,
        items=[catalogue["sole_trader"].item, catalogue["food"].item],
        status="published",
    )
    search_index_update(bundle=bundle)
    # When a citizen searches for it; then the bundle leads, with its items' departments
    result = search("开饭店")[0]
    assert (result.kind, result.name, result.url) == ("bundle", "我要开饭店", "/items/bundles/KFD/")
    assert result.department == "沅江市市场监督管理局"
    assert result.item_kind_label == "一件事"


# --- the API and the page ------------------------------------------------------------------


def test_api_returns_ranked_results_to_anyone(catalogue):
    # Given an anonymous caller; when it asks for 结婚登记 in the API
    response = Client().get("/api/v1/items", {"q": "结婚登记", "limit": 5})
    # Then it gets JSON in rank order, with the guide's address and the badges
    assert response.status_code == 200
    body = response.json()
    assert [r["name"] for r in body] == names("结婚登记")[:5]
    first = body[0]
    assert first == {
        "kind": "item",
        "code": catalogue["marriage"].item.local_code,
        "name": "结婚登记",
        "department": "沅江市民政局",
        "item_kind": "confirmation",
        "item_kind_label": "行政确认",
        "immediate": True,
        "full_online": False,
        "url": f"/items/{catalogue['marriage'].item.local_code}/",
    }


def test_api_limits_and_validates(catalogue):
    client = Client()
    assert len(client.get("/api/v1/items", {"q": "登记", "limit": 2}).json()) == 2
    assert client.get("/api/v1/items", {"q": ""}).json() == []
    assert client.get("/api/v1/items", {"q": "登记", "limit": 0}).status_code == 422


def test_search_page_for_an_anonymous_visitor(catalogue):
    # Given someone who is not signed in; when they open the search page and search
    client = Client()
    empty = client.get("/items/")
    page = client.get("/items/", {"q": "办执照"})
    # Then there is a search box, and results with department, kind, badges and the guide link
    assert empty.status_code == 200
    assert 'name="q"' in empty.text
    # typing asks for live results after a short pause, with a progress indicator
    assert 'hx-trigger="input changed delay:300ms, search"' in empty.text
    assert 'class="htmx-indicator' in empty.text
    text = html.unescape(page.text)
    assert page.status_code == 200
    sole_trader = catalogue["sole_trader"].item.local_code
    assert f'href="/items/{sole_trader}/"' in text
    assert "个体工商户设立登记" in text
    assert "沅江市市场监督管理局 · 行政确认" in text
    assert "即办件" in text


def test_live_results_return_only_the_result_list(catalogue):
    # Given the page's htmx request while typing
    response = Client().get("/items/", {"q": "shipin"}, headers={"HX-Request": "true"})
    # Then only the results come back, with the online badge of the food licence
    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="search-results"' in response.text
    assert "食品经营许可" in response.text
    assert "全程网办" in response.text


def test_nothing_found_says_so_and_suggests_words(catalogue):
    response = Client().get("/items/", {"q": "宇宙飞船"})
    text = html.unescape(response.text)
    assert "没有找到与“宇宙飞船”有关的事项" in text
    # the synonym table's everyday words, as links to try
    assert '<a class="tag" href="/items/?q=%E5%BC%80%E9%A5%AD%E5%BA%97">开饭店</a>' in text


def test_rebuild_indexes_every_published_item_and_nothing_else(catalogue):
    make_version(publish=False, content={"name": "草稿事项"})
    assert search_index_rebuild() == len(catalogue)


# --- a county's portal: its own region's items, and those above it, not a neighbour's --------


@pytest.fixture
def three_regions(db):
    """食品经营许可 implemented by 资阳区, 沅江市 and 益阳市 (their city); 资阳区's was indexed first,
    so it comes first among equals, as it did on 沅江市's portal before searches were scoped."""
    entry = CatalogEntryFactory(name="食品经营许可", kind=ItemKind.LICENSE)
    yuanjiang = CountyFactory()
    ziyang = CountyFactory(code="430902", name="资阳区")
    yiyang = CityFactory()
    versions = {}
    for key, region in (("ziyang", ziyang), ("yuanjiang", yuanjiang), ("yiyang", yiyang)):
        market = DepartmentFactory(region=region, name=f"{region.name}市场监督管理局")
        versions[key] = make_version(
            entry=entry, region=region, department=market, content={"name": "食品经营许可"}
        )
    services.synonym_set(term="开饭店", expansion="食品经营许可 营业执照")
    search_index_rebuild()
    return {key: v.item.local_code for key, v in versions.items()}


def test_a_scoped_search_finds_its_region_and_the_regions_above_it(three_regions):
    codes = three_regions
    # When 沅江市's portal searches; then its own item and its city's, not 资阳区's
    scoped = search("开饭店", region="430981")
    assert {r.code for r in scoped} == {codes["yuanjiang"], codes["yiyang"]}
    # The city's portal sees every county below it, the province's too
    assert {r.code for r in search("开饭店", region="4309")} == set(codes.values())
    # A town of 沅江市 is searched with 沅江市 and the city above it
    assert {r.code for r in search("开饭店", region="430981112")} == {
        codes["yuanjiang"],
        codes["yiyang"],
    }
    # Unscoped, all three
    assert {r.code for r in search("开饭店")} == set(codes.values())
    assert {r.code for r in search("开饭店", region="")} == set(codes.values())


def test_the_scope_is_applied_before_the_candidate_limit(three_regions, monkeypatch):
    # Given a single candidate per tier, as if 资阳区 had hundreds of shorter-named matches
    monkeypatch.setattr(search_module, "CANDIDATES", 1)
    # When 沅江市 searches; then the database picks 沅江市's item, not 资阳区's dropped afterwards
    assert [r.code for r in search("食品经营许可", region="430981")] == [three_regions["yuanjiang"]]
    assert [r.code for r in search("spjyxk", region="430902")] == [three_regions["ziyang"]]


def test_a_bundle_is_scoped_by_its_own_region(three_regions):
    bundle = services.bundle_create(
        actor=None,
        code="KFD",
        name="我要开饭店",
        region=CountyFactory(code="430902", name="资阳区"),
        stage="enterprise",
        promised_limit=5,
        items=[ServiceItem.objects.get(local_code=three_regions["ziyang"])],
        status="published",
    )
    search_index_update(bundle=bundle)
    assert "KFD" in {r.code for r in search("开饭店", region="430902")}
    assert "KFD" not in {r.code for r in search("开饭店", region="430981")}


def test_api_scopes_by_region_and_by_the_portal_setting(three_regions, settings):
    codes = three_regions
    client = Client()

    def found(**params) -> set[str]:
        response = client.get("/api/v1/items", {"q": "开饭店", **params})
        assert response.status_code == 200
        return {r["code"] for r in response.json()}

    # Given no portal region: every region, unless one is asked for
    assert found() == set(codes.values())
    assert found(region="430902") == {codes["ziyang"], codes["yiyang"]}
    # Given 沅江市's portal: its own, unless another region or every region is asked for
    settings.PORTAL_REGION_CODE = "430981"
    assert found() == {codes["yuanjiang"], codes["yiyang"]}
    assert found(region="430902") == {codes["ziyang"], codes["yiyang"]}
    assert found(region="") == set(codes.values())
    # A region code is digits
    response = client.get("/api/v1/items", {"q": "开饭店", "region": "4309%"})
    assert response.status_code == 422


def test_search_page_of_a_county_portal(three_regions, settings):
    # Given 沅江市's portal
    settings.PORTAL_REGION_CODE = "430981"
    codes = three_regions
    client = Client()
    # When a citizen searches 开饭店 without choosing a region
    page = client.get("/items/", {"q": "开饭店"})
    text = html.unescape(page.text)
    # Then the page says where it searched, and lists 沅江市's and the city's items only
    assert page.status_code == 200
    assert "在 沅江市 范围内搜索" in text
    assert f'href="/items/{codes["yuanjiang"]}/"' in text
    assert f'href="/items/{codes["yiyang"]}/"' in text
    assert codes["ziyang"] not in text
    assert "资阳区市场监督管理局" not in text
    # and offers the counties with published items, 沅江市 chosen, and 全部地区
    assert '<option value="430981" selected>沅江市</option>' in text
    assert '<option value="430902">资阳区</option>' in text
    assert '<option value="">全部地区</option>' in text
    # When they choose 全部地区; then all three, and the page says so
    everywhere = html.unescape(client.get("/items/", {"q": "开饭店", "region": ""}).text)
    assert "在全部地区范围内搜索" in everywhere
    assert all(f'href="/items/{code}/"' in everywhere for code in codes.values())
    # When they choose 资阳区 while typing (htmx); then 资阳区's, with the scope in the results
    live = client.get(
        "/items/", {"q": "开饭店", "region": "430902"}, headers={"HX-Request": "true"}
    )
    assert "在 资阳区 范围内搜索" in html.unescape(live.text)
    assert codes["ziyang"] in live.text
    assert codes["yuanjiang"] not in live.text


def test_search_page_of_a_city_portal_offers_the_city(three_regions, settings):
    # Given 益阳市's portal, a city, which is not among the counties
    settings.PORTAL_REGION_CODE = "4309"
    text = html.unescape(Client().get("/items/", {"q": "开饭店"}).text)
    # Then it is chosen, searched, and offered beside the counties
    assert "在 益阳市 范围内搜索" in text
    assert '<option value="4309" selected>益阳市</option>' in text
    assert all(f'href="/items/{code}/"' in text for code in three_regions.values())
