"""Event type from the main event: headline and lead decide, the body breaks ties.

Words from event_types.yaml earn points for their type, weighted by where they stand
(headline, lead, body); words that only name a venue ("at the … summit", "在…年会上") count
for little, genre words ("notice", "通知") for nothing. The headline and lead choose the
candidates; the body decides only between candidates that are close; a full tie goes to the
type with the stronger headline, then lead evidence, then the earlier first mention.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from csrnews.crawler.enrichment.textutil import PhraseIndex, normalise
from csrnews.crawler.enrichment.zones import ZONES, Zones, split_zones, venue_spans

from csrnews.story.vocabulary import EVENT_TYPES

logger = logging.getLogger(__name__)

NEUTRAL = ""  # the key of genre words: matched (so they hide shorter words) but worth nothing
# Where a headline's clauses part: "X tops the index; Y and Z follow", "年会召开 多家企业获表彰".
_CLAUSE_RE = re.compile(
    r"[:;,|!?：；，｜！？。]|\s[-–—]+\s|(?<=[\u4e00-\u9fff”」》)])\s+(?=[\u4e00-\u9fff“「《(])"
)


@dataclass
class Hit:
    """One word that earned points for an event type."""

    type_id: str
    word: str
    zone: str
    points: float
    start: int
    end: int = -1
    weight: float = 0.0  # the rule's weight, before zone and venue factors
    pattern: bool = False
    described: float = 0.0  # points taken off a word that only describes the subject


@dataclass
class Decision:
    """The event type, strong runners-up, and the words that decided."""

    category: str
    runners: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)


@dataclass
class ZoneRules:
    """The phrases that count in one zone: word -> [(type id, weight), ...]."""

    index: PhraseIndex
    groups: dict[str, list[tuple[str, float]]]
    patterns: list[tuple[re.Pattern[str], str, float]] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        triples: list[tuple[str, float, str]],
        patterns: list[tuple[str, float, str]] = (),  # type: ignore[assignment]
    ) -> ZoneRules:
        groups: dict[str, list[tuple[str, float]]] = {}
        for key, weight, word in triples:
            word = " ".join(normalise(word).split())
            if word:
                groups.setdefault(word, []).append((key, weight))
        index = PhraseIndex()
        for word in groups:
            wildcard = word.endswith("*") and len(word) > 1
            index.add(
                word.rstrip("*") if wildcard else word, word, ignore_case=True, wildcard=wildcard
            )
        compiled = [(re.compile(p, re.IGNORECASE), key, weight) for key, weight, p in patterns]
        return cls(index, groups, compiled)


@dataclass
class Genre:
    """A kind of page that is no event (a job ad), known by `min_markers` of its markers."""

    name: str
    type_id: str
    markers: re.Pattern[str]  # one alternation, marker i as group "m<i>": one pass a text
    min_markers: int = 2

    def found(self, text: str) -> list[str]:
        """The first match of each marker found in `text`, in order of appearance."""
        seen: dict[str | None, str] = {}
        for match in self.markers.finditer(text):
            seen.setdefault(match.lastgroup, match.group(0))
        return list(seen.values())


def _verbs(verbs: list[str]) -> re.Pattern[str] | None:
    """One regex that finds a headline verb ("wins", "launches", "获") followed by at most
    three words (Latin) or eight characters (Chinese) at the end of a text."""
    latin = [normalise(str(v)) for v in verbs if str(v).isascii()]
    han = [normalise(str(v)) for v in verbs if not str(v).isascii()]
    branches = []
    if latin:
        words = "|".join(re.escape(v).replace(r"\ ", r"\s+") for v in sorted(latin, key=len)[::-1])
        branches.append(rf"(?<![A-Za-z])(?:{words})(?:\s+[^\s]+){{0,3}}\s+$")
    if han:
        words = "|".join(re.escape(v) for v in sorted(han, key=len)[::-1])
        branches.append(rf"(?:{words})[^\s,;:|]{{0,8}}$")
    return re.compile("|".join(branches), re.IGNORECASE) if branches else None


def _inside(start: int, spans: list[tuple[int, int]]) -> bool:
    return any(s <= start < e for s, e in spans)


@dataclass
class TypeClassifier:
    """Scores every event type per zone; see the module docstring for the decision."""

    zone_rules: dict[str, ZoneRules]
    zone_weights: dict[str, float]
    max_count: int = 3
    min_score: float = 4.0
    margin: float = 0.2
    lead_cap: float = 12.0
    venue_factor: float = 0.3
    runner_up_ratio: float = 0.6
    top10_items_bonus: float = 20.0
    top10_entry_bonus: float = 12.0
    predicate_weight: float = 5.0
    subject_factor: float = 0.3
    predicate_verbs: re.Pattern[str] | None = None  # a verb at the end of the text before
    genres: list[Genre] = field(default_factory=list)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> TypeClassifier:
        weights = {"headline": float(data.get("title_weight", 4)), "lead": 2.0, "body": 1.0}
        weights.update({k: float(v) for k, v in (data.get("zone_weights") or {}).items()})
        per_zone: dict[str, list[tuple[str, float, str]]] = {zone: [] for zone in ZONES}
        patterns: dict[str, list[tuple[str, float, str]]] = {zone: [] for zone in ZONES}
        for type_id, rules in (data.get("types") or {}).items():
            if type_id not in EVENT_TYPES:
                raise ValueError(f"event_types.yaml: unknown event type {type_id!r}")
            for rule in rules or []:
                weight = float(rule.get("weight", 1))
                zones = rule.get("zones") or list(ZONES)
                for zone in zones:
                    if zone not in per_zone:
                        raise ValueError(f"event_types.yaml: unknown zone {zone!r}")
                    per_zone[zone] += [(type_id, weight, str(w)) for w in rule.get("words") or []]
                    for pattern in rule.get("patterns") or []:
                        try:
                            re.compile(str(pattern))
                        except re.error as exc:
                            raise ValueError(
                                f"event_types.yaml: bad pattern {pattern!r} of {type_id}: {exc}"
                            ) from None
                        patterns[zone].append((type_id, weight, str(pattern)))
        for zone in ZONES:
            per_zone[zone] += [(NEUTRAL, 0.0, str(w)) for w in data.get("neutral") or []]
        genres = []
        for entry in data.get("genres") or []:
            if entry.get("type") not in EVENT_TYPES:
                raise ValueError(f"event_types.yaml: unknown event type of genre {entry!r}")
            try:
                markers = re.compile(
                    "|".join(
                        f"(?P<m{i}>{m})" for i, m in enumerate(entry.get("markers") or ["(?!)"])
                    ),
                    re.IGNORECASE,
                )
            except re.error as exc:
                raise ValueError(f"event_types.yaml: bad marker of genre: {exc}") from None
            genres.append(
                Genre(
                    str(entry.get("name", entry["type"])),
                    str(entry["type"]),
                    markers,
                    int(entry.get("min_markers", 2)),
                )
            )
        return cls(
            zone_rules={
                zone: ZoneRules.build(triples, patterns[zone]) for zone, triples in per_zone.items()
            },
            zone_weights=weights,
            max_count=int(data.get("max_count", 3)),
            min_score=float(data.get("min_score", 4)),
            margin=float(data.get("margin", 0.2)),
            lead_cap=float(data.get("lead_cap", 12)),
            venue_factor=float(data.get("venue_factor", 0.3)),
            runner_up_ratio=float(data.get("runner_up_ratio", 0.6)),
            top10_items_bonus=float(data.get("top10_items_bonus", 20)),
            top10_entry_bonus=float(data.get("top10_entry_bonus", 12)),
            predicate_weight=float(data.get("predicate_weight", 5)),
            predicate_verbs=_verbs(data.get("predicate_verbs") or []),
            subject_factor=float(data.get("subject_factor", 0.3)),
            genres=genres,
        )

    def hits(self, zones: Zones) -> list[Hit]:
        """Every word that earned points, with its zone and points."""
        found: list[Hit] = []
        for zone, text in zones.items():
            if not text:
                continue
            rules = self.zone_rules[zone]
            venues = venue_spans(text)
            seen: Counter[str] = Counter()
            words: list[Hit] = []
            for start, end, payload in rules.index.finditer(text):
                word = str(payload)
                seen[word] += 1
                if seen[word] > self.max_count:
                    continue
                factor = self.zone_weights[zone] * (
                    self.venue_factor if _inside(start, venues) else 1.0
                )
                for type_id, weight in rules.groups[word]:
                    if type_id != NEUTRAL and weight:
                        words.append(Hit(type_id, word, zone, weight * factor, start, end, weight))
            phrases: list[Hit] = []
            for pattern, type_id, weight in rules.patterns:
                match = pattern.search(text)
                if match:
                    phrases.append(
                        Hit(
                            type_id,
                            match.group(0)[:40],
                            zone,
                            weight * self.zone_weights[zone],
                            match.start(),
                            match.end(),
                            weight,
                            pattern=True,
                        )
                    )
            # A pattern is a longer phrase and counts once: a word inside it ("index" in "tops
            # the Transparency Index", "表彰" in "获表彰") earns nothing of its own, and the
            # phrase earns at least what its words of the same type would have.
            inside: set[int] = set()
            for phrase in phrases:
                within = [i for i, w in enumerate(words) if phrase.start <= w.start < phrase.end]
                own = sum(words[i].points for i in within if words[i].type_id == phrase.type_id)
                phrase.points = max(phrase.points, own)
                inside.update(within)
            words = [w for i, w in enumerate(words) if i not in inside]
            zone_hits = words + phrases
            if zone == "headline":
                self._discount_subject(text, zone_hits)
            found += zone_hits
        return found

    def _is_predicate(self, headline: str, begin: int, hit: Hit) -> bool:
        """A strong word that a verb brings in ("wins … award", "launches training", "获…奖"),
        or a pattern (patterns start at their verb: "tops … Index", "名列…榜首")."""
        if hit.weight < self.predicate_weight or not hit.type_id:
            return False
        if hit.pattern:
            return True
        before = headline[max(begin, hit.start - 40) : hit.start]
        return self.predicate_verbs is not None and bool(self.predicate_verbs.search(before))

    def _discount_subject(self, headline: str, hits: list[Hit]) -> None:
        """In each clause of a headline, the predicate decides: when a strong word (weight of
        `predicate_weight` or more) brought in by a verb follows a subject ("X Project wins
        award", "…计划获…奖", "Northwind tops … Index"), words of other types in that subject
        only describe it and earn `subject_factor` of their points."""
        bounds = [0, *(m.end() for m in _CLAUSE_RE.finditer(headline)), len(headline) + 1]
        for begin, end in itertools.pairwise(bounds):
            strong = [
                h for h in hits if begin <= h.start < end and self._is_predicate(headline, begin, h)
            ]
            if not strong:
                continue
            predicate = min(strong, key=lambda h: h.start)
            if len(headline[begin : predicate.start].strip()) < 2:
                continue  # nothing before it: the strong word is the subject itself
            for hit in hits:
                if (
                    begin <= hit.start
                    and hit.end <= predicate.start
                    and hit.type_id != predicate.type_id
                ):
                    hit.described = hit.points * (1 - self.subject_factor)
                    hit.points -= hit.described

    def genre(self, title: str, text: str) -> tuple[str, str] | None:
        """(type id, evidence) when the page is of a kind that is no event (a job ad), known
        by the form of its text rather than by what it mentions."""
        for genre in self.genres:
            found = genre.found(f"{title}\n{text}")
            if len(found) >= genre.min_markers:
                return genre.type_id, f"{genre.name}: {', '.join(found[:3])}"
        return None

    def classify(
        self, title: str, text: str, top10_items: int = 0, top10_reasons: int = 0
    ) -> Decision:
        """The winning event type, strong runners-up and the deciding words."""
        genre = self.genre(title, text)
        if genre is not None:
            return Decision(genre[0], [], [f"genre: {genre[1]}"])
        hits = self.hits(split_zones(title, text))
        if top10_items >= 5:
            hits.append(Hit("top10", "numbered entries", "body", self.top10_items_bonus, 0))
        if top10_reasons:
            hits.append(Hit("top10", "reason for listing", "lead", self.top10_entry_bonus, 0))
        primary: Counter[str] = Counter()
        total: Counter[str] = Counter()
        head: Counter[str] = Counter()
        lead: Counter[str] = Counter()
        first: dict[str, tuple[int, int]] = {}
        body: Counter[str] = Counter()
        described: Counter[str] = Counter()
        for hit in hits:
            zone = head if hit.zone == "headline" else lead if hit.zone == "lead" else body
            zone[hit.type_id] += hit.points  # type: ignore[assignment]  # a Counter of float points
            described[hit.type_id] += hit.described  # type: ignore[assignment]  # a Counter of float points
            where = (ZONES.index(hit.zone), hit.start)
            first[hit.type_id] = min(first.get(hit.type_id, where), where)
        for type_id in lead:
            # The lead confirms or adds to the headline; many lead words do not outvote it.
            lead[type_id] = min(lead[type_id], self.lead_cap)  # type: ignore[assignment]  # a Counter of float points
        for type_id in set(head) | set(lead) | set(body):
            primary[type_id] = head[type_id] + lead[type_id]
            total[type_id] = primary[type_id] + body[type_id]
        if not total or max(total.values()) < self.min_score:
            return Decision("other")
        best_primary = max(primary.values(), default=0.0)
        if best_primary >= self.min_score:
            floor = best_primary * (1 - self.margin)
            candidates = [t for t, s in primary.items() if s >= floor]
        else:
            candidates = list(total)

        def rank(type_id: str) -> tuple[float, float, float, float, tuple[int, int]]:
            return (
                -total[type_id],
                -head[type_id],
                -lead[type_id],
                -primary[type_id],
                first[type_id],
            )

        best = min(candidates, key=rank)
        if total[best] < self.min_score:
            return Decision("other")
        others = sorted((t for t in total if t != best and t != "other"), key=rank)
        # A runner-up keeps what its words in the subject earned: "Forum … ends with MoU
        # signing" is an MoU, and a forum too.
        runners = [
            t
            for t in others[:2]
            if (score := total[t] + described[t]) >= self.runner_up_ratio * total[best]
            and score >= self.min_score
        ]
        evidence = _evidence([h for h in hits if h.type_id == best])
        return Decision(best, runners, evidence)


def _evidence(hits: list[Hit], limit: int = 6) -> list[str]:
    """'zone: word' for the words that earned the winner most, strongest first."""
    points: Counter[tuple[str, str]] = Counter()
    for hit in hits:
        points[(hit.zone, hit.word)] += hit.points  # type: ignore[assignment]  # a Counter of float points
    ranked = sorted(points.items(), key=lambda kv: (-kv[1], ZONES.index(kv[0][0])))
    return [f"{zone}: {word.rstrip('*')}" for (zone, word), _ in ranked[:limit]]
