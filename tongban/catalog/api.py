"""Catalogue endpoints: translate JSON in and out; search and guides are public."""

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from tongban.catalog import search as catalog_search

router = Router(tags=["事项目录"])


class SearchParams(Schema):
    q: str = Field(
        "", max_length=catalog_search.MAX_QUERY_LENGTH, description="群众的说法、事项名称或拼音"
    )
    limit: int = Field(catalog_search.DEFAULT_LIMIT, ge=1, le=catalog_search.MAX_LIMIT)
    region: str | None = Field(
        None,
        pattern=r"^[0-9]{0,12}$",
        description="区划代码：只返回该区划、其下级和其上级区划的事项；空值为全部地区；"
        "不传时为本门户的区划（PORTAL_REGION_CODE）",
    )


class SearchResultOut(Schema):
    kind: str = Field(description="item 事项，bundle 一件事")
    code: str = Field(description="事项的实施编码，或一件事的编码")
    name: str
    department: str
    item_kind: str = Field(description="事项类型代码；一件事为空")
    item_kind_label: str
    immediate: bool = Field(description="即办件")
    full_online: bool = Field(description="全程网办")
    url: str = Field(description="办事指南页面")


@router.get(
    "/items",
    response=list[SearchResultOut],
    auth=None,
    summary="搜索事项和一件事",
    description="按相关程度排序，只返回已发布的事项和一件事；支持群众用语、拼音和首字母。",
)
def items_search(request: HttpRequest, params: Query[SearchParams]) -> list[SearchResultOut]:
    region = catalog_search.search_region_code(params.region)
    results = (
        catalog_search.search(params.q, limit=params.limit, region=region)
        if params.q.strip()
        else []
    )
    return [
        SearchResultOut(
            kind=r.kind,
            code=r.code,
            name=r.name,
            department=r.department,
            item_kind=r.item_kind,
            item_kind_label=r.item_kind_label,
            immediate=r.immediate,
            full_online=r.full_online,
            url=r.url,
        )
        for r in results
    ]
