"""Danger first: a safety layer that reads every message before the dialogue policies.

The NLU model can misread a message; a threat to life must never depend on it. This module
holds a maintained lexicon (``danger_lexicon.yml`` beside it) and :func:`assess`, a pure function
that says whether a message reports a threat to life now (trapped, buried, swept away, water at
the upper floor, unconscious, not breathing, heavy bleeding, fire, cannot get away from a danger
— about the writer or about someone else), or a person who cannot evacuate by themselves
(要配慮者). Negated, hypothetical and resolved mentions (「けがはありません」「もし流されたら」
「救出されました」) do not count.

:class:`bot.nlu.components.DangerDetector` is the Rasa graph component (registered in ``config.yml`` after the
FallbackClassifier). It marks a threat with the entity ``life_threat`` and makes the intent
``emergency`` (confidence 1.0, the model's own guess kept in the ranking), so the rules answer
with 119/110 first whatever the model or the fallback said; a person needing assistance turns a
shelter search, a registration or a fallback into ``needs_assistance``.

When the model says ``emergency`` but every threat word in the message is discounted — denied,
hypothetical, resolved, figurative — the layer takes the model's next guess instead
(「閉じ込められてはいない、大丈夫です」「救助は必要ありません」): the model reads the danger words and
misses their negation; the layer reads both. A message with no threat word at all keeps the
model's ``emergency``.

Examples
--------
>>> assess("隣のおばあちゃんが家から出てこない、水が玄関まで来てる").threat
True
>>> assess("けが人はいません、道路が冠水しています").threat
False
>>> assess("足が悪いので避難所まで行けません").assistance
True
"""

from __future__ import annotations

import bisect
import functools
import re
import sre_constants
import sre_parse
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

LEXICON_PATH = Path(__file__).with_name("danger_lexicon.yml")
LIFE_THREAT_ENTITY = "life_threat"
EMERGENCY_INTENT = "emergency"
ASSISTANCE_INTENT = "needs_assistance"
# Intents that a person-needing-assistance message overrides (it would otherwise start a shelter
# search or a registration and the person would never be recorded). Questions about
# accessibility, answers inside a form and the other reports keep their intent.
ASSISTANCE_OVERRIDES = frozenset(
    {"find_shelter", "register_evacuation", "check_hazard", "ask_disaster_info", "help",
     "out_of_scope", "nlu_fallback", "request_supplies", "greet", "ask_shelter_status"}
)  # fmt: skip

_KATAKANA = {code: code - 0x60 for code in range(ord("ァ"), ord("ヶ") + 1)}


def normalize(text: str) -> str:
    """NFKC, lower case, katakana → hiragana (the form the lexicon patterns are written in)."""
    return unicodedata.normalize("NFKC", text or "").lower().translate(_KATAKANA)


@dataclass(frozen=True)
class Match:
    """One lexicon hit: its kind (``trapped`` …), the matched text and its span in the text."""

    kind: str
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Assessment:
    """What :func:`assess` found in one message."""

    threat: bool
    assistance: bool
    matches: tuple[Match, ...] = field(default_factory=tuple)
    # Threat words found but denied, hypothetical, resolved or figurative (「けがはありません」
    # 「救出されました」): the message talks about a danger that is not present now.
    discounted: tuple[Match, ...] = field(default_factory=tuple)

    @property
    def kinds(self) -> list[str]:
        """Threat kinds found, in order of first appearance, without repeats."""
        out: list[str] = []
        for m in self.matches:
            if m.kind not in out:
                out.append(m.kind)
        return out


@dataclass(frozen=True)
class _Lexicon:
    threats: tuple[tuple[str, re.Pattern[str]], ...]
    unable: re.Pattern[str]
    hazard_present: re.Pattern[str]
    assist_condition: re.Pattern[str]
    assist_unable: re.Pattern[str]
    imminent: re.Pattern[str]
    rising: re.Pattern[str]
    exposed: re.Pattern[str]
    unreachable: re.Pattern[str]
    clause_split: re.Pattern[str]
    negated_after: re.Pattern[str]
    negated_before: re.Pattern[str]
    negated_inside: re.Pattern[str]
    hypothetical_after: re.Pattern[str]
    hypothetical_before: re.Pattern[str]
    resolved_same_clause: re.Pattern[str]
    resolved_after: re.Pattern[str]
    idioms: re.Pattern[str]
    not_a_person: re.Pattern[str]
    not_real: re.Pattern[str]
    all_clear: re.Pattern[str]
    property_only: re.Pattern[str]
    not_now: re.Pattern[str]
    # how far the before / after checks can see from a hit (None: to the clause's edge)
    before_window: int | None = None
    after_window: int | None = None


def _join(patterns: Iterable[str]) -> re.Pattern[str]:
    # Patterns are normalised like the text (katakana → hiragana, lower case), so they may be
    # written in either script.
    return re.compile("|".join(f"(?:{normalize(p)})" for p in patterns))


@functools.lru_cache(maxsize=4)
def load_lexicon(path: str | None = None) -> _Lexicon:
    """Read and compile the lexicon (once per path). Raises ``ValueError`` on a bad file."""
    source = Path(path) if path else LEXICON_PATH
    data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    try:
        threats = tuple((kind, _join(patterns)) for kind, patterns in dict(data["threats"]).items())
        return _Lexicon(
            threats=threats,
            unable=_join(data["unable"]),
            hazard_present=_join(data["hazard_present"]),
            assist_condition=_join(data["assistance"]["condition"]),
            assist_unable=_join(data["assistance"]["unable"]),
            imminent=_join(data["imminent"]),
            rising=_join(data["rising"]),
            exposed=_join(data["exposed"]),
            unreachable=_join(data["unreachable"]),
            clause_split=re.compile(data["clause_split"]),
            negated_after=_join(data["negated_after"]),
            negated_before=_join(data["negated_before"]),
            negated_inside=_join(data["negated_inside"]),
            hypothetical_after=_join(data["hypothetical_after"]),
            hypothetical_before=_join(data["hypothetical_before"]),
            resolved_same_clause=_join(data["resolved_same_clause"]),
            resolved_after=_join(data["resolved_after"]),
            idioms=_join(data["idioms"]),
            not_a_person=_join(data["not_a_person"]),
            not_real=_join(data["not_real"]),
            all_clear=_join(data["all_clear"]),
            property_only=_join(data["property_only"]),
            not_now=_join(data["not_now"]),
            before_window=_window(
                [*data["negated_before"], *data["hypothetical_before"]], sre_constants.AT_END
            ),
            after_window=_window(
                [*data["negated_after"], *data["hypothetical_after"]], sre_constants.AT_BEGINNING
            ),
        )
    except (KeyError, TypeError, re.error) as exc:
        raise ValueError(f"{source}: bad danger lexicon ({exc})") from exc


def _clauses(lex: _Lexicon, norm: str) -> list[tuple[int, int]]:
    """(start, end) of each clause of the normalised text."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for sep in lex.clause_split.finditer(norm):
        if sep.start() > pos:
            spans.append((pos, sep.start()))
        pos = sep.end()
    if pos < len(norm):
        spans.append((pos, len(norm)))
    return spans


class _Scan:
    """The context checks of one message, in linear time.

    Each hit's checks look at bounded windows around it (the context patterns are anchored at
    the hit and of bounded width: :func:`_window`), and what depends only on the clause or on
    the rest of the message is found once and reused, so a long message with thousands of hits
    (「助けて」 repeated) costs about as much as its length, not its length squared.
    """

    def __init__(self, lex: _Lexicon, norm: str) -> None:
        self.lex, self.norm = lex, norm
        self._past_end: dict[tuple[int, int], bool] = {}
        self._things: list[tuple[int, int]] | None = None
        self._thing_starts: list[int] = []
        self._idiom: dict[tuple[int, int], bool] = {}
        self._commas = [i for i, ch in enumerate(norm) if ch in "、,"]
        self._rest = _Later(lex.resolved_after, norm, len(norm))
        self._segments: dict[int, _Later] = {}

    def counts(self, clause: tuple[int, int], m: re.Match[str]) -> bool:
        """True when the hit ``m`` in ``clause`` is a present, real mention (not denied, not
        hypothetical, not resolved, not an idiom)."""
        lex, norm = self.lex, self.norm
        c_start, c_end = clause
        before = norm[_lower(c_start, m.start(), lex.before_window) : m.start()]
        after = norm[m.end() : _upper(m.end(), c_end, lex.after_window)]
        if lex.negated_after.search(after) or lex.negated_before.search(before):
            return False
        if lex.negated_inside.search(m.group(0)):
            return False
        if lex.hypothetical_after.search(after):
            return False
        # 「家が倒れたら下敷きに…」 is hypothetical; 「回してたら家族が倒れた」 (a clause in the past) is not.
        if lex.hypothetical_before.search(before) and not self._clause_in_past(clause):
            return False
        if self._segment(m.end(), c_end).found_from(m.end()):  # up to the next 、 or ,
            return False
        if self._rest.found_from(m.start()):
            return False
        if self._about_a_thing(m):
            return False
        return not self._clause_idiom(clause)

    def _about_a_thing(self, m: re.Match[str]) -> bool:
        """The hit overlaps a span about an animal or a thing (「倉庫が流され」)."""
        if self._things is None:
            self._things = [(t.start(), t.end()) for t in self.lex.not_a_person.finditer(self.norm)]
            self._thing_starts = [start for start, _ in self._things]
        # the spans are sorted and do not overlap: if the last one starting before the hit's end
        # ends before the hit starts, so do all earlier ones
        i = bisect.bisect_left(self._thing_starts, m.end()) - 1
        return i >= 0 and self._things[i][1] > m.start()

    def _clause_in_past(self, clause: tuple[int, int]) -> bool:
        if clause not in self._past_end:
            text = self.norm[clause[0] : clause[1]]
            self._past_end[clause] = _PAST_END.search(text) is not None
        return self._past_end[clause]

    def _clause_idiom(self, clause: tuple[int, int]) -> bool:
        """An idiom in the clause (「課題の山に埋もれてる、助けて〜」) makes every hit in it figurative."""
        if clause not in self._idiom:
            found = self.lex.idioms.search(self.norm, clause[0], clause[1])
            self._idiom[clause] = found is not None
        return self._idiom[clause]

    def _segment(self, pos: int, c_end: int) -> _Later:
        i = bisect.bisect_left(self._commas, pos)
        end = min(self._commas[i], c_end) if i < len(self._commas) else c_end
        if end not in self._segments:
            self._segments[end] = _Later(self.lex.resolved_same_clause, self.norm, end)
        return self._segments[end]


class _Later:
    """Whether ``pattern`` matches somewhere in ``text[pos:end]``, for many ``pos``: one search
    answers every ``pos`` up to the match it found, and a failed search every later ``pos``."""

    def __init__(self, pattern: re.Pattern[str], text: str, end: int) -> None:
        self.pattern, self.text, self.end = pattern, text, end
        self.found: int | None = None  # start of a match
        self.none_from: int | None = None  # no match starts at or after this

    def found_from(self, pos: int) -> bool:
        if self.found is not None and self.found >= pos:
            return True
        if self.none_from is not None and pos >= self.none_from:
            return False
        m = self.pattern.search(self.text, pos, self.end)
        if m is None:
            self.none_from = pos if self.none_from is None else min(pos, self.none_from)
            return False
        self.found = m.start()
        return True


def _lower(start: int, pos: int, window: int | None) -> int:
    return start if window is None else max(start, pos - window)


def _upper(pos: int, end: int, window: int | None) -> int:
    return end if window is None else min(end, pos + window)


_PAST_END = re.compile(r"(た|ました|だ)[!！。…\s]*$")


def _window(patterns: Iterable[str], anchor: int) -> int | None:
    """How much text around a hit ``patterns`` can see, or None when unbounded.

    Bounded when every pattern is anchored at the hit (``anchor``: ``sre_constants.AT_BEGINNING``
    for the text after it, ``AT_END`` for the text before it) and has a bounded width; the window
    adds a margin for lookarounds and word boundaries at its far end.
    """
    widest = 0
    for p in patterns:
        parsed = sre_parse.parse(normalize(p))
        items = parsed.data
        edge = (items[0] if anchor == sre_constants.AT_BEGINNING else items[-1]) if items else None
        if edge != (sre_constants.AT, anchor):
            return None
        high = parsed.getwidth()[1]
        if high >= sre_constants.MAXREPEAT:
            return None
        widest = max(widest, high)
    return widest + 32


def _hits(
    lex: _Lexicon, pattern: re.Pattern[str], norm: str, clause: tuple[int, int]
) -> list[re.Match[str]]:
    return [m for m in pattern.finditer(norm, clause[0], clause[1]) if m.end() > m.start()]


def assess(text: str | None, lexicon: _Lexicon | None = None) -> Assessment:
    """Threat to life / person needing assistance in ``text`` (see the module docstring).

    Parameters
    ----------
    text : str
        The resident's message as written (any script, hashtags and addresses included).
    lexicon : optional
        A lexicon from :func:`load_lexicon`; the packaged one by default.

    Returns
    -------
    Assessment
        ``threat`` and ``assistance`` flags and the counted matches (spans in ``text``; NFKC
        keeps the length of Japanese text, so spans index the original for it).
    """
    lex = lexicon or load_lexicon()
    norm = normalize(text or "")
    if not norm.strip():
        return Assessment(False, False)
    matches: list[Match] = []
    discounted: list[Match] = []
    if lex.not_real.search(norm):
        for kind, pattern in lex.threats:
            discounted += [
                Match(kind, m.group(0), m.start(), m.end()) for m in pattern.finditer(norm)
            ]
        return Assessment(False, False, (), tuple(discounted))
    unable_match: Match | None = None
    hazard_seen = False
    clauses = _clauses(lex, norm)
    scan = _Scan(lex, norm)
    for clause in clauses:
        for kind, pattern in lex.threats:
            for m in _hits(lex, pattern, norm, clause):
                hit = Match(kind, m.group(0), m.start(), m.end())
                (matches if scan.counts(clause, m) else discounted).append(hit)
        for m in _hits(lex, lex.unable, norm, clause):
            if scan.counts(clause, m):
                unable_match = unable_match or Match(
                    "cannot_escape", m.group(0), m.start(), m.end()
                )
            else:  # 「立ち往生してる人を助けたい」: denied, so the model's emergency is too
                discounted.append(Match("cannot_escape", m.group(0), m.start(), m.end()))
        for m in _hits(lex, lex.hazard_present, norm, clause):
            if scan.counts(clause, m):
                hazard_seen = True
    if not matches and unable_match is not None and hazard_seen:
        matches.append(unable_match)
    if not matches:
        # A person who cannot evacuate by themselves while a danger is coming (「大津波警報、足の
        # 悪い父が一人で家に」) or reaching their place (「寝たきりの父と二人、水がベッドの高さまで
        # 来た」); the person and the danger must both be said as present (not 「津波が来たら」).
        # People on an upper floor, a roof or in a car while the water still rises are too
        # (「2階にいるけど水が上がってくる」).
        def counted(pattern: re.Pattern[str]) -> list[re.Match[str]]:
            return [m for c in clauses for m in _hits(lex, pattern, norm, c) if scan.counts(c, m)]

        # A relative who cannot evacuate by themselves and cannot be reached while a danger is
        # present there is too (「独り暮らしの叔父と連絡がつかない、近くの川が氾濫した」).
        who = counted(lex.assist_condition)
        if who and (
            counted(lex.imminent)
            or counted(lex.rising)
            or (hazard_seen and counted(lex.unreachable))
        ):
            matches.append(Match("cannot_escape", who[0].group(0), who[0].start(), who[0].end()))
        else:
            where = counted(lex.exposed)
            if where and counted(lex.rising):
                first = where[0]
                matches.append(Match("stranded", first.group(0), first.start(), first.end()))
    matches.sort(key=lambda x: x.start)
    threat = bool(matches)
    assistance = False
    if not threat:
        if any(_hits(lex, lex.assist_condition, norm, c) for c in clauses):
            assistance = any(
                scan.counts(c, m) for c in clauses for m in _hits(lex, lex.assist_unable, norm, c)
            )
    if not threat:
        # No threat word counted: an all-clear, an idiom, a joke or damage to property only
        # anywhere also discounts the message (the model may still read 「死ぬ」, 「救助」 or
        # 「浸水」 in it as an emergency).
        for kind, pattern in (
            ("all_clear", lex.all_clear),
            ("idiom", lex.idioms),
            ("not_a_person", lex.not_a_person),
            ("property_only", lex.property_only),
            ("not_now", lex.not_now),
        ):
            discounted += [
                Match(kind, m.group(0), m.start(), m.end()) for m in pattern.finditer(norm)
            ]
    return Assessment(threat, assistance, tuple(matches), () if threat else tuple(discounted))
