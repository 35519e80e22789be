"""The danger layer: threats to life are found whatever the NLU says; look-alikes are not.

Examples here are our own, in the patterns of real residents' messages; the held-out measure
is bench/danger_eval.py (its test half is never used to write patterns).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.nlu.danger import assess, load_lexicon, normalize

THREATS = [
    # from the issue: danger to someone else, injuries, people who cannot get away
    "隣のおばあちゃんが家から出てこない、水が玄関まで来てる",
    "母が二階から降りられない、水が来てる",
    "地震で家具が倒れて足をけがしました",
    "助けて、閉じ込められた",
    # numbers and floors instead of verbs
    "2階に大人3 子ども1 水きてる",
    "事務所の屋上 5名",
    "倉庫の屋根に作業員4名",
    # kana, typos, dialect, hashtags, addresses
    "きゅうじょまってます",
    "たすけてけれ 水なまらきてる",
    "#救助 #〇〇町 #大雨 〇〇町3丁目12-4 祖母が取り残されています【拡散希望】",
    "とじこめられた",
    "ケガ人います、血がとまらない",
    # water levels, fire, medical
    "水が胸まで来てる",
    "近所で火事です",
    "父が倒れて意識がない",
    "赤ちゃんが息してない",
    "車ごと流されそう",
    "3時間たっても誰も来ない、屋根の上にいます",
    # kana only: blood said as ち after the body part, a faint answer when called
    "じいちゃん ころんで かおからちがとまらない",
    "母 呼び掛けても反応が弱い",
    "おばあちゃん こえかけてもへんじうすい",
    # English
    "help! we are trapped on the roof",
    "My grandmother is stuck in the house and the water is up to her chest",
]

NOT_THREATS = [
    "けがはありません",
    "えきからちょっと遠いけど歩いていける",
    "あしからちょっと冷えるので毛布がほしい",
    "けが人なし、家が傾いた",
    "閉じ込められてはいない",
    "誰もけがしていません",
    "もし流されたらどうすればいい？",
    "津波が来たらどこに逃げる？",
    "昨日は閉じ込められたけど今は救出されました",
    "道路が冠水してる、人はいない",
    "祖母と連絡が取れない",
    "腹が減って死にそう",
    "死ぬほど疲れた",
    "停電してます",
    "毛布足りない、トイレ使えない、高齢者多い",
    "2階に上がってる、家族4人無事",
    "火事の避難場所はどこ",
    "助けてくれてありがとう",
    "避難しないといけない？",
    "救助は必要ありません",
    "nobody is injured",
    "The fire at the school is out, nobody was inside",
]


# The rules from the third dev writer's batches (bench/data/danger_dev.yml, batches 3 and 4), one
# positive and one look-alike per rule; our own sentences, not the dev ones.
RULE_THREATS = {
    # a person who cannot evacuate by themselves + the danger reaching their place now
    "vulnerable + rising water": "寝たきりの祖父がいる、水がたたみの上まで来た",
    "vulnerable + slope giving way": "裏の崖から泥が流れてくる、90歳の母と二人",
    "vulnerable + water over the levee": "土手を越えて水が来てる、車いすの妻がいる",
    # people on an upper floor / roof / at home + water still rising
    "upper floor + rising": "家族で2階にいるけど水がまだ上がってくる",
    "at home, alone with children + rising": "水が入ってきた、子ども2人と私だけ",
    # counts and places instead of verbs
    "floor + head-count in English": "3F 5 people water everywhere",
    "balcony + head-count": "ベランダに大人2 子ども1、周りは水",
    "water level: so much left to the floor": "天井まであと20センチ",
    "water level: already at the chest": "水がもう肩",
    # someone missing or not answering while a danger is present
    "missing in a flood": "川を見に行った兄が行方不明、増水してる",
    "has not come back": "父が田んぼから戻ってこん、水路があふれとる",
    "no answer under a collapse": "倒壊した家、住人の返事なし",
    "left behind": "浸水した施設に利用者が残されたまま",
    # dialect and romaji pleas
    "dialect plea はよ来て": "はよ来て、水きよる",
    "dialect plea 来てけろ": "だれか来てけろ",
    "romaji plea": "tasukete kudasai",
    # medical signs
    "stroke signs": "祖母の右の手足が動かない、言葉が出ない",
    "wheezing": "子どもの息がぜーぜーしてる",
    "collapsed suddenly": "父が食事中に突然倒れた",
    "ventilator power": "停電で呼吸器の電源が落ちた",
    "heart stopped": "心臓が止まってるかもしれない",
    "hives all over": "薬を飲んだら全身にじんましん",
    # water, fire, English
    "someone carried off by the current": "子どもが流れていった",
    "has not come up": "池に落ちた人が浮いてこない",
    "fell into a ditch": "側溝に自転車の人が落ちた、水が速い",
    "house carried off": "家ごと流されそう",
    "fire broke out": "台所から火が出た",
    "water coming in (English)": "water is pouring in through the windows",
    "smoke everywhere (English)": "smoke everywhere on our floor",
    "head injury (English)": "she hit her head on the stairs",
    "buried in mud (English)": "my dad is under the mud",
    "holding onto (English)": "a woman holding onto the fence in the flood",
    # batch 5
    "relative alone, unreachable, river over": "一人暮らしの祖母と電話がつながらない、近くの川があふれた",
    "exit blocked": "家が傾いて玄関がふさがれた",
    "floor and head-count in kana": "2かいに こども 3にん みずびたし",
    "told to flee now, someone who cannot move": "はよ逃げんと、じいちゃん腰が抜けとる",
    "underground + water collecting": "地下道で水がたまってきてる",
    "hand seen in the mud": "がれきの中から手が出てる",
    "smoke without が": "となりの部屋から煙出てる",
    "cannot be talked with": "父と話が通じない、ふらふらしてる",
    "sandbank": "中洲に人が取り残されてる",
    "swept into (English)": "a kid got swept into the canal",
    "people under it (English)": "the wall fell, someone is under it",
    # batch 6
    "found on opening (discovery たら)": "ドアを開けたら煙が入ってきた、寝たきりの母がいる",
    "not back, heavy rain": "畑を見に行った父が帰らない、雨がすごい",
    "age by decade": "80代の父がまだ家にいる、水が上がってきた",
    "fire spreading to bedding": "ストーブの火がカーテンに燃え移った",
    "face drooping": "祖父の顔の右側が下がってる",
    "weak breathing": "息が弱い",
    "collapsed, not breathing (English)": "my father collapsed and isn't breathing normally",
    "cannot get upstairs": "足の悪い母が2階に上がれず、泥水が入ってきた",
    "no answer when called": "トイレの戸をたたいても返事がない",
    "lift stopped with people inside": "エレベーターが止まって中に子どもがいる",
    "mountain rumbling": "裏の山から変な音がしてる、高齢の祖母と二人",
    "relative, no contact, collapse": "祖父の家が土砂で潰れた、祖父と連絡なし",
    # batch 7
    "driver's seat + water level without a verb": "母がまだ助手席、水がシートの下まで",
    "watching from upstairs + rising": "2階から見てるけど水が1階の天井近くまで来た",
    "incubator power": "保育器のバッテリーがもたない",
    "oxygen machine battery": "父の酸素の機械のバッテリーが残り1時間",
    "fell while repairing the roof": "父が屋根の修理中に落ちた",
    "leg bent the wrong way": "足が変な方向に曲がってる",
    "window and door will not open": "雪で玄関も窓も開かない",
    "top of the staircase": "水が階段の一番上まで",
    "dialect: collapsed": "かあちゃんが台所で倒れとる",
    "clothes caught fire": "祖母の服に火がついた",
    "not back, river overflowing (English)": "my son hasn't come back and the river is overflowing",
    "floating face down (English)": "someone floating face down near the pier",
    "blood everywhere (English)": "he cut his leg, blood everywhere",
    "fell in a canal (English)": "a girl fell in the drainage canal",
    # fresh batch of 30 Nov (bench/data/danger_fresh.yml), generalised
    "called, no answer (呼んでも)": "叔父の名前を呼んでも返事がない",
    "lies still, does not answer": "じいちゃんうごかん へんじない",
    "collapsed and does not move": "男の人が駐車場で倒れて動かない",
    "collapsed inside, no subject": "様子を見に行ったら風呂で倒れてた",
    "consciousness altered": "父の意識が変、話しかけても目が合わない",
    "fell into a manhole or drain": "排水溝に男の子が落ちた",
    "stairs, water still rising": "階段の3段目まで来てる、どんどん上がってる",
    "a fire said in two words": "台所、火が！",
    "a heater fell over and burns": "ストーブが倒れて燃えてる",
    "ambulance misspelt": "きゅうきゅしゃ",
    "cannot evacuate yet (できてない), flood": "施設が浸水、利用者がまだ避難できてない",
    "a voice no longer heard, collapse": "家が崩れて、中から父の声が聞こえない",
    "gone to look at the paddy, not back": "畑の見回りに行った祖父が帰ってこない",
    "vulnerable, river about to overflow": "裏の川が溢れそう、寝たきりの母がいる",
    "vulnerable, water inside the house (dialect)": "水が家ん中に入っとる、ばあちゃん足が悪い",
    "vulnerable, water at knee height": "車いすの夫と家に、外はもう膝まで",
    "vulnerable, house flooded (English)": "my disabled brother is home alone and the house is flooding",
    "what was going on when found (てたら)": "炭をたいてたら子どもがぐったりしてる",
}

RULE_LOOKALIKES = {
    "vulnerable + hypothetical water": "水が来たら寝たきりの祖父をどうやって運べばいい？",
    "vulnerable + hypothetical tsunami": "津波が来たら車いすの妻をどう逃がせばいいか心配",
    "upper floor, safe": "2階にいて家族みんな元気、水は床下",
    "upper floor, no rising water": "2階にいます、水が足りない",
    "news": "ネットで救助要請がたくさん出てるのを見た",
    "news (English)": "the news says people are trapped in the next town",
    "last night, over": "昨日の夜は水が腰まで来た、今は公民館にいます",
    "a supply, not an injury": "やけどの薬がほしい",
    "a course, not a collapse": "AEDの使い方の講習に行った",
    "a question about the ambulance": "救急車って無料ですか",
    "rescued, with thanks": "消防の方に助けてもらいました",
    "rescue done by others": "おじいさんを救助してくれた方ありがとう",
    "well, same clause": "家族は2階で元気にしてます",
    "nobody in the car": "車が流されたけど乗ってなかったので大丈夫",
    "nobody in the car (English)": "the car got swept away, we weren't in it",
    "idiom: adorable": "推しが尊くて息ができない",
    "idiom: snoring": "いびきがうるさくて死にそう",
    "idiom: emails (English)": "drowning in emails today",
    "an animal in a ditch": "犬が側溝にはまって出られない",
    "only thought so": "心臓止まるかと思った",
    "make-believe": "救助ごっこで「たすけて」って言ってる",
    "wanting to help others": "立ち往生してる人を助けたい",
    "fine here": "ヘリの音がするけど、うちは大丈夫",
    # batch 5
    "relative unreachable, no danger said": "一人暮らしの祖母と電話がつながらない",
    "relative alone, reached": "一人暮らしの祖母と連絡ついた、川はあふれてない",
    "news of an explosion": "爆発のニュースを見た",
    "no damage": "近くで土砂崩れ、うちは被害なし",
    "please help me understand (English)": "please help me find the shelter",
    "we're fine (English)": "we can't get out of the parking lot, but we're fine",
    "the writer's business": "1階の倉庫が冠水して営業できない",
    # batch 6
    "けが inside 片付け": "家具が倒れて片付けが大変",
    "pulled out already": "用水路に落ちた車はもう引き上げられた",
    "an advisory": "大雨で土砂崩れの注意報が出てる",
    "sent by mistake": "さっきの「助けて」は誤送信です、すみません",
    "we are fine (English)": "the roof leaked but we are fine",
    "a condition, not a discovery": "もし帰ったら家が流されてたらどうしよう",
    # batch 7
    "a few steps up, nobody said": "階段の2段目まで水",
    "tiles fell from the roof": "屋根から瓦が落ちた",
    "answering now (English)": "my son came back and is answering his phone now",
    # fresh batch of 30 Nov, look-alikes of the rules above
    "the phone does not connect (電話が通じない)": "実家と電話が通じない、回線が混んでるのかな",
    "idiom: drowning in work (溺れるほど)": "溺れるほど宿題が出た",
    "how to call an ambulance": "救急車の呼び方を知りたい",
    "a manhole overflowing, nobody": "マンホールから水があふれてる、人はいない",
    "stairs wet, not rising": "階段の2段目まで水、もう引いてきた",
    "a vulnerable relative, river calm": "寝たきりの母がいる、川はあふれてない",
    "a vulnerable relative, worry for later": "川があふれたら寝たきりの母をどう運べばいい",
    "basement flooded, nobody at risk (English)": "our basement flooded, nobody hurt",
    "a condition, not a discovery (したら)": "もし発電機を部屋で回したらどうなる？",
    "a heater question": "ストーブが倒れたら火事になる？",
}


@pytest.mark.parametrize("rule", list(RULE_THREATS))
def test_rule_finds_the_threat(rule: str) -> None:
    assert assess(RULE_THREATS[rule]).threat, rule


@pytest.mark.parametrize("rule", list(RULE_LOOKALIKES))
def test_rule_leaves_the_look_alike(rule: str) -> None:
    assert not assess(RULE_LOOKALIKES[rule]).threat, rule


def test_word_parts_are_not_read_as_a_hypothetical_or_a_denial() -> None:
    """「かもしれない」 holds もし, 「入所者」 holds 所, 「30センチ」 holds せん: none is a
    hypothetical or a denial of the threat beside it."""
    assert assess("薬を飲んだかもしれない、息が苦しそう").threat
    assert assess("停電で吸引器が使えない入所者がいる").threat
    assert assess("2階の床まであと30センチ").threat


@pytest.mark.parametrize("text", THREATS)
def test_threat_to_life_is_marked(text: str) -> None:
    found = assess(text)
    assert found.threat, text
    assert found.kinds, "a threat names its kind"
    for m in found.matches:
        assert 0 <= m.start < m.end <= len(text)


@pytest.mark.parametrize("text", NOT_THREATS)
def test_look_alike_is_not_marked(text: str) -> None:
    assert not assess(text).threat, text


@pytest.mark.parametrize(
    "text",
    [
        "足が悪いので避難所まで行けません",
        "寝たきりの祖母がいて避難できない",
        "人工透析の母がいる、一人では避難できない",
        "車いすで一人暮らし、避難所まで行けない",
        "〇〇マンション7階、80代の両親が階段を降りられない",  # stairs
        "高齢の母、停電でエレベーター止まって階段が無理",
    ],
)
def test_person_who_cannot_evacuate_needs_assistance(text: str) -> None:
    found = assess(text)
    assert found.assistance and not found.threat


def test_accessibility_question_is_not_an_assistance_case() -> None:
    assert not assess("車いすで入れる避難所はありますか").assistance


def test_spans_index_the_original_text() -> None:
    text = "#救助 祖母が取り残されています"
    (m,) = [m for m in assess(text).matches if m.kind == "stranded"]
    assert text[m.start : m.end] == "取り残"


def test_normalize_makes_katakana_hiragana_and_width_ascii() -> None:
    assert normalize("ケガ　２階 HELP") == "けが 2階 help"


def test_empty_and_payload_like_text_is_no_threat() -> None:
    assert not assess("").threat
    assert not assess("   ").threat


def test_bad_lexicon_is_refused_with_the_file_named(tmp_path: Path) -> None:
    bad = tmp_path / "lexicon.yml"
    bad.write_text("threats: {x: ['(unclosed']}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="lexicon.yml"):
        load_lexicon(str(bad))


def test_long_hostile_message_is_fast() -> None:
    """No catastrophic backtracking: ten times the text takes about ten times as long (a
    quadratic pattern would take a hundred), and a 65k-character message stays far from a hang.
    Timed as ratios of the fastest of a few runs, so a busy machine does not decide the answer
    (an absolute 2 s took 2.5-3 s on a slow shared 2-core machine under load, 1.35 s alone)."""
    import time

    def fastest(text: str, runs: int) -> float:
        times = []
        for _ in range(runs):
            start = time.thread_time()  # CPU time: a training beside the tests is not counted
            assess(text)
            times.append(time.thread_time() - start)
        return min(times)

    def hostile(scale: int) -> str:
        return "水" * (2000 * scale) + "1" * (4000 * scale) + "、" * (500 * scale)

    assess("水")  # the lexicon is loaded once per process
    small, large = fastest(hostile(1), 3), fastest(hostile(10), 2)
    assert large < 25 * small, (small, large)
    assert large < 10.0
    assert fastest("水が来てる、助けて" * 110, 3) < 0.5  # a message at the channels' 1,000-char cap


def _parsed(text: str, intent: str, ranking: list[tuple[str, float]]) -> Any:
    from rasa.shared.nlu.training_data.message import Message

    return Message(
        data={
            "text": text,
            "intent": {"name": intent, "confidence": ranking[0][1]},
            "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
        }
    )


def test_component_makes_a_threat_an_emergency_whatever_the_model_said() -> None:
    from bot.nlu.components import DangerDetector

    msg = _parsed("母が二階から降りられない、水が来てる", "report_damage", [("report_damage", 0.8)])
    DangerDetector({}).process([msg])
    assert msg.get("intent") == {"name": "emergency", "confidence": 1.0}
    assert msg.get("intent_ranking")[1]["name"] == "report_damage"
    assert [e["entity"] for e in msg.get("entities")] == ["life_threat"]


def test_component_vetoes_an_emergency_whose_danger_is_denied() -> None:
    from bot.nlu.components import DangerDetector

    msg = _parsed(
        "閉じ込められてはいない、玄関から出られた",
        "emergency",
        [("emergency", 0.9), ("register_evacuation", 0.07)],
    )
    DangerDetector({}).process([msg])
    assert msg.get("intent")["name"] == "nlu_fallback"  # weak next guess: the fallback (119)
    msg = _parsed("救助は必要ありません", "emergency", [("emergency", 0.3), ("deny", 0.65)])
    DangerDetector({}).process([msg])
    assert msg.get("intent")["name"] == "deny"


def test_component_drops_an_emergency_whose_worry_is_a_business() -> None:
    from bot.nlu.components import DangerDetector

    msg = _parsed(
        "1階の倉庫が冠水、営業できない",
        "emergency",
        [("emergency", 0.6), ("report_damage", 0.35)],
    )
    DangerDetector({}).process([msg])
    assert msg.get("intent")["name"] == "nlu_fallback"  # weak next guess: the fallback
    msg = _parsed("車庫が潰れた、父がいた", "emergency", [("emergency", 0.7)])
    DangerDetector({}).process([msg])
    assert msg.get("intent")["name"] == "emergency"  # building damage alone vetoes nothing


@pytest.mark.parametrize(
    "text",
    [
        "在宅酸素の父がいます、停電に備えて何を準備すれば",  # about later (not_now)
        "母と電話つながった、家にいるって",  # contact restored (all_clear)
        "水は玄関で止まった、みんな2階",
        "家族全員避難所で元気にしてます",
        "近所の人が父を運び出してくれました",
        "豚舎が水につかった",  # animals (idioms)
        "the kids are crying because they are bored",
        "we left the car before the water came, all fine",
        "立ち往生してる人を助けたい、何を持っていけば",  # a denied `unable` word
        "遠くに煙が見える、うちまで来ますか？",  # will it come here (not_now)
        "子どもが咳をしてる、マスクありますか",  # a supply
        "看板が飛びそう",  # a small thing (property_only)
        "水が玄関に入ってきたけど、さっき止まった",
        "胸が痛くなるニュースばかり",  # figurative
        "we smelled smoke, we are outside now",
        "雨漏りの修理をお願いできる業者は",  # a contractor (not_now)
        "消防団の皆さんにお礼を言いたい",  # thanks
        "logs floating in the river near the bridge",  # things, not people
        "携帯のバッテリー残り5%",  # the phone's battery, not a life-support machine
        "水は床下まで、家族は2階",  # water only under the floor
        "母は病院に運ばれました、容体は安定してるそうです",  # stable now (all_clear)
    ],
)
def test_component_drops_the_model_emergency_for_a_message_about_later_or_over(
    text: str,
) -> None:
    from bot.nlu.components import DangerDetector

    assert not assess(text).threat
    msg = _parsed(text, "emergency", [("emergency", 0.7), ("inform", 0.2)])
    DangerDetector({}).process([msg])
    assert msg.get("intent")["name"] != "emergency", text


@pytest.mark.parametrize(
    "text",
    [
        "片付けの途中で父の様子がへん、なんかおかしい",
        "念のため、祖母がさっきから変なこと言ってる",
        "今のうちに来て、父の様子がおかしい",
        "clean up crew here: my uncle is acting strange, just in case",
    ],
)
def test_component_keeps_the_model_emergency_said_while_cleaning_up_or_just_in_case(
    text: str,
) -> None:
    """Cleaning up and 「念のため」 veto nothing: people fall ill while cleaning up, and a call for
    help in words the lexicon does not know must keep the model's emergency."""
    from bot.nlu.components import DangerDetector

    assert not assess(text).threat  # the lexicon misses these: only the model sees the danger
    msg = _parsed(text, "emergency", [("emergency", 0.7), ("inform", 0.2)])
    DangerDetector({}).process([msg])
    assert msg.get("intent")["name"] == "emergency", text


def test_component_keeps_the_model_emergency_when_no_danger_word_is_denied() -> None:
    from bot.nlu.components import DangerDetector

    msg = _parsed("ボートまだですか、祖母が弱ってきた", "emergency", [("emergency", 0.8)])
    DangerDetector({}).process([msg])
    assert msg.get("intent")["name"] == "emergency"


def test_component_turns_a_person_who_cannot_evacuate_into_needs_assistance() -> None:
    from bot.nlu.components import DangerDetector

    msg = _parsed("足が悪いので避難所まで行けません", "find_shelter", [("find_shelter", 0.7)])
    DangerDetector({}).process([msg])
    assert msg.get("intent")["name"] == "needs_assistance"


def test_component_does_not_trust_a_wordless_greeting() -> None:
    from bot.nlu.components import DangerDetector

    msg = _parsed("(^_^;)", "greet", [("greet", 0.57)])
    DangerDetector({}).process([msg])
    assert msg.get("intent")["name"] == "nlu_fallback"
    msg = _parsed("👍", "affirm", [("affirm", 0.98)])
    DangerDetector({}).process([msg])
    assert msg.get("intent")["name"] == "affirm"


FILLERS = ["あーあ", "えーっと…", "うーん😓", "んー", "はぁ", "えっ！", "う～ん", "ふぅ…"]
NOT_FILLERS = [
    "ええ",
    "うん",
    "ううん",
    "はい",
    "あのー",
    "おーい",
    "えっと、避難所どこ",
    "あー水が来た",
]


@pytest.mark.parametrize("text", FILLERS)
def test_component_keeps_a_filler_only_message_for_a_person(text: str) -> None:
    """Hesitation, a sigh or surprise alone is no thanks, yes or answer: the fallback answers it
    (119/110) and keeps it for a person, however sure the model was."""
    from bot.nlu.components import DangerDetector, is_filler_only

    assert is_filler_only(text)
    for intent in ("thank", "deny", "inform", "greet"):
        msg = _parsed(text, intent, [(intent, 0.96), ("cancel", 0.02)])
        DangerDetector({}).process([msg])
        assert msg.get("intent")["name"] == "nlu_fallback", (text, intent)


@pytest.mark.parametrize("text", NOT_FILLERS)
def test_yes_no_and_messages_with_words_are_not_fillers(text: str) -> None:
    from bot.nlu.components import DangerDetector, is_filler_only

    assert not is_filler_only(text)
    msg = _parsed(text, "affirm", [("affirm", 0.9)])
    DangerDetector({}).process([msg])
    assert msg.get("intent")["name"] in ("affirm", "emergency"), text


def test_component_reads_a_bare_list_of_things_as_an_answer_not_the_bring_question() -> None:
    from bot.nlu.components import DangerDetector

    msg = _parsed("単3電池と懐中電灯", "ask_what_to_bring", [("ask_what_to_bring", 0.91)])
    DangerDetector({}).process([msg])
    assert msg.get("intent") == {"name": "inform", "confidence": 0.91}
    for question in ("避難所に何持っていけばいい", "避難 持ち物", "what should I bring"):
        msg = _parsed(question, "ask_what_to_bring", [("ask_what_to_bring", 0.9)])
        DangerDetector({}).process([msg])
        assert msg.get("intent")["name"] == "ask_what_to_bring", question


@pytest.mark.parametrize(
    "text", ["天井近くまで水、子ども2人いる", "2階の床ぎりぎりまで水きてる", "天井のすぐ下まで浸水"]
)
def test_water_near_the_ceiling_or_the_upper_floor_is_a_threat(text: str) -> None:
    assert assess(text).threat


@pytest.mark.parametrize(
    "text",
    [
        "スマホの充電あと5%、父と連絡とれない、家は川のすぐそば",
        "携帯の電池残り3%。1階は水没、動けない母と2階",
    ],
)
def test_a_low_battery_beside_anything_else_leaves_the_model_emergency(text: str) -> None:
    """A phone about to die is a reason to hurry, not a small thing: only a message about the
    battery alone drops the model's emergency (「携帯のバッテリー残り5%」 above)."""
    from bot.nlu.components import DangerDetector

    msg = _parsed(text, "emergency", [("emergency", 0.7), ("report_damage", 0.2)])
    DangerDetector({}).process([msg])
    assert msg.get("intent")["name"] == "emergency", text


# The rules from the real-post dev set (bench/data/danger_dev_posts.yml), one threat and one
# look-alike each; our own sentences, not the dev ones.
POST_RULES = {
    "nowhere higher to go": ("3階まで来た、もう逃げる所がない", "逃げる所がないか心配で下見した"),
    "water at the upper floor, told with 来た": ("2階の床の上まで来た", "2階の床の上まで片付けた"),
    "level as a number line": ("水位 腰→胸 10分で", "水位計の見方を教えて"),
    "near the mouth": ("水が鼻の近くまで、息子を抱えてる", "鼻の近くにほくろがある"),
    "roof head-count in kana": ("やね 2にん まってる", "屋根の工事 2にちかかる"),
    "attic in English": ("we are in the attic, water still coming", "the attic is full of boxes"),
    "weak response": ("父が呼びかけに反応が弱い", "スマホの反応が遅い"),
    "does not wake when called": (
        "叩いても起きない、祖母",
        "声かけても起きないことがある、寝起きが悪い子",
    ),
    "one of them does not wake": ("締め切った部屋で2人起きない", "2人起きた、朝ごはん"),
    "talk does not fit together": (
        "母の話がかみ合わない、体が冷えきってる",
        "やっと話がかみ合った",
    ),
    "hit the head hard": ("転んで頭を強く打った、吐いてる", "頭を強く打たないように気をつけて"),
    "bleeding from the ear": ("耳から血が出てる", "耳からイヤホンが落ちた"),
    "fire with people left": ("火事、奥の部屋に祖父が残ってる", "火事の現場は片付いた"),
    "smoke keeps rescuers out": ("煙で中に入れない、子どもがいる", "煙たくて窓を開けた"),
    "chest tight": ("夫が胸が苦しいとうずくまってる", "胸がいっぱいで眠れない話を聞いた"),
    "heat stroke signs": ("娘が熱中症っぽい、ぐったり", "熱中症の予防に水を飲もう"),
    "life support power": ("停電で予備電源も切れそう、在宅酸素の父", "電池の交換方法を教えて"),
    "dialysis missed": ("透析を4日受けてない、足がむくんでる", "透析の病院はどこですか"),
    "insulin gone": ("インスリンが切れた、子どもが1型", "インスリンの保管方法"),
    "insulin in English": ("my son ran out of insulin yesterday", "where can I buy a thermometer"),
    "rescue typo": ("きゅじょおねがいします 2かい", "きゅうりが食べたい"),
    "save the children at least": ("もうだめ、こどもだけでも", "子どもだけで留守番させるのは不安"),
}
# A person who cannot get away (or is missing) with a danger in the same message.
UNABLE_WITH_HAZARD = {
    "does not come out": (
        "隣のおじいさんが出てきてない、1階に水",
        "隣のおじいさんが出てきてない、旅行中らしい",
    ),
    "missing near the water": (
        "孫が見当たらない、川の近くで遊んでた",
        "孫が見当たらない、押し入れにいた",
    ),
    "lost from sight in the water": ("濁流の中で父を見失った", "人混みで父を見失った、すぐ会えた"),
    "does not come up": ("弟が用水路に入って上がってこない", "弟が2階から上がってこない、ゲーム中"),
    "English lost child": ("lost my 6 year old near the river", "lost my phone near the station"),
    "cannot climb (Kansai)": (
        "水きてる、おとんが1階から上がられへん",
        "二階に上がられへん、荷物が多い",
    ),
    "evacuation typo": ("非難できない、家の前が冠水", "非難されてしまった"),
    "head-count inside": ("家が傾いてる、中に3人", "ホールの中に30人くらい集まった"),
    "still at home": ("裏山が鳴ってる、まだ家族が家にいる", "まだ家族が家にいる、のんびり"),
    "landslide signs": ("土の臭いがする、まだ中に祖母がいる", "土の臭いが好き"),
}
# Someone who cannot evacuate by themselves + the water rising, said casually.
VULNERABLE_RISING = {
    "no が, めっちゃ": (
        "水めっちゃ上がってきてる、足悪い母がいる",
        "水めっちゃ飲んだ、足悪い母も元気",
    ),
    "half-way up the stairs": ("寝たきりの父と2階、水が階段半分", "寝たきりの父と2階で寝てる"),
    "sheltering upstairs": (
        "園児が2階に避難中、水が上がり続けてる",
        "園児が2階に避難中、水は引いてきた",
    ),
}
# 2 Dec, session 13: 「まだ来ない」 is the rescue that has not come, not water or goods, and
# 「埋まってる」 said of a shelter or a car park is full, not buried (found on our own training
# examples read by the danger layer; these are other sentences, one threat and one look-alike each).
NOT_COME_AND_FULL = {
    "the rescue, not the water truck": (
        "ヘリまだこない、屋根の上で3人",
        "給水車がまだ来ないんだけど、〇〇団地",
    ),
    "the rescue, not the goods": (
        "消防まだ来ない、煙が2階まで",
        "支援物資まだ来ないです、〇〇公民館",
    ),
    "water not here yet, upstairs": ("2階 水もう階段の上まで", "2階にいるよ、みずはまだこない"),
    "buried, not full": ("公民館が土砂で埋まった、中に人がいる", "公民館の駐車場、もう埋まってた"),
    "a person buried, not a hall full of people": (
        "公民館で人が埋まってる、がれきの下",
        "公民館、人で埋まってる、座る場所ない",
    ),
    "buried under snow, not a full gym": (
        "物置ごと雪で埋まって父が出てこない",
        "体育館はほぼ埋まってる、奥は空き",
    ),
}
# 「車の中にいます」 alone is where a household shelters (dispersed evacuation), not a person trapped;
# with the water rising, a voice from inside or a child inside, it is a threat (session 13).
IN_A_CAR = {
    "in a car with the water rising": (
        "車の中にいる、水が窓まで来てる",
        "車の中にいるよ、道の駅で一晩明かす",
    ),
    "a voice from inside a car": (
        "車の中から声がする、横転してる",
        "くるまのなかにいます 家族4人 様子見てる",
    ),
    "a child inside a car": (
        "車の中に子どもがいる、水が迫ってる",
        "車の中にいます、エンジンは止めてます",
    ),
}
# Session 14: water that does not come out of the tap is an outage (docs/intents.md), not a person
# who cannot get out; water come up to the upper floor is a threat without 「まで」.
TAP_AND_UPSTAIRS = {
    "a person in the water, not the tap": (
        "川で遊んでた弟が水の中から出てこない",
        "じゃぐちひねっても水がぜんぜん出てこない、〇〇団地",
    ),
    "a person in a flooded house, not the water supply": (
        "浸水した家から祖母が出てこない、声もしない",
        "水道からなにも出てこないです、昨日の夜から",
    ),
    "the water upstairs, not carried upstairs": (
        "二階に水が入ってきた、子ども2人いる",
        "2階に水を運んでおいた、ペットボトル12本",
    ),
}
# 2 Dec (session 15): plain misreadings found by running the lexicon over our own training
# examples (docs/safety.md); other wordings here, one threat and one look-alike per rule.
OWN_DATA_MISREADINGS = {
    "inside a house, not 夜中 (midnight)": (
        "つぶれた家の中に人がいるみたい、声がする",
        "夜中に人がどんどん来て、公民館の床がいっぱい",
    ),
    "arrived, not someone inside": (
        "押し入れの中にまだ妹がいる、煙が来てる",
        "夜中に着いたけど受付が閉まってた、〇〇中学校",
    ),
    "a tsunami coming, not 津波きたら": (
        "大津波警報、寝たきりの母と家にいる",
        "おばあちゃん一人暮らし、津波きたらどこに逃げればいいの",
    ),
    "the owner away": (
        "がれきの下に車、運転してた人がまだ中にいる",
        "土砂で車が埋まった、持ち主は旅行中で留守",
    ),
    "a wound already dressed": (
        "転んで頭を強く打った、意識がぼんやり",
        "転んで膝をけが、手当てはしました",
    ),
    "a person swept away, not a fence": (
        "テントが流された、中に子どもが2人いた",
        "公園のフェンスが流されてる、〇〇川沿い",
    ),
    "a call for an ambulance, not its siren": (
        "救急車呼んで、父が息してない",
        "朝から救急車のサイレンがずっと鳴ってる、何かあった？",
    ),
    "a fresh fracture, not one in a cast": (
        "はしごから落ちて骨折したみたい、動けない",
        "手首を骨折中でギプス、荷物が持てないので避難所まで送ってほしい",
    ),
    "an injury, not 「だけが」": (
        "じいちゃんがけがした、血が止まらない",
        "母だけが家に残ってる、元気です",
    ),
    "upstairs with the river still rising, not a level alone": (
        "うちら2階におる、川の水位がぐんぐん上がってきとる",
        "〇〇川の水位、けさより下がった、橋は通れる",
    ),
    "children alone, not a household of a parent and a child": (
        "子どもだけ、家に残ってる、水が来てる",
        "妻は実家、俺と娘だけ、〇〇小の避難所って開いてる？",
    ),
    "water coming, not water to buy": (
        "車いすの母が動けない、水も入ってきた",
        "一人暮らしの祖母、水も食料も買いに行けない、届けてほしい",
    ),
    "water at a level, not water carried": (
        "足の悪い父と二人、玄関まで水が来た",
        "車いすの妻がいる、給水所まで水をもらいに行けない",
    ),
}
# Asked, not told: whether the driver or the people of a house are safe is no all-clear.
SAFETY_ASKED = [
    "車が川に流された、運転手は大丈夫かわからない",
    "車ごと流された、運転手は無事？",
    "土砂で家が埋まった、住人は留守かどうか分からない",
    "転んで頭を打って血が出てる、手当てした方がいい？",
]
POST_LOOKALIKES = {
    "everyone evacuated": "車が水没したけど全員避難済みです",
    "repaired": "ガス漏れは業者さんが直してくれた",
    "a dream": "首まで水に浸かる夢を見た",
    "the sound of a rescue helicopter": "救助ヘリの音が朝からずっと聞こえる",
}


POST_RULE_PAIRS = {
    **POST_RULES,
    **UNABLE_WITH_HAZARD,
    **VULNERABLE_RISING,
    **NOT_COME_AND_FULL,
    **IN_A_CAR,
    **TAP_AND_UPSTAIRS,
    **OWN_DATA_MISREADINGS,
}


@pytest.mark.parametrize("rule", list(POST_RULE_PAIRS))
def test_real_post_rules_find_the_threat_and_leave_the_look_alike(rule: str) -> None:
    threat, lookalike = POST_RULE_PAIRS[rule]
    assert assess(threat).threat, threat
    assert not assess(lookalike).threat, lookalike


@pytest.mark.parametrize("text", SAFETY_ASKED)
def test_safety_asked_about_is_no_all_clear(text: str) -> None:
    assert assess(text).threat, text


@pytest.mark.parametrize("text", list(POST_LOOKALIKES.values()))
def test_real_post_look_alikes_are_not_threats(text: str) -> None:
    assert not assess(text).threat, text


# 1 Dec: general misreadings found on a first-sight set (bench/data/intent_fresh_posts.yml); our
# own sentences, one threat and one look-alike per rule.
DIALECT_AND_BODY_RULES = {
    "a burn, not the Kansai 「〜やけど」": (
        "鍋ひっくり返して娘がやけどした、水ぶくれ",
        "うちは〇〇町なんやけど、給水車まだ来えへん？",
    ),
    "a burn said last": ("じいちゃんが顔に大やけど", "今日も寒いんやけど、灯油ある？"),
    "the neck, not the ankle": ("水が首まで来てる、動けない", "足首まで水たまり、長靴で歩いた"),
    "a risk zone asked about": (
        "雪崩で車が埋まった、中に人がいる",
        "土砂崩れの危険がある場所ってうちも入ってる？",
    ),
    "a thing swept away, said with も": ("川に人が流された", "物置もひとつ流された、けが人なし"),
}
# A span about an animal or a thing discounts only its own words, not a person in the same clause.
THING_AND_PERSON = [
    "物置が燃えてる、中に子どもがいる",
    "倉庫が流された、中に人がいる",
    "犬が取り残されてる、祖母も逃げ遅れた",
    "our dog is stuck on the roof and my dad is trapped in the car",
]


@pytest.mark.parametrize("text", THING_AND_PERSON)
def test_a_thing_in_danger_does_not_hide_a_person_in_the_same_clause(text: str) -> None:
    assert assess(text).threat, text
    thing_only = text.split("、")[0].split(" and ")[0]
    assert not assess(thing_only).threat, thing_only


# Rules from the second real-post dev set (bench/data/danger_dev_posts2.yml, 1 Dec): each with a
# threat and a look-alike of our own (not lines of the set).
SECOND_POSTS_RULES = {
    "hanging on to something in the water": (
        "A man is hanging on to a fence in the flood water, please hurry",
        "We are hanging on to our hope, the shelter is warm",
    ),
    "someone or a car inside the torrent": (
        "濁流の中に人、電柱につかまってる",
        "濁流の動画をニュースで見た",
    ),
    "a person in the river (English)": (
        "There is a boy in the river, he can't swim",
        "Is there a shelter near the river?",
    ),
    "the stairs all under water": (
        "階段もう全部つかった、2階に家族4人",
        "階段は全部乾いてる、水は来てない",
    ),
    "water at the ground floor's ceiling": (
        "1階の天井近くまで水、2階にいる",
        "1階の天井の照明が落ちた、けが人なし",
    ),
    "a car on a sandbank": (
        "中洲で車が止まって動けない、水が増えてる",
        "中洲の公園は今日閉鎖って聞いた？",
    ),
    "a person on the roof": (
        "向かいの家の屋根に人がいる、手を振ってる",
        "屋根に人が乗って雪下ろししてる、危なくないかな",
    ),
    "a floor and water as bare words": (
        "充電3% 2f 水",
        "2f 水回りの点検はいつですか",
    ),
    "collapsed and does not get up": (
        "祖父が庭で倒れてる、呼んでも起きない",
        "祖父が庭で倒れてたけど今は起きて元気",
    ),
    "not breathing (English)": (
        "The baby isn't breathing, what do I do",
        "How do I know if a baby is breathing properly during sleep?",
    ),
    "bleeding with the particle dropped": (
        "転んで頭切った 血止まらない",
        "鼻血止まった、もう平気",
    ),
    "a deep cut": (
        "瓦で足ざっくり切った、骨見えてる",
        "ざっくり言うと避難所はどこ？",
    ),
    "oxygen run out (English)": (
        "Dad's oxygen ran out in the power cut and he is gasping",
        "Where can we refill oxygen cylinders tomorrow?",
    ),
    "gone and not back (Tohoku)": (
        "ばっちゃが畑さ出だきり戻ってこね、川あふれでる",
        "ばっちゃは畑から戻ってきた、川も大丈夫",
    ),
    "still inside said after the place": (
        "施設の1階にまだ入所者さん残ってる、水が膝まで",
        "施設の1階は片付け中、入所者さんは全員2階で無事",
    ),
    "whereabouts not confirmed with a landslide": (
        "叔父の家が土砂に押し流された、叔父の姿はまだ確認できていない",
        "叔父の家は土砂の心配なし、叔父の無事も確認できた",
    ),
    "a child wandered off by the water": (
        "My son wandered off and the creek is flooding",
        "My son wandered off to the playground at the shelter, found him",
    ),
    "a telegraphic household headcount with water": (
        "2:10 大人2 子2 水 もう膝",
        "車中泊 大人2 子2 避難所の駐車場",
    ),
    "water said as a level with は": (
        "まだ2階に3人、水は窓の上まで",
        "水は窓口で配ってます",
    ),
    "a road become a river": (
        "母が畑見に行ったきり戻らない、道がもう川みたいになってる",
        "母は畑から戻った、道が川みたいになってるから今日は外に出ない",
    ),
    "a car going cold with a baby": (
        "雪で動けなくなって5時間、車内どんどん冷えてる、赤ちゃんいる",
        "雪で電車が止まって駅で5時間、駅の中は暖かい",
    ),
    "a volcano with a bedridden person": (
        "噴石が飛んでる、寝たきりの母がまだ家にいる",
        "噴火警戒レベルって今いくつ？寝たきりの母がいるので心配",
    ),
    "the sea drawing back while a child is out": (
        "娘が海に行ったまま帰らない、海の水が引いてる",
        "娘は海から帰ってきた、潮干狩りの話をしてる",
    ),
}

SECOND_POSTS_LOOKALIKES = [
    "去年の大雨のとき、腰まで水が来て大変だった",  # a past event
    "息できないくらい笑った、避難所のおじいちゃん面白い",  # an idiom
    "首まで借金",  # an idiom
    "この歌詞の「流される」って言葉が好き",  # a quoted lyric
    "映画の洪水のシーンが怖かった、車が流されてた",  # a film scene
    "さっき閉じ込められてたトイレ、管理人さんが開けてくれた",  # let out
    "転んで頭打ったけど救護所で診てもらった、異常なしだって",  # seen to
    "救助要請、取り消します。自分たちで避難所に着きました",  # withdrawn
    "ヘリの音がする、どこかで救助やってるのかな",  # a rescue elsewhere
    "車が雪で埋まった、明日掘り出す",  # a thing
    "通帳も写真も流された、でも家族はみんな避難所",  # things
]


RULE_PAIRS = {**DIALECT_AND_BODY_RULES, **SECOND_POSTS_RULES}


@pytest.mark.parametrize("rule", list(RULE_PAIRS))
def test_dialect_body_and_second_post_rules_find_the_threat_and_leave_the_look_alike(
    rule: str,
) -> None:
    threat, lookalike = RULE_PAIRS[rule]
    assert assess(threat).threat, threat
    assert not assess(lookalike).threat, lookalike


@pytest.mark.parametrize("text", SECOND_POSTS_LOOKALIKES)
def test_second_post_set_look_alikes_are_not_threats(text: str) -> None:
    assert not assess(text).threat, text


def test_stable_now_does_not_hide_a_threat_said_with_it() -> None:
    assert assess("父が倒れて意識がない、今は安定してるって言われたけどまた息が苦しそう").threat
