"""Organisation names by form: "X Co., Ltd.", "X Association", "Ministry of X", "X有限公司", "X局".

A candidate is a run of capitalised words (English) or of Han characters (Chinese) that ends
with a head word of organisation names, or an English run that starts with one ("Ministry
of Commerce"). Job titles before a name are cut off ("Chief Engineer and Director of X"
gives X), a unit named "of" a known body gives that body only, a body named by its owner
("Huawei's sustainability committee") is not a separate actor, and the Chinese left edge is
found at punctuation, function words, verbs and job titles.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass

# --- English -----------------------------------------------------------------------------

_LEGAL = (
    r"(?:Group\s+)?(?:Co\.,?\s*Ltd\.?|Co\.\s*Limited|Company\s+Limited|Company|Corporation|"
    r"Corp\.|Inc\.|Ltd\.|Limited|LLC|GmbH|AG|S\.A\.|PLC|plc|N\.V\.|B\.V\.|Holdings)"
)
# Head words that end a name ("... Association"), or start one when "of" follows
# ("Ministry of ...", "University of ...").
HEADS = {
    "Association", "Alliance", "Council", "Institute", "Institution", "Federation",
    "Foundation", "Fund", "Union", "Network", "Campaign", "Coalition", "Commission",
    "Committee", "Bureau", "Department", "Ministry", "Administration", "Agency", "Centre",
    "Center", "University", "College", "Academy", "Society", "Exchange", "Bank", "Group",
    "Government", "Chamber", "Confederation", "Secretariat", "Parliament", "Board",
    "Organization", "Organisation", "Cooperative",
}  # fmt: skip
_JOB = {
    "Chairman", "Chairwoman", "Chairperson", "Chair", "President", "Vice", "Director",
    "Director-General", "Deputy", "Chief", "Officer", "Engineer", "Secretary",
    "Secretary-General", "Head", "Manager", "Minister", "Governor", "Mayor", "Dean",
    "Professor", "Founder", "Co-founder", "CEO", "CFO", "CTO", "COO", "Ambassador",
    "Representative", "Spokesperson", "Spokesman", "Spokeswoman", "Executive", "Member",
    "Members", "General", "Senior", "Fellow", "Researcher", "Analyst", "Adviser", "Advisor",
    "Coordinator", "Lead", "Leader", "Partner", "Staff", "Officials", "Official", "Experts",
    "Expert", "Delegates", "Delegation", "Representatives", "Speakers", "Participants",
}  # fmt: skip
_STOP_LEAD = {
    "The", "A", "An", "This", "That", "These", "Those", "Its", "Their", "Our", "His", "Her",
    "In", "At", "On", "For", "With", "By", "From", "As", "To", "Of", "And", "Both", "All",
    "Every", "Each", "Among", "After", "Before", "During", "Under", "Since", "While", "When",
    "Contact", "About", "Join", "Meanwhile", "Also", "Today", "Yesterday", "Last", "Next",
    "New", "Former", "Local", "National", "Several", "Many", "Some", "Other", "Two", "Three",
    "Dear", "Led", "Organised", "Organized", "Hosted", "Funded", "Backed", "Supported",
}  # fmt: skip
_CONNECT = {"of", "and", "for", "the", "on", "in", "&", "de", "du", "des", "für"}
_WORD = (
    r"(?:[A-Z][\w'’&\-]*|\d+[A-Za-z][\w'’&\-]*"
    r"|\((?:China|Shanghai|Beijing|Hong Kong|Shenzhen)\))"
)
_RUN_RE = re.compile(
    rf"{_WORD}(?:[ \t]+(?!{_LEGAL}(?!\w))(?:{_WORD}|of|and|for|the|on|in|&|de|du|des|für))*"
    rf"(?:,?[ \t]+{_LEGAL}(?!\w))?"
)
_GENERIC = {
    "Central", "Local", "Municipal", "Provincial", "National", "Regional", "International",
    "Global", "Joint", "Working", "Steering", "Organising", "Organizing", "Expert", "Advisory",
    "Executive", "Standing", "Technical", "Scientific", "Sustainability", "Sustainable",
    "Development", "Responsibility", "CSR", "ESG", "Audit", "Management", "Supervisory",
    "Supplier", "Suppliers", "Corporate", "Company", "Group", "Internal", "Project", "Programme",
}  # fmt: skip
_VENUE = {
    "Convention", "Expo", "Exhibition", "Conference", "Stadium", "Hotel", "Hall", "Arena",
    "Auditorium", "Theatre", "Theater", "Pavilion", "Plaza",
}  # fmt: skip
_NAME_POSSESSIVES = {"People's", "People’s", "Children's", "Children’s", "Teenagers'", "Workers'"}
# "Beijing-based", "Shenzhen-headquartered", "London-listed": where a body sits, not its name.
_SEAT_RE = re.compile(
    r"[A-Za-z.]+-(?:based|headquartered|listed|registered|incorporated|founded|owned|backed)$",
    re.IGNORECASE,
)
# Units of a body ("Department of Comprehensive Affairs", "Office of the Secretary"): named
# without their body (a place, a level of government or a known name), they are no actor.
_UNIT_HEADS = {"Department", "Division", "Office", "Section", "Unit", "Bureau", "Directorate"}
_LEVELS = {
    "Provincial", "Municipal", "City", "County", "District", "State", "Federal", "National",
    "Central", "Regional", "Prefectural", "Autonomous", "Chinese", "European", "American",
    "British", "German", "French", "Japanese", "Korean", "Indian", "US", "U.S.", "UK", "EU", "UN",
}  # fmt: skip
_TRAILING_RE = re.compile(r"(?:[ \t]+(?:of|and|for|the|on|in|&|de|du|des|für))+$")
_LEGAL_RE = re.compile(rf",?\s+{_LEGAL}$")
_POSSESSIVE_RE = re.compile(r"['’]s?\s*$")


def _trim_run(words: list[str]) -> list[str]:
    """Drop leading words that are not part of a name: sentence openers, job titles."""
    # A job title with "of": keep what follows the last "<title> of (the)".
    for index in range(len(words) - 1, -1, -1):
        if words[index] == "of" and index > 0 and words[index - 1] in _JOB:
            words = words[index + 1 :]
            break
    # "Beijing-based Greenlink Research Institute": the seat goes, the name stays.
    for index in range(len(words) - 1, -1, -1):
        if _SEAT_RE.match(words[index]):
            words = words[index + 1 :]
            break
    while words and (words[0] in _STOP_LEAD or words[0] in _JOB or words[0] in _CONNECT):
        words = words[1:]
    # "Members of the X": a leading non-head word followed by "of" is not the name.
    while len(words) > 2 and words[1] == "of" and words[0] not in HEADS:
        words = words[2:]
        while words and words[0] in _CONNECT:
            words = words[1:]
    return words


def _has_head(words: list[str], legal: bool) -> bool:
    if legal:
        return True
    if not words or words[-1] in _CONNECT:
        return False
    if words[-1].rstrip(".,") in HEADS:
        return True
    # "Ministry of Commerce", "Council of the European Union", "Provincial Department of ...".
    return any(w in HEADS and nxt == "of" for w, nxt in itertools.pairwise(words))


def _split_and(words: list[str], legal: bool = False, text: str = "") -> list[list[str]]:
    """Two names joined by "and": "Council of the European Union and Tsinghua University",
    or "Huaxin Precision Electronics and Jinghai Construction Group" when the first is also
    named on its own in `text`, or "Alibaba Foundation and WWF" (the first ends with its head
    word; the second is for the gazetteer). An "and" inside a name ("Department of Industry
    and Information Technology") stays."""
    for index, word in enumerate(words):
        if word in ("and", "&") and 0 < index < len(words) - 1:
            before, after = words[:index], words[index + 1 :]
            named_alone = len(before) >= 2 and text.count(" ".join(before)) > 1
            if (_has_head(_trim_run(before), False) or named_alone) and (
                legal or _has_head(_trim_run(after), False)
            ):
                return [before, *_split_and(after, legal, text)]
            if not legal and len(before) >= 2 and before[-1] in HEADS:
                return [before, *_split_and(after, legal, text)]
    return [words]


_OF_PLACE_RE = re.compile(r"(?:(?<=Group)|(?<=Company)|(?<=Corporation))\s+of\s+([A-Z][\w' -]+)$")


def english_names(text: str, places: frozenset[str] = frozenset()) -> list[tuple[int, int, str]]:
    """(start, end, name) of English organisation names found by their form."""
    found: list[tuple[int, int, str]] = []
    for match in _RUN_RE.finditer(text):
        run = _TRAILING_RE.sub("", match.group(0))
        if not run:
            continue
        legal = _LEGAL_RE.search(run)
        core = run[: legal.start()] if legal else run
        starts = [m.start() for m in re.finditer(r"\S+", core)]
        words = core.split()
        parts = _split_and(words, bool(legal), text)
        first = 0
        for number, part in enumerate(parts):
            last = number == len(parts) - 1
            offset = first
            first += len(part) + 1  # the words of this part and its "and"
            if any(w.endswith(("'s", "’s", "'", "’")) and w not in _NAME_POSSESSIVES for w in part):
                continue  # "Huawei's Corporate Sustainable Development Committee": a unit
            trimmed = _trim_run(part)
            is_legal = bool(legal) and last
            if len(trimmed) < (1 if is_legal else 2) or not _has_head(trimmed, is_legal):
                continue
            if all(w in HEADS or w in _CONNECT or w in _GENERIC for w in trimmed):
                continue  # "Department", "Central Government", "Organising Committee"
            if any(w in _VENUE for w in trimmed):
                continue  # "Suzhou International Expo Centre": a venue
            if (
                trimmed[0] in _UNIT_HEADS
                and not is_legal
                and not any(w in places or w in _LEVELS for w in trimmed)
            ):
                continue  # "Department of Comprehensive Affairs": a unit named without its body
            start = match.start() + starts[offset + len(part) - len(trimmed)]
            if last:
                end = match.start() + len(run)
            else:
                end = match.start() + starts[offset + len(part) - 1] + len(part[-1])
            name = " ".join(text[start:end].split())
            # "Delta Knit Group of Dhaka": the company, not its city.
            place = _OF_PLACE_RE.search(name)
            if place and place.group(1) in places:
                name = name[: place.start()]
            found.append((start, start + len(name), name))
    return found


# --- Chinese -----------------------------------------------------------------------------

# Heads, longest first; a single-character head (局, 厅, 委, 办) needs a place before it.
_ZH_HEADS = [
    "股份有限公司", "有限责任公司", "集团有限公司", "集团股份有限公司", "有限公司", "集团公司",
    "管理委员会", "人民政府", "研究中心", "研究院", "研究所", "促进会", "联合会", "委员会",
    "管委会", "基金会", "交易所", "协会", "学会", "商会", "总会", "中心", "大学", "学院", "联盟",
    "网络", "工会", "银行", "集团", "政府", "局", "厅", "委",
]  # fmt: skip
_ZH_SHORT_HEADS = {"局", "厅", "委", "政府"}
_ZH_GENERIC_HEADS = {"中心", "网络", "联盟", "委员会", "集团", "公司", "协会", "学院", "大学"}
_ZH_HEAD_RE = re.compile("|".join(re.escape(h) for h in _ZH_HEADS))
_ZH_CHAR = r"[\u4e00-\u9fffA-Za-z0-9&·()（）]"
# Compounds that keep a function character inside a name: "工业和信息化厅", "对外经济".
_ZH_KEEP = (
    "和信息化", "和社会保障", "和城乡建设", "和改革", "和旅游", "和科技", "和环境", "和化学",
    "和技术", "和发展", "联合国", "有限", "有色", "中国联合", "对外", "经济", "经贸", "经营",
    "日本", "本土", "同济", "和平",
)  # fmt: skip
# Characters that end the words before a name. The soft ones (对, 经, 于 ...) are also common
# inside names: they cut only a name that does not start with a national word, a place or a
# government body ("中国对外承包工程商会" is whole; "…对绿源纺织协会" gives "绿源纺织协会").
_ZH_HARD_STOPS = set(
    "的与和及、由在是被向为将从把给跟了以并或而也都就还让使请即该我你他她它这那此各另称至"
)
_ZH_SOFT_STOPS = set("同对据经于等有其本")
_ZH_STOP_CHARS = _ZH_HARD_STOPS | _ZH_SOFT_STOPS
# A date or a deadline ends the words before a name: "力争到2026年中央企业集团…".
_ZH_DATE_RE = re.compile(
    r"(?:到|至|于|在)?\d{2,4}年(?:\d{1,2}月)?(?:\d{1,2}日)?(?:前|底|末|起|内)?|\d{1,2}月\d{1,2}日"
)
# Words that only describe a kind of body ("国家行业协会", "直辖市纺织行业协会", "中央企业集团"):
# a name made of nothing else is no name.
_ZH_GENERIC_PARTS = sorted(
    (
        "国家", "行业", "直辖市", "自治区", "省级", "市级", "县级", "区级", "地市", "地方", "各省",
        "各地", "各级", "全省", "全市", "中央企业", "央企", "国有企业", "国企", "民营企业",
        "中小企业", "企业", "重点", "有关", "相关", "主管", "本地", "当地", "境内", "境外", "海外",
        "中资", "外资", "大型", "中小", "龙头", "骨干", "产业", "纺织", "服装", "电子", "信息",
        "轻工", "化工", "钢铁", "汽车", "家电", "机械", "建筑", "物流", "零售", "食品", "农业",
        "矿业", "能源", "电力", "金融", "科技", "技术", "工业", "商业", "贸易", "进出口",
        "社会", "专业", "中央", "省", "市", "县", "区", "级", "类", "性", "型",
    ),
    key=len,
    reverse=True,
)  # fmt: skip
# Characters that do not start a name: the cut fell inside a word.
_ZH_NO_START = set("济贸营销之其及着过们")
# Verbs that end the words before a name wherever they stand ("承诺设立…委员会").
_ZH_VERBS_RE = re.compile(
    r"(?:设立|成立|建立起?|组建|承诺|拥有|击败|提高|推动|引导|随着|发布|举办|携手|联合|签署|支持|委托|"
    r"邀请|包括|来自|牵头|指导|主办|承办|协办|参与|加入|授予|获得|宣布|介绍|表示|认为|指出|出席|参加|"
    r"会同|联手|牵手|入选|推荐|依托|通过|根据|按照|报道|走进|访问|考察|调研|点名|要求|鼓励|督促|覆盖|服务|"
    r"帮助|带动|惠及|面向|首期|二期|一期|力争|争取|确保|发送|报送|提交|寄送|抄送|加快|实现)"
)
_ZH_COUNT_RE = re.compile(r"[一两二三四五六七八九十几多数\d]+余?[大家个所位名批]")
# A kind of body before its name: "再生塑料生产企业富联绿色材料股份有限公司".
_ZH_KIND_RE = re.compile(
    r"(?:企业|机构|单位|厂商|供应商|制造商|品牌商|服务商)(?=[\u4e00-\u9fff]{4})"
)
_ZH_VENUE_RE = re.compile(r"(?:会议|会展|展览|博览|国际会议|体育|文化)中心$|酒店$|宾馆$")
_ZH_LEAD_WORDS = [
    "携手", "联合", "签署", "支持", "委托", "邀请", "代表", "包括", "来自", "组织", "协同", "牵头",
    "指导", "主办", "承办", "协办", "参与", "加入", "成立", "设立", "授予", "获得", "发布", "举办",
    "宣布", "介绍", "表示", "认为", "指出", "出席", "参加", "会同", "联手", "牵手", "入选", "推荐",
    "依托", "通过", "根据", "按照", "其中", "以及", "此前", "目前", "近日", "日前", "今天", "今年",
    "去年", "记者", "本报", "本网", "首届", "报道", "讯", "与会", "嘉宾", "企业", "机构", "单位",
    "旗下", "所属", "下属", "全体", "多家", "一家", "各家", "其他", "相关", "有关",
]  # fmt: skip
_ZH_JOB_RE = re.compile(
    r"(?:副?总工程师|副?主任|副?董事长|副?总经理|负责人|秘书长|副?会长|副?院长|副?主席|书记|副?局长|"
    r"副?厅长|副?部长|处长|经理|总监|总裁|专家|教授|博士|首席\S{0,4}官|创始人|理事长|兼)"
)
# What stands between the words before a name and the name: job titles, verbs, counts, kinds
# of body, dates.
_ZH_SEPARATORS = (_ZH_JOB_RE, _ZH_VERBS_RE, _ZH_COUNT_RE, _ZH_KIND_RE, _ZH_DATE_RE)
_ZH_GENERIC_NAMES = {
    "行业", "相关", "有关", "地方", "各地", "国内", "国际", "跨国", "上市", "子", "分", "母",
    "控股", "外资", "民营", "国有", "科技", "品牌", "服装", "纺织", "电子", "该", "本", "两家",
    "多家",
    "服务", "销售", "研究", "培训", "技术", "专业", "第三方", "认证", "检测", "物流", "咨询",
}  # fmt: skip
_ZH_GENERIC_STARTS = (
    "供应商", "可持续发展", "董事会", "社会责任", "工人", "员工", "证券", "内部", "专门",
)  # fmt: skip
_ZH_NATIONAL = (
    "中国", "中华", "全国", "国家", "国际", "世界", "亚洲", "亚太", "东盟", "欧洲", "全球",
)  # fmt: skip


def _guard(name: str) -> str:
    """`name` with the compounds of _ZH_KEEP blanked, so no cut falls inside them."""
    for keep in _ZH_KEEP:
        if keep in name:
            name = name.replace(keep, "\0" * len(keep))
    return name


def _only_generic(name: str) -> bool:
    """Whether `name` is made only of words that describe a kind of body."""
    at = 0
    while at < len(name):
        word = next((w for w in _ZH_GENERIC_PARTS if name.startswith(w, at)), None)
        if word is None:
            return False
        at += len(word)
    return True


@dataclass
class ChineseNames:
    """Chinese organisation names by form. `places` are place names that may start a name;
    `anchors` are the words a name may start with whole (national words, places, government
    bodies of the gazetteer such as 商务部)."""

    places: tuple[str, ...] = ()
    anchors: tuple[str, ...] = ()

    def find(self, text: str) -> list[tuple[int, int, str]]:
        found: list[tuple[int, int, str]] = []
        last_end = 0
        for head in _ZH_HEAD_RE.finditer(text):
            if head.start() < last_end:
                continue
            end = head.end()
            # The longest head at this position is what the alternation found; a name may
            # continue with a longer one ("集团" + "有限公司").
            longer = _ZH_HEAD_RE.match(text, end)
            if longer and head.group(0) in ("集团",) and longer.group(0) != "集团":
                end = longer.end()
            name = self._left_edge(text, head.start(), last_end)
            if name is None:
                continue
            start = head.start() - len(name)
            full = text[start:end]
            if self._acceptable(name, text[head.start() : end]):
                found.append((start, end, full))
                last_end = end
        return found

    def _left_edge(self, text: str, head_start: int, floor: int = 0) -> str | None:
        """The characters before a head that name the body, or None."""
        begin = head_start
        while begin > floor and head_start - begin < 24 and re.match(_ZH_CHAR, text[begin - 1]):
            begin -= 1
        name = text[begin:head_start]
        # Cut at the last hard function character (but keep "工业和信息化" and the like).
        cut = max((i for i, c in enumerate(_guard(name)) if c in _ZH_HARD_STOPS), default=-1)
        name = name[cut + 1 :]
        # A name that starts with a national word, a place or a government body runs whole
        # to its head unless a word (a verb, a job title, a count, a date) stands between:
        # "中国对外承包工程商会", "商务部国际贸易经济合作研究院".
        guarded = _guard(name)
        words = max(
            (m.end() for pattern in _ZH_SEPARATORS for m in pattern.finditer(guarded)),
            default=0,
        )
        anchors = self.anchors or (*self.places, *_ZH_NATIONAL)
        anchored = next((i for i in range(words, len(name)) if name.startswith(anchors, i)), None)
        if anchored is not None:
            return name[anchored:]
        # Otherwise the soft function characters cut too ("…对绿源纺织协会").
        cut = max((i for i, c in enumerate(_guard(name)) if c in _ZH_SOFT_STOPS), default=-1)
        if cut >= 0:  # a filler word the stop starts goes whole ("其中", "有关", "本报")
            filler = next((w for w in _ZH_LEAD_WORDS if name.startswith(w, cut)), "")
            cut += max(len(filler) - 1, 0)
        name = name[cut + 1 :]
        # Cut after a job title ("…副总工程师兼科技委" is a title, not a body), a verb, a
        # count ("两家", "40余家") or a date.
        for pattern in _ZH_SEPARATORS:
            cuts = [m.end() for m in pattern.finditer(_guard(name))]
            if cuts:
                name = name[cuts[-1] :]
        # Cut leading verbs and fillers.
        changed = True
        while changed and name:
            changed = False
            for word in _ZH_LEAD_WORDS:
                if name.startswith(word) and len(name) > len(word):
                    name, changed = name[len(word) :], True
        # A place or a national word starts most names: cut before the first one (outside
        # brackets), so "与会嘉宾来自东莞市" gives "东莞市".
        starts = [name.find(p) for p in (*self.places, *_ZH_NATIONAL) if p and name.find(p) > 0]
        starts = [s for s in starts if "(" not in name[:s] and "（" not in name[:s]]
        if starts and not any(name.startswith(p) for p in (*self.places, *_ZH_NATIONAL)):
            name = name[min(starts) :]
        name = re.sub(r"^[\d年月日号]+", "", name)
        if name[:1] in _ZH_NO_START:
            return None  # "济合作研究院": the cut fell inside a word
        return name or None

    def _acceptable(self, name: str, head: str) -> bool:
        bare = name.strip("()（）")
        if len(bare) < 2 or bare in _ZH_GENERIC_NAMES or bare.startswith(_ZH_GENERIC_STARTS):
            return False
        if _only_generic(bare):
            return False  # "国家行业协会", "直辖市纺织行业协会": a kind of body, not a name
        if _ZH_VENUE_RE.search(name + head):
            return False  # "上海国际会议中心": a venue
        if name.startswith(("市", "省", "区", "县", "上市", "城市", "超市", "都市")):
            return False  # "市商务局": the city's bureau, named without its city
        if re.fullmatch(r"[\dA-Za-z]+", bare) and head in _ZH_GENERIC_HEADS:
            return False
        placed = any(p in name for p in self.places) or bool(
            re.match(r"[\u4e00-\u9fff]{2,4}(?:省|市|县|自治区|特别行政区)", name)
        )
        national = name.startswith(_ZH_NATIONAL)
        if head in _ZH_SHORT_HEADS:
            return placed
        if head in _ZH_GENERIC_HEADS and not (placed or national):
            return (
                len(bare) >= 4
                and not bare.startswith(tuple(_ZH_GENERIC_NAMES))
                and not bare.endswith(("行业", "有关", "相关"))
            )
        return True


def strip_legal(name: str) -> str:
    """A company name without its legal form: "Huaxin Precision Electronics Co., Ltd." ->
    "Huaxin Precision Electronics", "华新精密电子有限公司" -> "华新精密电子"."""
    core = _LEGAL_RE.sub("", name).strip()
    for head in ("股份有限公司", "有限责任公司", "集团有限公司", "有限公司", "集团公司", "公司"):
        if core.endswith(head) and len(core) > len(head) + 1:
            return core[: -len(head)]
    return core


def short_forms(name: str, places: Iterable[str]) -> list[str]:
    """Short forms a text may use for a company named in full earlier: the name without its
    legal suffix, and without its leading place ("Huaxin Precision", "华新精密")."""
    core = strip_legal(name)
    if core == name:
        return []
    forms = [core]
    for place in places:
        if core.startswith(place) and len(core) - len(place) >= 2:
            rest = core[len(place) :].lstrip("市省 ")
            if len(rest) >= 2:
                forms.append(rest)
    # Drop a trailing industry word: "华新精密电子" -> "华新精密", "Ruida Optoelectronics" stays.
    for form in list(forms):
        for word in ("电子", "科技", "光电", "材料", "物流", "纺织", "电池科技", "Electronics"):
            if form.endswith(word) and len(form) - len(word) >= 2:
                forms.append(form[: -len(word)].strip())
    return [f for f in dict.fromkeys(forms) if len(f) >= 2 and f != name]


# Words after a company's name in its legal name: "Hikvision Digital Technology", "海尔智家".
_DESCRIPTORS_RE = re.compile(
    r"(?:\s+(?:Digital|Smart|Home|Technology|Technologies|Electronics|Electronic|Electric|Electrical|"
    r"Appliances?|Industry|Industrial|Industries|Precision|Holdings?|Group|International|"
    r"Products|Sports|Communications?|Information|Science|Software|Systems|Solutions|Energy|"
    r"New|Materials?|Power|Network|Networks|Motors?|Automobile|Auto|Corporation|Company))+$"
    r"|(?:科技|技术|电子|电器|电气|数字|智能|智家|精密|工业|实业|控股|集团|股份|国际|信息|通信|"
    r"网络|能源|新能源|材料|动力|汽车|体育用品|用品)+$"
)


def linking_forms(name: str, places: Iterable[str]) -> list[str]:
    """Shorter forms under which a legal name may be known: "Hangzhou Hikvision Digital
    Technology Co., Ltd." -> "Hangzhou Hikvision Digital Technology", "Hikvision Digital
    Technology", "Hikvision"; "青岛海尔智家股份有限公司" -> "青岛海尔智家", "海尔智家", "海尔"."""
    core = strip_legal(name)
    forms = [core]
    for place in places:
        if core.startswith(place) and len(core) - len(place) >= 2:
            rest = core[len(place) :].lstrip("市省 ")
            if len(rest) >= 2:
                forms.append(rest)
    for form in list(forms):
        bare = _DESCRIPTORS_RE.sub("", form).strip()
        if len(bare) >= 2 and bare != form:
            forms.append(bare)
    return [f for f in dict.fromkeys(forms) if f != name]
