"""Reading a State Council holiday notice (国务院办公厅关于XXXX年部分节假日安排的通知) into days.

This module is for turning the text of an official notice, as an admin pastes it, into the year's
days off and 调休 working days, so that years after the seeded tables can be entered from the notice
itself. It is pure Python: it must never import Django or touch a database, and it must never guess:
every sentence of a numbered holiday section that mentions a date is read completely or the whole
notice is refused with :class:`NoticeParseError`, which quotes the sentence.

What it reads (the forms below; the 2017 and 2026 notices are tested in full against the tables):
- the year from the title, else from the body ("现将2017年元旦、春节……");
- numbered sections "一、元旦:…" whose heading is the holiday's name as the notice spells it
  ("中秋节、国庆节" stays one name);
- clauses separated by commas: "1月1日放假", "1月2日(星期一)补休" (a 补休 day is a day off),
  "1月27日至2月2日放假调休", "5月31日(周六)至6月2日(周一)放假", "1月1日(周三)放假1天",
  "1月22日(星期日)、2月4日(星期六)上班", "共7天", "与周末连休", "不调休";
- dates with an optional year ("2018年12月30日") and with the month or year left out when the one
  before gives it ("1月1日至3日", "2月20日、21日");
- remarks in brackets: the weekday ("星期一", "周日"), which is checked against the date, and lunar
  dates ("农历除夕、周二"), which are not;
- "12月31日" in a section that also has January dates belongs to the year before the notice's year
  (the 元旦 holiday can begin on the last days of December).

Checks: each stated weekday, each "共N天"/"放假N天" count, 调休 working days on Saturdays or Sundays
only, every day named once. Sentences without dates (the duty reminders at the end) are prose and
skipped, and so is a sentence that begins with 鼓励 (the 2024 notice "encourages" rest on 除夕,
which stays a working day). A paragraph that arranges days right after a section (a 上班 sentence
pasted on a line of its own) belongs to that section; anywhere else it is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = ["NoticeParseError", "ParsedNotice", "parse_notice"]


class NoticeParseError(ValueError):
    """The notice could not be read completely; ``sentence`` is the part that could not."""

    def __init__(self, reason: str, sentence: str = "") -> None:
        self.reason = reason
        self.sentence = sentence
        super().__init__(f"{reason}: 「{sentence}」" if sentence else reason)


@dataclass(frozen=True)
class ParsedNotice:
    year: int
    # Each day off (放假 and 补休) and each 调休 working day, with the holiday it belongs to.
    days_off: dict[date, str]
    make_up_workdays: dict[date, str]


_FULL_TO_HALF = str.maketrans(
    {
        "：": ":",
        "，": ",",
        "（": "(",
        "）": ")",
        "；": ";",
        "～": "~",
        "－": "-",
        "〜": "~",
        **{chr(ord("０") + i): str(i) for i in range(10)},
    }
)
_HEADING = re.compile(r"([一二三四五六七八九十]+)、([^:,;()\d]{1,30}?):")
# A sentence with its full stop, if it has one.
_SENTENCE = re.compile(r"[^。]+。?")
_TITLE_YEAR = re.compile(r"关于(\d{4})年部分节假日安排的通知")
_BODY_YEAR = re.compile(r"现将(\d{4})年")
_DATE = re.compile(r"(?:(\d{4})年)?(?:(\d{1,2})月)?(\d{1,2})日(?:\(([^()]*)\))?")
_ANY_DATE = re.compile(r"\d{1,2}[月日]")
_ARRANGEMENT = re.compile(r"放假|补休|上班|调休")
_RANGE_SEPARATOR = re.compile(r"至|—+|-|~")
_LIST_SEPARATOR = "、"
_VERB = re.compile(
    r"(?:(?P<off>放假(?:调休|公休)?)(?:(?P<count>\d+)天)?|(?P<in_lieu>补休)|(?P<work>上班))"
)
_TOTAL = re.compile(r"共(\d+)天")
_REMARKS_WITHOUT_DATES = frozenset({"与周末连休", "不调休"})
_WEEKDAY = re.compile(r"(?:星期|周)([一二三四五六日天])")
_WEEKDAY_NUMBER = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_WEEKDAY_NAME = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")


@dataclass(frozen=True)
class _DateSpec:
    explicit_year: int | None
    month: int
    day: int
    weekday: int | None


@dataclass(frozen=True)
class _Clause:
    working: bool  # 上班 (a 调休 working day) rather than a day off
    dates: tuple[_DateSpec, ...]
    is_range: bool
    count: int | None  # "放假N天"


@dataclass
class _Sentence:
    original: str
    clauses: list[_Clause]
    total: int | None  # "共N天"


@dataclass
class _Section:
    name: str
    sentences: list[_Sentence]


def parse_notice(text: str) -> ParsedNotice:
    """Read a holiday notice; raise NoticeParseError quoting any sentence it cannot read fully."""
    paragraphs = [line.strip() for line in text.splitlines() if line.strip()]
    year = _notice_year(paragraphs)
    sections = _sections(paragraphs)
    if not sections:
        raise NoticeParseError("no numbered holiday section (like 一、元旦:…) in the notice")

    days_off: dict[date, str] = {}
    make_up_workdays: dict[date, str] = {}
    for section in sections:
        # The 元旦 holiday can start in the December before: then December means the year before.
        has_january = any(
            spec.month == 1
            for sentence in section.sentences
            for clause in sentence.clauses
            for spec in clause.dates
        )
        for sentence in section.sentences:
            stated_off = 0
            for clause in sentence.clauses:
                days = _resolve(clause, year, has_january, sentence.original)
                if clause.count is not None and clause.count != len(days):
                    raise NoticeParseError(
                        f"the notice says {clause.count} days, the dates give {len(days)}",
                        sentence.original,
                    )
                for day in days:
                    if day in days_off or day in make_up_workdays:
                        raise NoticeParseError(
                            f"{day.isoformat()} is named more than once", sentence.original
                        )
                    if clause.working:
                        if day.weekday() < 5:
                            raise NoticeParseError(
                                f"the working day {day.isoformat()} is a "
                                f"{_WEEKDAY_NAME[day.weekday()]}, not a Saturday or Sunday",
                                sentence.original,
                            )
                        make_up_workdays[day] = section.name
                    else:
                        days_off[day] = section.name
                        stated_off += 1
            if sentence.total is not None and sentence.total != stated_off:
                raise NoticeParseError(
                    f"the notice says 共{sentence.total}天, the dates give {stated_off}",
                    sentence.original,
                )
    return ParsedNotice(year=year, days_off=days_off, make_up_workdays=make_up_workdays)


def _normalized(text: str) -> str:
    return "".join(text.translate(_FULL_TO_HALF).split())


def _notice_year(paragraphs: list[str]) -> int:
    title_year = body_year = None
    body_sentence = ""
    for paragraph in paragraphs:
        normalized = _normalized(paragraph)
        if title_year is None and (match := _TITLE_YEAR.search(normalized)):
            title_year = int(match.group(1))
        if body_year is None and (match := _BODY_YEAR.search(normalized)):
            body_year = int(match.group(1))
            body_sentence = paragraph
    if title_year is not None and body_year is not None and title_year != body_year:
        raise NoticeParseError(
            f"the title is for {title_year} but the body for {body_year}", body_sentence
        )
    year = title_year if title_year is not None else body_year
    if year is None:
        raise NoticeParseError(
            "no year found: neither a title 国务院办公厅关于XXXX年部分节假日安排的通知 "
            "nor 现将XXXX年… in the body",
            paragraphs[0] if paragraphs else "",
        )
    return year


def _sections(paragraphs: list[str]) -> list[_Section]:
    sections: list[_Section] = []
    # A section runs on over following paragraphs that still arrange days (a notice pasted with
    # its 上班 sentence on a line of its own); any other paragraph closes it.
    open_section: _Section | None = None
    for paragraph in paragraphs:
        sentences = _SENTENCE.findall(paragraph)
        # The translation maps one character to one, so positions in it are positions in paragraph.
        heading = _HEADING.match(paragraph.translate(_FULL_TO_HALF))
        if heading:
            open_section = _Section(name=heading.group(2).strip(), sentences=[])
            sections.append(open_section)
            _read_sentences(open_section, sentences, heading_length=heading.end())
            continue
        arranging = [
            s for s in sentences if _ANY_DATE.search(_normalized(s)) and _ARRANGEMENT.search(s)
        ]
        if not arranging:
            open_section = None
        elif open_section is None:
            raise NoticeParseError(
                "days are arranged outside a numbered holiday section", arranging[0].strip()
            )
        else:
            _read_sentences(open_section, sentences, heading_length=0)
    return sections


def _read_sentences(section: _Section, sentences: list[str], heading_length: int) -> None:
    for index, original in enumerate(sentences):
        text = original[heading_length:] if index == 0 else original
        normalized = _normalized(text).rstrip("。")
        if not normalized or normalized.startswith("鼓励"):
            continue
        # The quote keeps the heading on the first sentence: that is what a reader recognises.
        sentence = _read_sentence(normalized, original.strip())
        if sentence is not None:
            section.sentences.append(sentence)


def _read_sentence(normalized: str, original: str) -> _Sentence | None:
    clauses: list[_Clause] = []
    total: int | None = None
    unreadable = False
    for part in re.split(r"[,;]", normalized):
        if not part or part in _REMARKS_WITHOUT_DATES:
            continue
        if match := _TOTAL.fullmatch(part):
            if total is not None:
                unreadable = True
            total = int(match.group(1))
            continue
        clause = _read_clause(part, original)
        if clause is None:
            unreadable = True
        else:
            clauses.append(clause)
    if unreadable:
        if _ANY_DATE.search(normalized) or clauses or total is not None:
            raise NoticeParseError("this sentence could not be read completely", original)
        return None  # prose, such as a reminder to arrange duty rosters
    if total is not None and not any(not clause.working for clause in clauses):
        raise NoticeParseError("共N天 without days off to count", original)
    if not clauses and total is None:
        return None
    return _Sentence(original=original, clauses=clauses, total=total)


def _read_clause(part: str, original: str) -> _Clause | None:
    specs: list[_DateSpec] = []
    separators: list[str] = []
    position = 0
    previous: _DateSpec | None = None
    while match := _DATE.match(part, position):
        explicit_year, month, day, remark = match.groups()
        if month is None:
            if previous is None:
                return None  # "3日" with no month before it
            month_number = previous.month
            # "2012年1月1日至3日": the year carries over together with the month.
            year_number = previous.explicit_year if explicit_year is None else int(explicit_year)
        else:
            month_number = int(month)
            year_number = int(explicit_year) if explicit_year else None
        spec = _DateSpec(year_number, month_number, int(day), _weekday_of(remark, original))
        specs.append(spec)
        previous = spec
        position = match.end()
        if part.startswith(_LIST_SEPARATOR, position):
            separators.append(_LIST_SEPARATOR)
            position += len(_LIST_SEPARATOR)
        elif separator := _RANGE_SEPARATOR.match(part, position):
            separators.append("range")
            position = separator.end()
        else:
            break
    if not specs or len(separators) != len(specs) - 1:
        return None
    verb = _VERB.fullmatch(part, position)
    if verb is None:
        return None
    is_range = separators == ["range"]
    if "range" in separators and not is_range:
        return None  # a range mixed into a list is not a form the notices use
    if verb.group("work") and is_range:
        return None
    return _Clause(
        working=verb.group("work") is not None,
        dates=tuple(specs),
        is_range=is_range,
        count=int(verb.group("count")) if verb.group("count") else None,
    )


def _weekday_of(remark: str | None, original: str) -> int | None:
    if remark is None:
        return None
    weekday = None
    for item in remark.split("、"):
        if match := _WEEKDAY.fullmatch(item):
            if weekday is not None:
                raise NoticeParseError(f"two weekdays in one remark ({remark})", original)
            weekday = _WEEKDAY_NUMBER[match.group(1)]
        elif not (item.startswith("农历") or item == "除夕"):
            raise NoticeParseError(f"unknown remark ({remark})", original)
    return weekday


def _resolve(clause: _Clause, year: int, has_january: bool, original: str) -> list[date]:
    days = [_date_of(spec, year, has_january, original) for spec in clause.dates]
    if not clause.is_range:
        return days
    first, last = days
    if last <= first:
        raise NoticeParseError(
            f"the range ends ({last.isoformat()}) before it begins ({first.isoformat()})", original
        )
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _date_of(spec: _DateSpec, year: int, has_january: bool, original: str) -> date:
    if spec.explicit_year is not None:
        resolved_year = spec.explicit_year
    elif spec.month == 12 and has_january:
        resolved_year = year - 1
    else:
        resolved_year = year
    try:
        day = date(resolved_year, spec.month, spec.day)
    except ValueError:
        raise NoticeParseError(
            f"{resolved_year}年{spec.month}月{spec.day}日 is not a date", original
        ) from None
    if spec.weekday is not None and spec.weekday != day.weekday():
        raise NoticeParseError(
            f"{day.isoformat()} is a {_WEEKDAY_NAME[day.weekday()]}, "
            f"not a {_WEEKDAY_NAME[spec.weekday]} as the notice says",
            original,
        )
    return day
