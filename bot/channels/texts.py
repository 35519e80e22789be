"""What the channel connectors answer a resident themselves, before or instead of Rasa.

Every refusal or error a resident sees ends with the emergency numbers (the message may be about
one). :mod:`bot.channels.core` re-exports these names.
"""

from __future__ import annotations

MAX_TEXT_CHARS = 1000

EMERGENCY_TEXT = "命に関わる緊急時は、消防・救急は119、警察は110に電話してください。"
WELCOME_TEXT = (
    "友だち追加ありがとうございます。こちらは防災チャットボットです。\n"
    "・近くの避難場所・避難所を探す（現在地を送ってください）\n"
    "・今いる場所の洪水・土砂災害・津波などの危険を調べる\n"
    "・道路の冠水や建物の被害、避難している場所などを市町村に報告する\n"
    "ことができます。メッセージや位置情報、写真を送ってください。\n" + EMERGENCY_TEXT
)
OUTSIDE_JAPAN_TEXT = (
    "お送りいただいた位置は日本の範囲の外のようです。この位置は使いませんでした。"
    "もう一度、現在地を送ってください。\n" + EMERGENCY_TEXT
)
# every error reply to a resident ends with the emergency numbers (the message may be about one)
TOO_LONG_TEXT = (
    f"メッセージが長すぎます。{MAX_TEXT_CHARS}文字以内で、短く送ってください。\n" + EMERGENCY_TEXT
)
STICKER_TEXT = (
    "スタンプありがとうございます。避難場所を探すときは現在地を、"
    "被害を知らせるときは「報告」と送ってください。"
)
UNSUPPORTED_TEXT = (
    "この種類のメッセージには対応していません。文字、位置情報、写真を送ってください。\n"
    + EMERGENCY_TEXT
)
PHOTO_FAILED_TEXT = (
    "写真を受け取れませんでした（10MBまでの JPEG・PNG 画像に対応しています）。"
    "もう一度送ってください。\n" + EMERGENCY_TEXT
)
ERROR_TEXT = "ただいま応答できません。しばらくしてからもう一度送ってください。\n" + EMERGENCY_TEXT
BAD_LOCATION_TEXT = (
    "位置情報を読み取れませんでした。もう一度、現在地を送ってください。\n" + EMERGENCY_TEXT
)
# what a resident hears when Rasa processed their message but answered nothing (never silence)
RECEIVED_TEXT = (
    "メッセージを受け取りました。避難所を探すときは現在地を、危険を調べるときは「危険」、"
    "被害を知らせるときは「報告」と送ってください。\n" + EMERGENCY_TEXT
)
PHOTO_RECEIVED_TEXT = (
    "写真を受け取りました。被害を市町村に知らせるときは「報告」と送ってください。\n"
    + EMERGENCY_TEXT
)


def received_text(kind: str) -> str:
    """The acknowledgement for a processed event of ``kind`` that Rasa answered nothing."""
    return PHOTO_RECEIVED_TEXT if kind == "photo" else RECEIVED_TEXT
