"""Resident flows over Rasa's REST channel against the real stack (model, actions, GIS, store).

A location inside Hakodate gets the true nearest tsunami site (computed here independently from
the raw GSI GeoJSON), and a damage report afterwards appears in ``GET /api/v1/reports``.
"""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.actions.test_shelters import HAKODATE, true_nearest

pytestmark = pytest.mark.rasa

LOCATION = json.dumps({"latitude": HAKODATE[0], "longitude": HAKODATE[1]})
LOCATION = "/share_location" + LOCATION


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def test_tsunami_shelter_for_a_location_in_hakodate(rasa_stack) -> None:
    expected = true_nearest(*HAKODATE, "津波")[0]
    reply = texts(rasa_stack.rest("flow-1", '/find_shelter{"hazard": "tsunami"}'))
    assert "場所を教えてください" in reply
    reply = texts(rasa_stack.rest("flow-1", LOCATION))
    assert "「津波」の避難場所" in reply
    assert f"1. {expected['name']}（" in reply
    assert "https://maps.gsi.go.jp/#17/" in reply and "119" in reply


def test_a_district_in_the_opening_question_is_read_back_then_answered(rasa_stack) -> None:
    """「津波…逃げれば 函館市柏野町」: the district is the place (the centre of its sites, computed
    here from the raw GeoJSON), read back as 「…付近」 instead of asking where; yes → the true
    nearest tsunami sites from that point."""
    from tests.actions.test_location import _district_centre

    lat, lon, _ = _district_centre("北海道函館市柏野町")
    expected = true_nearest(lat, lon, "津波")[0]
    reply = texts(rasa_stack.rest("flow-area", "津波きたら どこに逃げればいい？ 函館市柏野町"))
    assert "「函館市柏野町付近」" in reply and "場所を教えてください" not in reply
    reply = texts(rasa_stack.rest("flow-area", "はい"))
    assert "「津波」の避難場所" in reply
    assert f"1. {expected['name']}（" in reply
    assert "地区の中心" in reply  # the note: only roughly the place; the location gives the exact answer


def test_damage_report_reaches_the_officials_api(rasa_stack) -> None:
    import subprocess

    from tests.conftest import BOSAI, REPO

    sender = "flow-2"
    assert "場所" in texts(rasa_stack.rest(sender, '/report_damage{"damage_type": "road_flooded"}'))
    assert "何が起きていますか" in texts(rasa_stack.rest(sender, LOCATION))
    assert "けが" in texts(rasa_stack.rest(sender, "駅前の道路が膝まで冠水"))
    assert "写真" in texts(rasa_stack.rest(sender, "/deny"))  # nobody hurt
    assert "緊急度" in texts(rasa_stack.rest(sender, "/deny"))  # no photo
    assert "この内容で送信しますか" in texts(rasa_stack.rest(sender, '/inform{"urgency": "high"}'))
    reply = texts(rasa_stack.rest(sender, "/affirm"))
    assert "受付番号" in reply
    out = subprocess.run(
        # an operator: viewers do not see the residents' words (docs/privacy.md)
        [BOSAI, "officials", "add", "flow-tester", "--role", "operator"],
        env=rasa_stack.env, cwd=REPO, check=True, capture_output=True, text=True,
    ).stdout
    token = next(w for w in out.split() if w.startswith("bosai_"))
    req = urllib.request.Request(
        rasa_stack.officials_url + "/api/v1/reports", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        body = json.loads(resp.read())
    props = [f["properties"] for f in body["features"]]
    assert any(p["category"] == "road_flooded" and p["text"] == "駅前の道路が膝まで冠水" for p in props)


def test_evacuation_headcount_corrected_in_one_message(rasa_stack) -> None:
    sender = "flow-3"
    assert "場所" in texts(rasa_stack.rest(sender, '/register_evacuation{"place_type": "home", "number": "2"}'))
    assert "高齢の方" in texts(rasa_stack.rest(sender, LOCATION))
    reply = texts(rasa_stack.rest(sender, "間違えた、4人です"))
    assert "「4人」に直しました" in reply and "高齢の方" in reply
    assert "必要な物" in texts(rasa_stack.rest(sender, "/deny"))
    assert "連絡" in texts(rasa_stack.rest(sender, "水と毛布"))
    assert "4人" in texts(rasa_stack.rest(sender, "/affirm"))


def test_a_bare_list_outside_a_form_offers_the_supply_request_with_what_it_named(rasa_stack) -> None:
    """「カイロと毛布」 is a bare answer by the labelling guide (inform): it is kept for a person, and
    a button starts the supply request with the two things already filled, so the form goes on
    to where they should go."""
    sender = "flow-4"
    replies = rasa_stack.rest(sender, "カイロと毛布")
    assert "担当者に伝えました" in texts(replies) and "119" in texts(replies)
    (button,) = [b for r in replies for b in r.get("buttons") or []]
    assert button["title"] == "物資をお願いする"
    assert button["payload"].startswith("/request_supplies{")
    reply = texts(rasa_stack.rest(sender, button["payload"]))
    assert "どこに届けば" in reply and "何が必要" not in reply


# The example phrases of docs/conversation.md, each sent as a resident's first message: each must
# open its own flow (its first question or answer), not the fallback. A retrained model once read
# 「避難所を探したい」 as the fallback (pulled to safety_check by 「人を探しています」).
DOCUMENTED_PHRASES = {
    "避難所を探したい": "どの災害",  # the shelter search asks the hazard
    "津波の避難場所は？": "場所を教えてください",  # hazard given: it asks the place
    "ここは浸水する？": "場所を教えてください",  # the hazard check asks the place
    "函館市民会館は開いてる？": "開設状況",  # a named shelter's status
    "道路が冠水しています": "被害の場所",  # the damage report asks where
    "この避難所、満員です": "どの避難所ですか",  # the shelter-status report asks which
    "車中泊です、3人": "その場所はどこですか",  # the registration asks where the car is
    "水がほしい": "どこに届け",  # the supply request asks where to deliver
    "助けて、閉じ込められた": "緊急の報告",  # 119, then the urgent report is offered
    "避難指示は出てる？": "お知らせ",  # the notices (none yet)
    "ペット連れて行ける？": "同行避難",
    "車いすでも大丈夫？": "福祉避難所",
    "何を持っていけばいい？": "持てる量",
}


@pytest.mark.parametrize("text", list(DOCUMENTED_PHRASES))
def test_each_documented_phrase_opens_its_flow(rasa_stack, text: str) -> None:
    replies = texts(rasa_stack.rest(f"phrase-{abs(hash(text))}", text))
    assert DOCUMENTED_PHRASES[text] in replies, replies
    assert "分かりませんでした" not in replies, replies
