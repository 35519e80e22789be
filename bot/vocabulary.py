"""The one vocabulary of fixed codes (``bot/vocabulary.yml``): labels and a word matcher.

Pure (no Rasa imports); the YAML file is read on first use and cached. Every fixed code of
ARCHITECTURE.md lives in one *group* (``hazard``, ``category``, ``place_type``, ``congestion``,
``supply``, ``urgency``, ``vulnerable``, ...) with its Japanese / English labels and the words
residents use for it.

The matcher finds the words of a group in a text, the longest word winning where words overlap,
and drops words the text denies: 「けがはない」「停電していない」「急ぎではありません」 (a group may map a
denied code to another: urgency high denied is low). Supplies are denied by 「足りてる」「いらない」,
not by 「ない」 (「水がない」 is a need).

``python -m bot.vocabulary generate [--check]`` writes (or checks) the files generated from the
vocabulary (:mod:`bot.vocabulary_files`): ``bot/domain/labels.yml``, ``data/nlu/synonyms.yml``
and ``data/nlu/lookups.yml``.

Why one module of about 540 lines: the model (:class:`Group`, :class:`Code`), its loader and
checks, the denial patterns and the matcher share one data structure and are read together; the
generated files, the part that could stand alone, are already in :mod:`bot.vocabulary_files`.

Examples
--------
>>> match("hazard", "川があふれそう")
'flood'
>>> match("category", "家が傾いた")
'building_damage'
>>> match("urgency", "急ぎではありません")
'low'
>>> match("category", "停電していない") is None
True
>>> match_all("supply", "水はあるけど毛布とカイロが足りない")
['blankets', 'other']
>>> labels("place_type")["car"]
'車中泊'
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

SOURCE = Path(__file__).with_name("vocabulary.yml")
LANGS = ("ja", "en")

_GROUP_KEYS = {
    "domain", "entity", "synonyms", "lookup", "extract", "multi", "yields_to", "negation",
    "negated", "priority", "codes",
}  # fmt: skip
_CODE_KEYS = {"ja", "en", "bot_ja", "bot_en", "words", "phrases", "answers", "exact", "entity"}
_WORD_LISTS = ("words", "phrases", "answers", "exact")


class VocabularyError(ValueError):
    """The vocabulary file is inconsistent (unknown key, one surface for two codes, ...)."""


# ---------------------------------------------------------------------------------------------
# Folding: NFKC and lower case, one character for one character (positions stay valid).


@functools.lru_cache(maxsize=1)
def _fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for lo, hi in ((0x2000, 0x33FF), (0xFF00, 0xFFEF)):
        for cp in range(lo, hi + 1):
            ch = chr(cp)
            norm = unicodedata.normalize("NFKC", ch).lower()
            if len(norm) == 1 and norm != ch:
                table[cp] = norm
    return table


def fold(text: str) -> str:
    """Full-width to half-width, compatibility forms to plain, lower case; same length as ``text``.

    >>> fold("ＡＢＣ　１２３ｶﾀｶﾅ")
    'abc 123カタカナ'
    """
    out = (text or "").translate(_fold_table())
    lower = out.lower()
    if len(lower) == len(out):
        return lower
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in out)


_ENDINGS = re.compile(
    r"(?:でお願いします|でおねがいします|をお願いします|お願いします|おねがいします|でお願い|です|でした"
    r"|だよ|だね|だ|です|かな|で|ね|よ|please)$"
)
_PUNCT = " \t\r\n、。,.!！?？・:：;；「」『』()（）〜~ー-"


def core(text: str) -> str:
    """An answer reduced to its word: folded, punctuation and polite endings removed."""
    out = unicodedata.normalize("NFKC", text or "").lower().strip(_PUNCT)
    for _ in range(3):
        stripped = _ENDINGS.sub("", out).strip(_PUNCT)
        if stripped == out or not stripped:
            break
        out = stripped
    return out


# ---------------------------------------------------------------------------------------------
# The model.


@dataclass(frozen=True)
class Code:
    key: str
    ja: str
    en: str
    bot_ja: str
    bot_en: str
    words: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    answers: tuple[str, ...] = ()
    exact: tuple[str, ...] = ()
    entity: bool = True


class Hit(NamedTuple):
    """A word of a group found in a text (positions index the original text)."""

    code: str
    start: int
    end: int
    surface: str
    negated: bool = False


@dataclass
class Group:
    name: str
    codes: dict[str, Code]
    domain: str | None = None
    entity: str | None = None
    synonyms: bool = False
    lookup: bool = False
    extract: str = "none"
    multi: bool = False
    yields_to: tuple[str, ...] = ()
    negation: str = "absent"
    negated: dict[str, str] = field(default_factory=dict)
    priority: tuple[str, ...] = ()
    _matchers: dict[str, _Matcher] = field(default_factory=dict, repr=False)

    def rank(self, code: str) -> int:
        return self.priority.index(code) if code in self.priority else len(self.priority)

    def matcher(self, mode: str) -> _Matcher:
        """``answer`` (every word but exact ones) or ``extract`` (what the extractor reads)."""
        if mode not in self._matchers:
            surfaces: dict[str, str] = {}
            for code in self.codes.values():
                excluded = {fold(w) for w in code.exact}
                lists: tuple[tuple[str, ...], ...]
                if mode == "answer":
                    lists = (code.words, code.phrases, code.answers)
                else:
                    if self.extract == "none" or not code.entity:
                        continue
                    excluded |= {fold(w) for w in code.answers}
                    lists = (code.phrases,) if self.extract == "phrases" else (code.words, code.phrases)
                if mode == "answer":  # the code itself is an answer (English: "water", "fire")
                    lists = (*lists, (code.key.replace("_", " "),))
                for words in lists:
                    for w in words:
                        f = fold(w)
                        if f and f not in excluded:
                            surfaces.setdefault(f, code.key)
            self._matchers[mode] = _Matcher(surfaces)
        return self._matchers[mode]


def _trie_pattern(words: Iterable[str]) -> str:
    """One regex for many words; it matches the longest word at a position."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def walk(node: dict[str, Any]) -> str:
        branches = [re.escape(ch) + walk(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        alt = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{alt})?" if "" in node else alt

    return walk(trie)


class _Matcher:
    """Every word occurrence, then the longest ones that do not overlap."""

    def __init__(self, surfaces: dict[str, str]) -> None:
        self.surfaces = surfaces
        ascii_words = [w for w in surfaces if w.isascii()]
        other = [w for w in surfaces if not w.isascii()]
        self.patterns: list[re.Pattern[str]] = []
        if other:
            self.patterns.append(re.compile(f"(?=({_trie_pattern(other)}))"))
        if ascii_words:
            self.patterns.append(
                re.compile(f"(?<![a-z0-9])(?=((?:{_trie_pattern(ascii_words)})(?![a-z0-9])))")
            )

    def spans(self, folded: str) -> list[tuple[int, int, str]]:
        found = [
            (m.start(1), m.end(1), m.group(1))
            for pattern in self.patterns
            for m in pattern.finditer(folded)
            if m.group(1)
        ]
        found.sort(key=lambda s: (s[0] - s[1], s[0]))
        taken = bytearray(len(folded))
        chosen = []
        for start, end, word in found:
            if any(taken[start:end]):
                continue
            taken[start:end] = b"\x01" * (end - start)
            chosen.append((start, end, self.surfaces[word]))
        chosen.sort()
        return chosen


# Denials after a word: 「けがはない」「停電していない」「急ぎではありません」「けが人なし」「水は大丈夫」.
_DENIED_AFTER = re.compile(
    r"(?:(?:者|さん|ちゃん|の方|の人|たち|達|人)?(?:は|も|が|とか|なんか|など|ほど|の)?"
    r"(?:では|じゃ|でも|で|には|に|とは|と)?"
    r"(?:して(?:い|お|る)?|し|なって(?:い)?|なっ|って(?:い)?|起きて(?:い)?|おきて(?:い)?|出て(?:い)?"
    r"|でて(?:い)?|来て(?:い)?|きて(?:い)?|て(?:い)?|い|あり|ござい|き)?"
    r"(?:ない|なく|なかった|ません|無い|ねえ|ねぇ|ずに|ず|なし|無し)"
    r"|(?:は|も|が)?(?:大丈夫|だいじょうぶ|平気|無事|問題ない|問題なし|ゼロ|0人|0名))"
    # resolved: 「停電は復旧しました」「冠水は引いた」 (not 「復旧まだ」「復旧していない」)
    r"|(?:は|も|が)?(?:もう)?(?:復旧|解消|直った|なおった|直りました|収まった|おさまった|引いた|引きました)"
    r"(?!まだ|して(?:い)?ない|してません|せず|しない|の見込|見込|未定|待ち|してほしい)"
    r"|\s+(?:is|are|was|were)(?:\s+not\b|n't\b)"
)
_DENIED_BEFORE = re.compile(
    r"\b(?:no|not|never|without|nobody|none|nothing|isn't|aren't|wasn't|weren't|don't|doesn't"
    r"|didn't|no one)\b(?:\s+[a-z'-]+){0,2}\s+$"
)
# A supply is no need when it is there: 「水は足りてる」「毛布はいらない」「水は出ます」.
_SATISFIED_AFTER = re.compile(
    r"(?:は|も|が)?(?:いらない|要らない|いりません|要りません|不要|足りて(?!ない|いない|ません|へん|ね)"
    r"|足りる|足りま(?!せん)|たりて(?!ない|いない|ません)|十分(?!じゃ|では|でな)|じゅうぶん(?!じゃ|では)"
    r"|大丈夫|だいじょうぶ|平気|あります|ある(?!か|\?)|出ます|出てます|出ています|出てる|でます|でてる"
    r"|間に合って|届い(?!てない|ていない|てません)|もらった|いいです|結構)"
    r"|\s+(?:is|are)\s+(?:enough|fine|ok)\b"
)
_SATISFIED_BEFORE = re.compile(
    r"\b(?:(?:don't|do not|doesn't|no longer)\s+need|enough|plenty of)(?:\s+[a-z'-]+){0,1}\s+$"
)
_CLAUSE = re.compile(r"[、。,.!！?？\n;；]")


def _is_denied(group: Group, folded: str, start: int, end: int) -> bool:
    if group.negation == "none":
        return False
    after, before = (
        (_SATISFIED_AFTER, _SATISFIED_BEFORE)
        if group.negation == "satisfied"
        else (_DENIED_AFTER, _DENIED_BEFORE)
    )
    if after.match(folded, end):
        return True
    if start == 0 or not folded[start - 1].isascii():
        return False  # English denials stand before the word: "no injuries"
    head = folded[max(0, start - 40) : start]
    cut = [m.end() for m in _CLAUSE.finditer(head)]
    if cut:
        head = head[cut[-1] :]
    return bool(head and head.isascii() and before.search(head))


# ---------------------------------------------------------------------------------------------
# Loading.


def _words(name: str, raw: Any, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(w, str) and w.strip() for w in raw):
        raise VocabularyError(f"{where}: {name} must be a list of non-empty strings")
    for w in raw:
        if any(ch in w for ch in "[]()\n"):
            raise VocabularyError(f"{where}: {name} {w!r} may not contain []() or a newline")
    return tuple(dict.fromkeys(w.strip() for w in raw))


def _build(data: Any) -> tuple[dict[str, Group], dict[str, dict[str, str]]]:
    if not isinstance(data, dict) or not isinstance(data.get("groups"), dict):
        raise VocabularyError("vocabulary: a mapping with 'groups' is required")
    templates = data.get("templates") or {}
    for name, labels_ in templates.items():
        if not isinstance(labels_, dict) or set(labels_) != set(LANGS):
            raise VocabularyError(f"templates.{name}: ja and en are required")
    groups: dict[str, Group] = {}
    for gname, graw in data["groups"].items():
        if not isinstance(graw, dict):
            raise VocabularyError(f"{gname}: a mapping is required")
        unknown = set(graw) - _GROUP_KEYS
        if unknown:
            raise VocabularyError(f"{gname}: unknown keys {sorted(unknown)}")
        codes: dict[str, Code] = {}
        for key, craw in (graw.get("codes") or {}).items():
            where = f"{gname}.{key}"
            if not isinstance(craw, dict):
                raise VocabularyError(f"{where}: a mapping is required")
            unknown = set(craw) - _CODE_KEYS
            if unknown:
                raise VocabularyError(f"{where}: unknown keys {sorted(unknown)}")
            if not all(isinstance(craw.get(lang), str) and craw[lang] for lang in LANGS):
                raise VocabularyError(f"{where}: labels ja and en are required")
            codes[str(key)] = Code(
                key=str(key),
                ja=craw["ja"],
                en=craw["en"],
                bot_ja=craw.get("bot_ja") or craw["ja"],
                bot_en=craw.get("bot_en") or craw["en"],
                entity=bool(craw.get("entity", True)),
                **{name: _words(name, craw.get(name), where) for name in _WORD_LISTS},
            )
        if not codes:
            raise VocabularyError(f"{gname}: no codes")
        entity = graw.get("entity")
        extract = graw.get("extract", "all" if entity else "none")
        if extract not in ("all", "phrases", "none"):
            raise VocabularyError(f"{gname}: extract must be all, phrases or none")
        negation = graw.get("negation", "absent")
        if negation not in ("absent", "satisfied", "none"):
            raise VocabularyError(f"{gname}: negation must be absent, satisfied or none")
        priority = tuple(graw.get("priority") or ())
        negated = dict(graw.get("negated") or {})
        for code in (*priority, *negated, *negated.values()):
            if code not in codes:
                raise VocabularyError(f"{gname}: {code!r} in priority/negated is no code")
        group = Group(
            name=gname,
            codes=codes,
            domain=graw.get("domain"),
            entity=entity,
            synonyms=bool(graw.get("synonyms", bool(entity))),
            lookup=bool(graw.get("lookup", bool(entity))),
            extract=extract,
            multi=bool(graw.get("multi", False)),
            yields_to=tuple(graw.get("yields_to") or ()),
            negation=negation,
            negated=negated,
            priority=priority + tuple(c for c in codes if c not in priority),
        )
        _check_group(group)
        groups[gname] = group
    for group in groups.values():
        for other in group.yields_to:
            if other not in groups:
                raise VocabularyError(f"{group.name}: yields_to names no group {other!r}")
    return groups, {k: dict(v) for k, v in templates.items()}


def _check_group(group: Group) -> None:
    """Within a group one surface names one code (else the matcher could not tell)."""
    seen: dict[str, str] = {}
    for code in group.codes.values():
        for name in _WORD_LISTS:
            for w in getattr(code, name):
                f = fold(w)
                if seen.setdefault(f, code.key) != code.key:
                    raise VocabularyError(
                        f"{group.name}: {w!r} is a word of both {seen[f]!r} and {code.key!r}"
                    )


@functools.lru_cache(maxsize=4)
def load(path: str | None = None) -> tuple[dict[str, Group], dict[str, dict[str, str]]]:
    """(groups, templates) of the vocabulary file (cached; ``path`` for tests)."""
    import yaml

    source = Path(path) if path else SOURCE
    with source.open(encoding="utf-8") as fh:
        return _build(yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))


def group(name: str) -> Group:
    groups, _ = load()
    try:
        return groups[name]
    except KeyError:
        raise KeyError(f"no vocabulary group {name!r}") from None


def group_names() -> list[str]:
    return list(load()[0])


def codes(name: str) -> tuple[str, ...]:
    """The codes of a group in their fixed order (``codes("congestion")``)."""
    return tuple(group(name).codes)


def labels(name: str, lang: str = "ja", *, bot: bool = False) -> dict[str, str]:
    """``{code: label}``; ``bot=True`` for the wording of the bot's replies."""
    attr = f"bot_{lang}" if bot else lang
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}")
    return {key: getattr(code, attr) for key, code in group(name).codes.items()}


def label(name: str, code: str, lang: str = "ja") -> str:
    """Label of one code; the code itself when unknown."""
    found = group(name).codes.get(code)
    return getattr(found, lang) if found else code


def template(name: str, lang: str = "ja") -> str:
    return load()[1][name][lang]


def entity_group(entity: str) -> str | None:
    """The group whose codes are the values of an NLU entity (``damage_type`` → ``category``)."""
    for g in load()[0].values():
        if g.entity == entity:
            return g.name
    return None


# ---------------------------------------------------------------------------------------------
# Matching.


def scan(name: str, text: str, *, mode: str = "answer") -> list[Hit]:
    """Every word of the group in ``text`` (longest first where they overlap), denied or not."""
    g = group(name)
    folded = fold(text or "")
    return [
        Hit(code, start, end, (text or "")[start:end], _is_denied(g, folded, start, end))
        for start, end, code in g.matcher(mode).spans(folded)
    ]


def find(name: str, text: str, *, mode: str = "answer") -> list[Hit]:
    """The words of the group that ``text`` says (denied ones dropped or mapped by ``negated``)."""
    g = group(name)
    hits = []
    for hit in scan(name, text, mode=mode):
        if not hit.negated:
            hits.append(hit)
        elif hit.code in g.negated:
            hits.append(hit._replace(code=g.negated[hit.code], negated=False))
    return hits


def _exact(g: Group, text: str) -> str | None:
    answer = core(text)
    if not answer:
        return None
    if answer in g.codes:
        return answer
    for code in g.codes.values():
        if any(fold(core(w)) == answer for w in code.exact):
            return code.key
    return None


def match(name: str, text: str | None) -> str | None:
    """The one code ``text`` gives (a code itself, an exact answer, else words by priority)."""
    g = group(name)
    if not text or not text.strip():
        return None
    code = _exact(g, text)
    if code:
        return code
    found = {hit.code for hit in find(name, text)}
    if not found:
        return None
    return min(found, key=g.rank)


def match_all(name: str, text: str | None) -> list[str]:
    """Every code ``text`` gives, in the group's fixed order."""
    g = group(name)
    if not text or not text.strip():
        return []
    code = _exact(g, text)
    found = {hit.code for hit in find(name, text)} | ({code} if code else set())
    return [c for c in g.codes if c in found]


def denied(name: str, text: str | None) -> set[str]:
    """Codes ``text`` names only to deny them (「停電はしていない」 → ``{"power_outage"}``)."""
    hits = scan(name, text or "")
    said = {h.code for h in hits if not h.negated}
    return {h.code for h in hits if h.negated} - said


def extract(name: str, text: str) -> list[Hit]:
    """Hits for the entity extractor: free-text words, denials respected, one per code.

    A group with ``yields_to`` loses words that lie inside a longer word of those groups
    (水 of 「膝まで水」); a group without ``multi`` keeps only its best code by priority.
    """
    g = group(name)
    if g.extract == "none":
        return []
    hits = find(name, text, mode="extract")
    if g.yields_to and hits:
        spans = [
            (h.start, h.end)
            for other in g.yields_to
            for h in scan(other, text, mode="extract")
        ]
        hits = [
            h
            for h in hits
            if not any(s <= h.start and h.end <= e and (e - s) > (h.end - h.start) for s, e in spans)
        ]
    first: dict[str, Hit] = {}
    for hit in hits:
        first.setdefault(hit.code, hit)
    if not first:
        return []
    if g.multi:
        return sorted(first.values(), key=lambda h: h.start)
    best = min(first, key=g.rank)
    return [first[best]]


# ---------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bot.vocabulary generate [--check]`` (see :mod:`bot.vocabulary_files`)."""
    from bot import vocabulary_files

    return vocabulary_files.main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
