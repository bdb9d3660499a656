"""Chrome left inside the chosen text, found line by line in its Markdown: "Read more" lines, bars
of links, copyright, picture-credit and advertising-disclosure lines, the link lists and date lines
at the text's edges, a "more on this" or comments section and the calls to subscribe, follow or
comment at its end."""

from __future__ import annotations

import re

from csrnews.crawler.extraction.choose import PROSE_MIN, prose, visible, weight
from csrnews.crawler.extraction.clean import markdown_to_text

# "Read more: [headline](url)", "See also » [headline](url)", ">> [headline](url)": a paragraph
# that is a short label and one link points to another story.
_ONE_LINK_RE = re.compile(r"\[(?:\\.|[^\]\\\n])+\]\([^)\s]*\)")
_LINK_PARTS_RE = re.compile(r"\[((?:\\.|[^\]\\\n])+)\]\(([^)\s]*)\)")
_BAR_REST_RE = re.compile(r"[\s|>»/·•,;:\-–—*_\\]*")
_COPYRIGHT_RE = re.compile(r"(?i)^\W{0,6}(?:©|\(c\)\s|copyright\b)")
# "Photo: …", "Bild: …", "Crédits photos : …", "Source: …", "图片来源：…", "（责任编辑：…）": who
# took a picture or where a text came from, a line of its own under a picture or the story.
_CREDIT_RE = re.compile(
    r"(?i)^\W{0,3}(?:photos?|fotos?|bild(?:er)?|images?|pictures?|credits?|crédits?(?: photos?)?"
    r"|titelbild|beitragsbild|abbildung|illustration|quellen?|sources?|fuente|图片来源|图片|图|摄影"
    r"|供图|责任编辑)\s*(?:\([^)]*\)\s*)?[:：|/]"
)
CREDIT_MAX = 100  # characters: a credit line is short; a paragraph that starts so is prose
_LABEL_END = (":", "：", "»", ">>", "→", "|")
_EMPHASIS = "*_ \t\u00a0"
# List bullets, quote and heading marks, and the dashes and arrows sites put before a link.
_LEADING_MARKS_RE = re.compile(r"^\s*(?:#{1,6}\s+|>\s*|[-*+•]\s+|\d+[.)]\s+|\\?[-–—»>]\s*)*")
_LINK_REST_RE = re.compile(r"[\s|·•,;:.\-–—»>()\\*_]*")
# A link to a file (a picture, a PDF, a spreadsheet) is part of the story, not a way out of it.
_FILE_RE = re.compile(
    r"(?i)\.(?:jpe?g|png|gif|webp|svg|pdf|docx?|xlsx?|pptx?|zip|mp3|mp4)(?:[?#]|$)"
)
_URL_LABEL_RE = re.compile(r"(?i)^(?:https?://|www\.)|^\S+@\S+\.\w+$")
LINK_LABEL_MAX = 250  # characters: a longer link label is a paragraph that happens to be linked
_SENTENCE_END = tuple('.!?:;)"“”»…。！？：；）」』')


def _is_see_also(line: str) -> bool:
    core = line.strip(_EMPHASIS)
    if not core.endswith(")") or "](" not in core or core[:1] in "-+" or core[:1].isdigit():
        return False
    start = core.find("[")
    label = core[:start].strip(_EMPHASIS)
    if not label or len(label) > 40 or not label.endswith(_LABEL_END):
        return False
    return _ONE_LINK_RE.fullmatch(core[start:].strip(_EMPHASIS)) is not None


def _is_link_bar(line: str) -> bool:
    """A line (or table row) of two or more links and nothing but separators: a navigation bar."""
    if line.count("](") < 2:
        return False
    rest = _ONE_LINK_RE.sub("", line)
    return _BAR_REST_RE.fullmatch(rest) is not None and len(_ONE_LINK_RE.findall(line)) >= 2


def _is_copyright(line: str) -> bool:
    """A short copyright or credit notice ("© 2020 Example Ltd. All rights reserved")."""
    text = visible(line)
    return len(text) < 120 and _COPYRIGHT_RE.match(text) is not None


def is_credit(line: str) -> bool:
    """A short line that says who took a picture or where the text came from ("Photo: …")."""
    text = visible(line)
    return len(text) < CREDIT_MAX and _CREDIT_RE.match(text) is not None


def is_link_line(line: str) -> bool:
    """A line that is one link to another page and nothing else: a teaser of another story, a
    "back to the list" link. A visible URL or e-mail address and a link to a file are the
    story's own."""
    core = _LEADING_MARKS_RE.sub("", line.strip()).strip(_EMPHASIS)
    found = _LINK_PARTS_RE.search(core)
    if found is None:
        return False
    rest = (core[: found.start()] + core[found.end() :]).strip(_EMPHASIS)
    if _LINK_REST_RE.fullmatch(rest) is None:
        return False
    label, target = found.group(1).strip(_EMPHASIS), found.group(2)
    if not label or len(label) > LINK_LABEL_MAX or _URL_LABEL_RE.search(label):
        return False
    return _FILE_RE.search(target) is None


def _is_list_title(line: str) -> bool:
    """A heading, a bold line or a short label ending in ":" or "?" ("Read also:", "Related")."""
    stripped = line.strip()
    if not stripped or "](" in stripped:
        return False
    text = visible(stripped)
    if weight(text) >= PROSE_MIN:
        return False
    bold = re.fullmatch(r"(\*\*|__).+\1", stripped) is not None
    return stripped.startswith("#") or bold or text.endswith((":", "：", "?", "？"))


def _is_dangling_label(line: str) -> bool:
    """A short label ending in a colon ("Read also:", "相关阅读："), with no link of its own."""
    text = visible(line)
    return "](" not in line and weight(text) < PROSE_MIN and text.endswith((":", "："))


def _ends_sentence(line: str) -> bool:
    stripped = line.strip()
    text = visible(stripped).rstrip(_EMPHASIS)
    return not text or text.endswith(_SENTENCE_END) or stripped.startswith(("#", "|", "- ", "* "))


def _edge_links(lines: list[str]) -> set[int]:
    """The indexes of the link lists at the start and the end of a text: lines that are each
    one link to another page (teasers of other stories under "Read also:", "More from ...",
    a back link, a breadcrumb's last step), with the list's title. A link that ends a sentence
    of the paragraph before is the story's own."""
    filled = [i for i, line in enumerate(lines) if line.strip()]
    start = 0
    while start < len(filled) and is_link_line(lines[filled[start]]):
        start += 1
    end = len(filled)
    if end > start and _is_dangling_label(lines[filled[end - 1]]):
        end -= 1  # "Related:" whose links the extractor left out introduces nothing
    while True:  # list after list ("Related" links, then "Most read" links), from the end
        run_end = end
        while end > start and is_link_line(lines[filled[end - 1]]):
            end -= 1
        if end == run_end or end == start:
            break
        before = lines[filled[end - 1]]
        if _is_list_title(before):
            end -= 1
        elif not _ends_sentence(before):
            end = run_end  # "... details are on the [council's site](url)."
            break
    if not any(prose(lines[i]) for i in filled[start:end]):
        return set()  # the links are all there is: leave them
    return set(filled[:start]) | set(filled[end:])


# "Anzeige", "Werbung", "Advertisement" as a line's first word; or a line that says the text holds
# affiliate links or advertising, or that the site earns a commission on what is bought through it.
_DISCLOSURE_START_RE = re.compile(
    r"(?i)^[\W_]*(?:anzeige|werbung|advertisement|advertorial|sponsored|publicidad|publicité"
    r"|pubblicità|广告)(?![\w-])"
)
_DISCLOSURE_RE = re.compile(
    r"(?i)affiliate[- ]?links?|(?:post|article|page|story|beitrag|artikel)\s+(?:contains|may\s+"
    r"contain|includes|enthält|kann)\s+(?:affiliate|references\s+to\s+products|sponsored|paid|"
    r"werbung|werbende|links\s+zu\s+anbietern)|we\s+(?:may\s+)?(?:receive|earn)\s+(?:a\s+)?"
    r"(?:small\s+)?(?:commission|compensation)|(?:erhalten|bekommen|erhält)\s+(?:wir\s+)?eine\s+"
    r"(?:kleine\s+)?provision"
)
# A word that each disclosure above has: most lines have none, and the expression is not tried.
_DISCLOSURE_WORDS = (
    "affiliate",
    "references",
    "sponsored",
    "paid",
    "werb",
    "anbieter",
    "commission",
    "compensation",
    "provision",
)
DISCLOSURE_MAX = 400  # characters: a disclosure is a note, not a paragraph of the story
LABEL_MAX = 200  # characters: a line that starts "Anzeige" and runs on is an ad's teaser at most
# Calls to the reader at a text's end: subscribe, sign up for the newsletter, follow or support
# the site, download its app, write a letter to the editor, leave a comment.
_CALL_RE = re.compile(
    r"(?i)(?:our|unser\w*|zum|nuestro|notre|votre|weekly|daily|free|e-?mail)\s+(?:\w+\s+)?"
    r"newsletter|newsletter\s*(?:anmeld|abonn|sign|subscri|registr)|\bsubscri(?:be|bers?|ption)"
    r"\b|sign(?:ing)?\s+up\s+(?:here|now|today|for\s+(?:our|free)|to\s+our)\b|\blog\s+in\s+"
    r"for\b|follow\s+(?:us|me)\b|follow\s+(?:\S+\s+){1,3}on\s+(?:twitter|facebook|instagram|"
    r"linkedin)|support\s+(?:our|us)\b|supporting\s+our\b|letters?\s+to\s+the\s+editor|submit\s+"
    r"a\s+letter|download\s+(?:the|our)\s+(?:\S+\s+)?apps?\s+(?:for|on)\s+(?:ios|android)|\babonn|"
    r"\babo\b|\bfolg(?:e|t|en\s+sie)\s+(?:uns|mir)\b|unterstütze\b|unterstützen\s+sie|nichts\s+"
    r"(?:mehr\s+|neues\s+)?(?:verpassen|versäumen)|suscr[ií]b|s[ií]gue?nos|s[ií]gannos|únete|"
    r"hazte\s+(?:miembro|socio)|canal\s+de\s+(?:youtube|telegram|whatsapp)|boletín|suivez-nous|"
    r"soutenez|inscrivez-vous|assine|inscreva-se|siga-nos|关注我们|订阅|扫码|扫描二维码|(?:leave|"
    r"post|add)\s+a\s+comment|comment\s+below|in\s+den\s+kommentaren|kommentare?\s+(?:hinzufügen|"
    r"schreiben|verfassen)|um\s+(?:selbst\s+)?kommentare|kommentare\s+werden\s+geladen|deja\s+"
    r"(?:un|tu)\s+comentario|laissez\s+un\s+commentaire"
)
CALL_MAX = 400  # characters: a longer paragraph that mentions a newsletter is the story's own
# Headings of a section of other stories: "Related", "More on this topic", "Read also",
# "Weitere Artikel zum Thema", "Notas relacionadas", "À lire aussi", "相关阅读", ...
_RELATED_RE = re.compile(
    r"(?i)^\W*(?:related(?:\s+(?:articles?|stories|posts?|content|news|reading|links?|topics?))?"
    r"\b|more\s+(?:stories|articles|news|posts|on\s+this|from|to\s+(?:read|explore))\b|"
    r"(?:read|see)\s+(?:also|more|next)\b|also\s+read\b|further\s+reading|recommended(?:\s+for\s+"
    r"you|\s+reading|\s+articles|\s+stories)?\W*$|you\s+"
    r"(?:may|might)\s+also\b|editors?[’']?\s+(?:picks?|recommendations?)|popular\s+(?:posts|"
    r"stories|articles)|most\s+(?:read|popular)\b|(?:weitere|mehr|ähnliche|verwandte|empfohlene|"
    r"passende)\s+(?:\w+\s+)?(?:artikel|beiträge|themen|nachrichten|meldungen|news|storys|stories"
    r"|\w+tipps)\b|mehr\s+zum\s+thema|auch\s+interessant|passend\s+zum\s+thema|(?:lesen\s+sie|"
    r"lies)\s+(?:auch|mehr|weiter)\b|zum\s+weiterlesen|das\s+könnte\s+(?:sie|dich|euch)|diese\s+"
    r"artikel\s+könnten|vorschau\s+auf|entdecke\s+(?:weitere|mehr)|(?:notas|noticias|artículos|"
    r"contenidos?|temas)\s+relacionad[oa]s|te\s+puede\s+interesar|lee\s+(?:también|más)|más\s+"
    r"noticias\b|también\s+te\s+puede|leia\s+(?:também|mais)|veja\s+também|notícias\s+"
    r"relacionadas|leggi\s+anche|articoli\s+correlati|(?:à|a)\s+lire\s+(?:aussi|également)|lire\s+"
    r"aussi|sur\s+le\s+même\s+sujet|articles?\s+similaires|voir\s+aussi|dans\s+la\s+même\s+"
    r"rubrique|相关(?:阅读|新闻|文章|报道|链接)|推荐阅读|延伸阅读|热门(?:文章|新闻))"
)
# Headings of the readers' comments under a story: "3 Comments", "Kommentare", "Leave a reply".
_COMMENTS_RE = re.compile(
    r"(?i)^\W*(?:\d+\s+(?:comments?|kommentare?|comentarios?|commentaires?|responses?|antworten"
    r"|replies)\b|#?\d+\s+kommentar\s+von\b|(?:(?:neue|letzte)\s+)?(?:comments?|kommentare|"
    r"comentarios|commentaires)\W*$|leave\s+a\s+(?:reply|comment)|schreibe?\s+einen\s+kommentar|"
    r"(?:keine|no)\s+(?:kommentare|comments)|(?:网友|发表|最新)?评论\W*$|(?:我要)?留言\W*$)"
)
RELATED_AFTER = 0.5  # the heading comes after this share of the text's prose
RELATED_REST = 0.15  # and the prose under it, links aside, is under this share of the prose above
_MONTHS = (
    r"(?:jan(?:uary|uar|vier)?|feb(?:ruary|ruar|rero)?|mar(?:ch|s|zo)?|märz|apr(?:il)?|ma[iy]|mayo"
    r"|june?|juni|juin|july?|juli|juillet|aug(?:ust)?|août|sep(?:t(?:ember)?)?|oct(?:ober)?|"
    r"okt(?:ober)?|nov(?:ember)?|de[cz](?:ember)?|décembre|enero|febrero|abril|junio|julio|agosto|"
    r"septiembre|octubre|noviembre|diciembre)"
)
_DATE_RE = re.compile(
    r"(?i)\b\d{1,2}[./-]\s?\d{1,2}[./-]\s?\d{2,4}\b|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}\.?\s+"
    + _MONTHS
    + r"\.?\s+\d{4}\b|\b"
    + _MONTHS
    + r"\.?\s+\d{1,2},?\s+\d{4}\b|\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日"
)
_TIME_RE = re.compile(r"(?i)\b\d{1,2}[:.]\d{2}(?:\s*(?:am|pm|uhr|h)\b)?|[0-2]?\d:[0-5]\d")
_WEEKDAY_RE = re.compile(
    r"(?i)\b(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day|montag|dienstag|mittwoch|donnerstag|"
    r"freitag|samstag|sonntag|lunes|martes|miércoles|jueves|viernes|sábado|domingo|lundi|mardi|"
    r"mercredi|jeudi|vendredi|samedi|dimanche)\b|(?:星期|周)[一二三四五六日天]"
)
DATELINE_MAX = 80  # characters: a line that holds a date and runs on is a sentence
DATELINE_LETTERS = 20  # besides the date and time: "Posted:", "Stand:", "Aktualisiert am"
DATELINE_WORDS = 2  # "Entries close on 3 November 2019." is a sentence
EDGE_LINES = 3  # date lines are looked for among the text's first and last lines


def is_disclosure(line: str) -> bool:
    """A line that says the text is advertising or holds affiliate links ("Anzeige", "This post
    contains affiliate links", "Werbung", "we may earn a commission")."""
    lower = line.lower()
    if not (
        any(word in lower for word in _DISCLOSURE_WORDS) and _DISCLOSURE_RE.search(line)
    ) and not _DISCLOSURE_START_RE.match(line):
        return False  # most lines: no need to make their text
    text = markdown_to_text(line)
    if len(text) < LABEL_MAX and _DISCLOSURE_START_RE.match(text):
        return True
    return len(text) < DISCLOSURE_MAX and _DISCLOSURE_RE.search(text) is not None


def is_dateline(line: str) -> bool:
    """A short line that is a date (a time, a weekday, a label or two beside it): "23.10.2018",
    "Posted: Thursday, April 21, 2022. 10:11 pm", "Stand: 28.04.2020 18:00 Uhr"."""
    text = visible(line)
    if len(text) > DATELINE_MAX or not _DATE_RE.search(text):
        return False
    rest = _WEEKDAY_RE.sub(" ", _TIME_RE.sub(" ", _DATE_RE.sub(" ", text)))
    words = re.sub(r"[\W\d_]+", " ", rest).split()
    return len(words) <= DATELINE_WORDS and sum(map(len, words)) <= DATELINE_LETTERS


def _datelines(lines: list[str]) -> set[int]:
    """The date lines among the text's first and last few lines, before and after its prose."""
    filled = [i for i, line in enumerate(lines) if line.strip()]
    found: set[int] = set()
    for edge in (filled[:EDGE_LINES], filled[::-1][:EDGE_LINES]):
        for i in edge:
            if prose(lines[i]):
                break
            if is_dateline(lines[i]):
                found.add(i)
    return found


def _calls_at_the_end(lines: list[str]) -> set[int]:
    """The calls to the reader (subscribe, follow us, support our work, ...) after the story's
    last paragraph: looked for from the end up to the first paragraph of prose that is none."""
    found: set[int] = set()
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i]
        if not line.strip():
            continue
        text = markdown_to_text(line)
        if len(text) < CALL_MAX and _CALL_RE.search(text):
            found.add(i)
        elif prose(line):
            break
    return found


_OPEN_LINK_RE = re.compile(r"(?<!\\)\[")


def _is_heading(line: str) -> bool:
    """A heading, a bold line or a short label: no link, no more than a long title."""
    stripped = line.strip()
    if not stripped or _OPEN_LINK_RE.search(stripped):
        return False  # a link, or the first line of one whose label runs over lines
    return weight(visible(stripped).strip("*_ :：")) < 2 * PROSE_MIN


def _story_goes_on(lines: list[str]) -> bool:
    """Whether two paragraphs of prose follow each other, links aside: the story, not teasers."""
    before = False
    for line in lines:
        if is_link_line(line):
            before = False
            continue
        here = bool(prose(line))
        if here and before:
            return True
        before = here
    return False


def _related_section(lines: list[str]) -> set[int]:
    """A section of other stories or of readers' comments in the text's last part: its heading
    ("Related", "Mehr zum Thema", "Notas relacionadas", "3 Comments") and all below it when
    little prose follows apart from links and no two paragraphs in a row (teasers under their
    links, dates, short comments); otherwise the heading and the links right under it."""
    filled = [i for i, line in enumerate(lines) if line.strip()]
    for k, i in enumerate(filled):
        line = lines[i]
        if not (_RELATED_RE.match(line) or _COMMENTS_RE.match(line)) or not _is_heading(line):
            continue  # the expressions skip marks; a heading's words start the line
        text = visible(line).strip("*_ ")
        if not (_RELATED_RE.match(text) or _COMMENTS_RE.match(text)):
            continue
        above = prose("\n".join(lines[:i]))
        if not above or above < RELATED_AFTER * (above + prose("\n".join(lines[i:]))):
            continue
        below = filled[k + 1 :]
        rest = sum(prose(lines[j]) for j in below if not is_link_line(lines[j]))
        if rest <= RELATED_REST * above and not _story_goes_on([lines[j] for j in below]):
            return {i, *below}
        found = {i}
        for j in below:
            line = lines[j]
            if not (is_link_line(line) or not (prose(line) or line.lstrip().startswith("#"))):
                break
            found.add(j)
        return found
    return set()


def drop_chrome_lines(markdown: str) -> str:
    """Remove what is left of chrome in the chosen text: paragraphs that are only a label and a
    link to another story ("Read more: …"), bars of links, copyright, credit and advertising
    disclosure lines, the lists of links to other pages and the date lines at the text's start
    and end, a section of other stories or of comments near its end and the calls to subscribe,
    follow or comment there."""
    lines = markdown.split("\n")
    edges = _edge_links(lines)
    lines = [
        line
        for i, line in enumerate(lines)
        if i not in edges
        and not (_is_see_also(line) or _is_link_bar(line) or _is_copyright(line))
        and not is_credit(line)
        and not is_disclosure(line)
    ]
    for find in (_calls_at_the_end, _related_section, _datelines):
        gone = find(lines)
        lines = [line for i, line in enumerate(lines) if i not in gone]
    return "\n".join(lines)
