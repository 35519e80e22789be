"""Rasa graph components of the NLU pipeline (registered in ``config.yml``).

Kept apart from :mod:`bot.nlu.danger` so that the pure detector can be used by the action
server and the channels without importing Rasa.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_RANKING_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.base import RuleComponent
from bot.nlu.danger import (
    ASSISTANCE_INTENT,
    ASSISTANCE_OVERRIDES,
    EMERGENCY_INTENT,
    LIFE_THREAT_ENTITY,
    assess,
    load_lexicon,
)

# Intents a message without a single letter, kana, kanji or digit is not trusted to be.
_WORDLESS_DOUBTFUL = frozenset({"greet", "goodbye", "bot_challenge", "help", "out_of_scope"})
_WORD = re.compile(r"[0-9A-Za-z\u3040-\u30ff\u3400-\u9fff\uff10-\uff5a]")
# A message of fillers only (hesitation, a sigh, surprise: 「あー」「えっと…」「うーん」「はぁ」) says
# nothing the bot can act on, whatever the model makes of it (「あー」 read as thank 0.96): the
# fallback answers with 119/110 and keeps it for a person. The yes/no words that look like
# fillers (ええ, うん, ううん) are not fillers.
_FILLER = re.compile(
    r"(?:あ+ー*あ*|あっ|え+ー*っ?|えー?っ?と|う+ー+ん*|う+ー*わ+ー*|ん+ー*|は+ー*ぁ*|ふ+ー*ぅ*|へ+ー*ぇ*|お+ー+)+"
)
_NOT_FILLERS = frozenset({"ええ", "うん", "うんうん", "ううん", "おお"})
_LONG_MARKS = str.maketrans({"~": "ー", "〜": "ー", "～": "ー", "－": "ー", "-": "ー"})


def is_filler_only(text: str) -> bool:
    """True for a message made of fillers only, punctuation and emoji aside (「あー…」「えっと、」
    「うーん😓」); False for ええ / うん / ううん (yes, no) and for anything with another word."""
    core = "".join(
        ch for ch in unicodedata.normalize("NFKC", text).translate(_LONG_MARKS)
        if ch == "ー" or _WORD.match(ch)
    )
    return bool(core) and core not in _NOT_FILLERS and _FILLER.fullmatch(core) is not None


# 「単3電池と懐中電灯」 is a list of things (an answer or a need, kept for a person as `inform`),
# not the question what to bring: that question names bringing, preparing or asks something.
_BRING_INTENT = "ask_what_to_bring"
_BRING_CUE = re.compile(
    r"持|もって|もち|準備|用意|必要|いる|要る|何|なに|なん|べき|いい|かな|ですか|か$|[?？]|"
    r"グッズ|持ち出し|非常袋|バッグ|リュック|荷物|もの|物|リスト|チェック|"
    r"bring|pack|need|take|what|list|kit"
)


@DefaultV1Recipe.register(
    [
        DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER,
        DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR,
    ],
    is_trainable=False,
)
class DangerDetector(RuleComponent):
    """Marks threats to life before the policies see a message (see the module docstring).

    Config: ``lexicon`` (path; the packaged ``danger_lexicon.yml`` by default).
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # fallback_threshold: below it, a vetoed emergency's next guess becomes nlu_fallback
        # (keep it equal to the FallbackClassifier's threshold).
        return {"lexicon": None, "fallback_threshold": 0.55}

    def __init__(self, config: dict[str, Any]) -> None:
        self._lexicon = load_lexicon(config.get("lexicon"))
        self._fallback_threshold = float(config.get("fallback_threshold", 0.55))

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._mark(message)
        return messages

    def _mark(self, message: Message) -> None:
        text = message.get(TEXT) or ""
        if not text or text.startswith("/"):
            return
        found = assess(text, self._lexicon)
        intent = message.get(INTENT) or {}
        name = intent.get("name")
        if found.threat:
            entities = list(message.get(ENTITIES) or [])
            for m in found.matches:
                entities.append(
                    {
                        "entity": LIFE_THREAT_ENTITY,
                        "value": m.kind,
                        "start": m.start,
                        "end": m.end,
                        "confidence_entity": 1.0,
                        "extractor": type(self).__name__,
                    }
                )
            message.set(ENTITIES, entities, add_to_output=True)
            if name != EMERGENCY_INTENT:
                self._override(message, EMERGENCY_INTENT)
        elif name == EMERGENCY_INTENT and found.discounted:
            self._veto_emergency(message)
        elif found.assistance and name in ASSISTANCE_OVERRIDES:
            self._override(message, ASSISTANCE_INTENT)
        elif name in _WORDLESS_DOUBTFUL and not _WORD.search(text):
            # 「(^_^;)」 read as a greeting: a message without a word is no greeting; the fallback
            # answers with 119/110 and keeps it for a person (affirm/deny/thank emoji stay).
            self._veto(message, name)
        elif name not in (None, "nlu_fallback") and is_filler_only(text):
            self._veto(message, name)
        elif name == _BRING_INTENT and not _BRING_CUE.search(text.lower()):
            self._relabel(message, "inform")

    def _veto_emergency(self, message: Message) -> None:
        """The model's next guess (or the fallback when it is weak) instead of ``emergency``."""
        self._veto(message, EMERGENCY_INTENT, next_guess=True)

    def _veto(self, message: Message, intent_name: str, next_guess: bool = False) -> None:
        """Drop ``intent_name``: the next guess if asked and strong enough, else the fallback."""
        ranking = [
            r for r in (message.get(INTENT_RANKING_KEY) or []) if r.get("name") != intent_name
        ]
        best = ranking[0] if ranking and next_guess else None
        if best is None or float(best.get("confidence") or 0.0) < self._fallback_threshold:
            best = {"name": "nlu_fallback", "confidence": self._fallback_threshold}
            ranking = [best, *ranking]
        message.set(INTENT, dict(best), add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)

    @staticmethod
    def _relabel(message: Message, intent_name: str) -> None:
        """Make ``intent_name`` the intent with the model's confidence (not a certainty)."""
        intent = message.get(INTENT) or {}
        new = {"name": intent_name, "confidence": float(intent.get("confidence") or 0.0)}
        ranking = [
            r for r in (message.get(INTENT_RANKING_KEY) or []) if r.get("name") != intent_name
        ]
        message.set(INTENT, new, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [new, *ranking], add_to_output=True)

    @staticmethod
    def _override(message: Message, intent_name: str) -> None:
        """Make ``intent_name`` the intent (confidence 1.0); the model's ranking stays below."""
        new = {"name": intent_name, "confidence": 1.0}
        ranking = [
            r for r in (message.get(INTENT_RANKING_KEY) or []) if r.get("name") != intent_name
        ]
        message.set(INTENT, new, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [new, *ranking], add_to_output=True)
