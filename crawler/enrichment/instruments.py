"""Laws, regulations and guidelines by the form of their names, when no code names them.

English: a run of capitalised words that ends with an instrument word ("Work Safety Law",
"EU Battery Regulation", "ETI Base Code") or has one followed by "for"/"on"/"of" and more
capitalised words ("Regulations on Ensuring Payment of Wages to Migrant Workers", "Basic
Standard for Corporate Sustainability Disclosure"), with an optional "of the People's Republic
of China", subtitle ("- Sustainability Reports") and "(Trial)". Chinese: a title in book-title
marks that ends with an instrument word (《…法》《…条例》《…办法》《…指引》《…标准》...).
Report titles, book titles and generic phrases ("the new law", "national standards", "Safety
Standards") are not instruments.
"""

from __future__ import annotations

import re

HEADS = {
    "Law", "Laws", "Act", "Regulation", "Regulations", "Directive", "Measures", "Guidelines",
    "Guideline", "Guidance", "Standard", "Standards", "Code", "Principles", "Provisions", "Rules",
    "Opinions", "Convention", "Protocol",
}  # fmt: skip
# Heads that name a kind of text as much as an instrument: with only topic words before them
# ("Safety Standards", "Labour Rules", "Supplier Code") they are generic.
_SOFT_HEADS = {
    "Laws", "Regulations", "Measures", "Guidelines", "Guideline", "Guidance", "Standard",
    "Standards", "Code", "Principles", "Provisions", "Rules", "Opinions",
}  # fmt: skip
_CONNECT = {"of", "for", "on", "the", "and", "to", "in", "from", "with", "concerning", "&"}
_OPENERS = {"for", "on", "of", "concerning", "regarding"}
# Words that do not make a name specific: "the New Law", "EU Directive", "National Standards".
_GENERIC = {
    "The", "A", "An", "This", "That", "These", "Such", "Its", "Their", "Our", "New", "National",
    "International", "Chinese", "Local", "Relevant", "Applicable", "Draft", "Proposed", "Current",
    "Existing", "Industry", "Group", "Internal", "Corporate", "Global", "Mandatory", "Voluntary",
    "Technical", "EU", "UN", "US", "China", "Supplier", "Suppliers", "Sector",
    "Government", "State", "Provincial", "Municipal", "Related", "Key", "Main", "Latest",
    "Revised", "Updated", "Final", "Interim", "Respective", "One", "Two", "Three", "Four",
    "Five", "Six", "Seven", "Eight", "Nine", "Ten", "Twelve", "Various", "Several", "Other",
    "Base", "General", "Common", "Model", "Own",
}  # fmt: skip
_TOPICS = {
    "Labour", "Labor", "Environmental", "Environment", "Safety", "Quality", "Social",
    "Sustainability", "Accounting", "Basic", "Core", "Minimum", "Ethical", "Human", "Rights",
    "Reporting", "Disclosure", "Supply", "Chain", "Procurement", "Audit", "Trade", "Data",
    "Privacy", "Climate", "Conduct", "Business", "Green", "Product", "Products", "Health",
    "Workplace", "Management", "ESG", "CSR", "Responsibility", "Sourcing", "Emission", "Emissions",
    "Company", "Companies",
}  # fmt: skip
# Leading words that are not part of a name.
_LEAD = {
    "The", "A", "An", "Under", "In", "At", "On", "For", "With", "By", "From", "As", "To", "Of",
    "And", "Both", "All", "Per", "Following", "According", "Its", "Their", "Our", "This",
    "That", "These", "Those", "While", "When", "After", "Before", "Since", "Unlike", "Like",
    "Also", "Meanwhile", "Besides", "Beyond", "Through", "Via", "Against", "Within", "Without",
}  # fmt: skip
# Places and bodies whose names end like an instrument ("Law School", "QR Code").
_NOT_INSTRUMENT = {
    "University", "College", "School", "Faculty", "Firm", "Firms", "Centre", "Center", "Office",
    "QR", "Zip", "Post", "Postal", "Source", "Dress", "HS", "Area", "Country", "Bar", "Promo",
    "Discount", "Morse", "Genetic",
    # job titles: "Director of Standards", "Head of Code Compliance"
    "Director", "Directors", "Chairman", "Chair", "Manager", "Officer", "Head", "Specialist",
    "Secretary", "President", "Minister", "Expert", "Experts", "Advisor", "Adviser", "Lead",
    "Coordinator", "Analyst", "Professor", "Dean", "Committee", "Department", "Division",
}  # fmt: skip
# Last words of a venue's or a body's name: "Shenzhen Convention and Exhibition Center" is one
# place, not "Shenzhen Convention" and a centre.
_VENUE_ENDS = {
    "Centre", "Center", "Hall", "Hotel", "Park", "Expo", "Exhibition", "Exhibitions", "Stadium",
    "Arena", "Museum", "Palace", "Square", "Building", "Plaza", "Office", "Institute",
}  # fmt: skip
_WORD = r"(?:No\.\s*\d+|[A-Z][\w'’\-]*)"
_CONN_RE = "|".join(sorted(_CONNECT - {"&"})) + "|&"
_RUN = rf"{_WORD}(?:[ \t]+(?:{_WORD}|(?:{_CONN_RE})(?![\w'’])))*"
_TAIL = (
    r"(?:\s*\((?:for\s+)?(?:Trial|Interim|Provisional)(?:\s+Implementation)?\)"
    r"|\s*\((?:\d{4}\s+)?(?:Revision|Revised|Amendment|Edition)\))"
)
_RUN_RE = re.compile(rf"(?P<main>{_RUN})(?:[ \t]+-[ \t]+(?P<sub>{_RUN}))?(?P<tail>{_TAIL})?")
_POSSESSIVE_RE = re.compile(r"['’]s?$")
_TOKEN_RE = re.compile(r"No\.\s*\d+|\S+")

# Chinese: 《…》 (and 〈…〉 inside another title) ending with an instrument word.
_ZH_TITLE_RES = (re.compile(r"《([^《》\n]{2,60})》"), re.compile(r"〈([^〈〉《》\n]{2,60})〉"))
_ZH_ENDINGS = (
    "法", "条例", "办法", "规定", "指引", "指南", "意见", "标准", "准则", "规范", "规则", "细则",
    "公约", "原则", "导则", "守则", "要求", "决定", "通则", "规程",
)  # fmt: skip
# Reports, books and lists are no instruments; nor are plans (《…实施方案》《…纲要》): they
# set out work, not rules.
_ZH_NOT = (
    "报告",
    "白皮书",
    "蓝皮书",
    "年鉴",
    "名单",
    "通知",
    "案例集",
    "手册",
    "教材",
    "方案",
    "纲要",
)
_ZH_TAIL_RE = re.compile(r"[(（][^()（）]{1,12}[)）]$")


def _trim(tokens: list[str], lo: int, hi: int) -> tuple[int, int]:
    """The range of `tokens[lo:hi]` that may name an instrument: without openers ("Under
    the"), trailing connectors, or a possessor ("the CSRC's Guidelines", "ETI's Base Code":
    what follows must name the instrument on its own)."""
    for index in range(hi - 1, lo - 1, -1):
        if _POSSESSIVE_RE.search(tokens[index]) and tokens[index] not in ("People's", "People’s"):
            lo = index + 1
            break
    while lo < hi and (tokens[lo] in _LEAD or tokens[lo] in _CONNECT):
        lo += 1
    while hi > lo and tokens[hi - 1] in _CONNECT:
        hi -= 1
    return lo, hi


def _head(words: list[str]) -> tuple[str, bool] | None:
    """The instrument word that makes `words` an instrument's name, and whether it opens a
    title ("Regulations on …", "Guidelines No. 14 for …"); None when there is none."""
    if len(words) >= 2 and words[-1] in HEADS:
        return words[-1], False
    for index, word in enumerate(words[:-2]):
        nxt = index + 2 if words[index + 1].startswith("No.") else index + 1
        if (
            word in HEADS
            and nxt < len(words) - 1
            and words[nxt] in _OPENERS
            and any(w not in _CONNECT for w in words[nxt + 1 :])
        ):
            # "Regulations on …" opens a title; "Code of Conduct" is a name like any other.
            return word, words[nxt] != "of"
    return None


def _specific(words: list[str], head: str, title: bool) -> bool:
    """Whether the words around the head name one instrument rather than a kind of text."""
    if any(w in _NOT_INSTRUMENT for w in words):
        return False
    others = [w for w in words if w != head and w not in _CONNECT]
    if not others:
        return False
    # "Regulations on …" is a title by its form; "Safety Standards" is a kind of text.
    generic = _GENERIC | _TOPICS if head in _SOFT_HEADS and not title else _GENERIC
    return not all(w.strip("'’") in generic for w in others)


def _narrow(tokens: list[str], lo: int, hi: int) -> int:
    """Where a name that ends with its instrument word starts: after the last "and" ("Report
    and the National Standards") or "on"/"for" ("Specialist on Labour Standards") when the
    words before hold no instrument word."""
    for index in range(hi - 2, lo, -1):
        if tokens[index] in ("and", "&", "on", "for", "concerning", "regarding"):
            if tokens[index] in ("and", "&") or not any(t in HEADS for t in tokens[lo:index]):
                return index + 1
    return lo


def _split_and(tokens: list[str], lo: int, hi: int) -> list[tuple[int, int]]:
    """ "the Work Safety Law and the Environmental Protection Law": two instruments."""
    for index in range(lo + 1, hi - 1):
        if tokens[index] in ("and", "&"):
            b_lo, b_hi = _trim(tokens, lo, index)
            a_lo, a_hi = _trim(tokens, index + 1, hi)
            # Two names: each has its instrument word, or the first ends with one ("the
            # Kyoto Protocol and the Paris Agreement"); not "Prevention and Control of …".
            before_head = _head(tokens[b_lo:b_hi])
            after_head = _head(tokens[a_lo:a_hi])
            name_end = next((i for i in range(a_lo, a_hi) if tokens[i] in _CONNECT), a_hi)
            if not after_head and name_end > a_lo and tokens[name_end - 1] in _VENUE_ENDS:
                continue  # "… Convention and Exhibition Centre (on …)": one venue's name
            if before_head and (after_head or not before_head[1]):
                return [(lo, index), *_split_and(tokens, index + 1, hi)]
    return [(lo, hi)]


def english_instruments(text: str) -> list[tuple[int, int, str]]:
    """(start, end, name) of English instruments named by form."""
    found: list[tuple[int, int, str]] = []
    for match in _RUN_RE.finditer(text):
        spans = [(m.start() + match.start(), m.group(0)) for m in _TOKEN_RE.finditer(match["main"])]
        starts, tokens = [s for s, _ in spans], [t for _, t in spans]
        parts = _split_and(tokens, 0, len(tokens))
        for number, (part_lo, part_hi) in enumerate(parts):
            lo, hi = _trim(tokens, part_lo, part_hi)
            head = _head(tokens[lo:hi])
            if head is not None and not head[1]:
                lo, hi = _trim(tokens, _narrow(tokens, lo, hi), hi)
                head = _head(tokens[lo:hi])
            if head is None or not _specific(tokens[lo:hi], *head):
                continue
            start, end = starts[lo], starts[hi - 1] + len(tokens[hi - 1])
            if number == len(parts) - 1 and hi == part_hi:
                sub, tail = match["sub"], match["tail"]
                # A subtitle belongs to the name when a "(Trial)" tail closes it or it ends
                # like a document ("- Sustainability Report").
                if sub and (tail or sub.split()[-1].rstrip("s") in {"Report", *HEADS}):
                    end = match.end("sub")
                if tail:
                    end = match.end("tail")
            name = " ".join(text[start:end].split())
            found.append((start, end, name))
    return found


def chinese_instruments(text: str) -> list[tuple[int, int, str]]:
    """(start, end, title) of instruments named in book-title marks: 《…条例》."""
    found = []
    for title_re in _ZH_TITLE_RES:
        for match in title_re.finditer(text):
            title = match.group(1).strip()
            core = _ZH_TAIL_RE.sub("", title).strip()
            if core.endswith(_ZH_NOT) or not core.endswith(_ZH_ENDINGS) or len(core) < 3:
                continue
            if "〈" in title:
                continue  # a title that quotes another: the quoted one is the instrument
            found.append((match.start(1), match.end(1), title))
    # A short form ("以下简称《指导意见》") is the end of a full title found in the same text.
    titles = {title for _, _, title in found}
    return sorted(
        item for item in found if not any(t != item[2] and t.endswith(item[2]) for t in titles)
    )


def variant_key(name: str) -> str:
    """One key for the spellings of one instrument: "EU Batteries Regulation" and "the EU
    Battery Regulation", "Self-Regulatory Guidelines - Sustainability Reports (Trial)" and its
    form with an em dash."""
    words = re.findall(r"[^\W_]+", name.casefold())
    words = [w for w in words if w not in ("the", "a", "an")]
    return " ".join(
        w[:-3] + "y" if w.endswith("ies") else w[:-1] if w.endswith("s") and len(w) > 3 else w
        for w in words
    )
