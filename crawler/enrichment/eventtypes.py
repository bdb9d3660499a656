"""Event type from the main event: headline and lead decide, the body breaks ties.

Words from event_types.yaml earn points for their type, weighted by where they stand
(headline, lead, body); words that only name a venue ("at the … summit", "在…年会上") count
for little, genre words ("notice", "通知") for nothing. The headline and lead choose the
candidates; the body decides only between candidates that are close; a full tie goes to the
type with the stronger headline, then lead evidence, then the earlier first mention.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from crawler.enrichment.textutil import PhraseIndex, normalise
from crawler.enrichment.zones import ZONES, Zones, split_zones, venue_spans
from csrnews.vocabulary import EVENT_TYPES

logger = logging.getLogger(__name__)

NEUTRAL = ""  # the key of genre words: matched (so they hide shorter words) but worth nothing


@dataclass
class Hit:
    """One word that earned points for an event type."""

    type_id: str
    word: str
    zone: str
    points: float
    start: int


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
            for start, _end, payload in rules.index.finditer(text):
                word = str(payload)
                seen[word] += 1
                if seen[word] > self.max_count:
                    continue
                factor = self.zone_weights[zone] * (
                    self.venue_factor if _inside(start, venues) else 1.0
                )
                for type_id, weight in rules.groups[word]:
                    if type_id != NEUTRAL and weight:
                        found.append(Hit(type_id, word, zone, weight * factor, start))
            for pattern, type_id, weight in rules.patterns:
                match = pattern.search(text)
                if match:
                    word = match.group(0)[:40]
                    found.append(Hit(type_id, word, zone, weight * self.zone_weights[zone], 0))
        return found

    def classify(
        self, title: str, text: str, top10_items: int = 0, top10_reasons: int = 0
    ) -> Decision:
        """The winning event type, strong runners-up and the deciding words."""
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
        for hit in hits:
            zone = head if hit.zone == "headline" else lead if hit.zone == "lead" else body
            zone[hit.type_id] += hit.points
            where = (ZONES.index(hit.zone), hit.start)
            first[hit.type_id] = min(first.get(hit.type_id, where), where)
        for type_id in lead:
            # The lead confirms or adds to the headline; many lead words do not outvote it.
            lead[type_id] = min(lead[type_id], self.lead_cap)
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
        runners = [
            t
            for t in others[:2]
            if total[t] >= self.runner_up_ratio * total[best] and total[t] >= self.min_score
        ]
        evidence = _evidence([h for h in hits if h.type_id == best])
        return Decision(best, runners, evidence)


def _evidence(hits: list[Hit], limit: int = 6) -> list[str]:
    """'zone: word' for the words that earned the winner most, strongest first."""
    points: Counter[tuple[str, str]] = Counter()
    for hit in hits:
        points[(hit.zone, hit.word)] += hit.points
    ranked = sorted(points.items(), key=lambda kv: (-kv[1], ZONES.index(kv[0][0])))
    return [f"{zone}: {word.rstrip('*')}" for (zone, word), _ in ranked[:limit]]
