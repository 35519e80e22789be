"""Fixed vocabularies of ARCHITECTURE.md (stored value -> Japanese label)."""

from __future__ import annotations

CATEGORIES: dict[str, str] = {
    "road_flooded": "道路冠水",
    "building_damage": "建物被害",
    "landslide": "土砂災害",
    "fire": "火災",
    "road_blocked": "道路寸断",
    "river_rising": "河川増水・氾濫",
    "power_outage": "停電",
    "water_outage": "断水",
    "injured_person": "負傷者・要救助",
    "needs_assistance": "要支援（自力で避難できない）",
    "missing_contact": "安否不明（連絡が取れない）",
    "shelter_status": "避難所の状況",
    "evacuee": "避難者登録",
    "supply_request": "物資要請",
    "other": "その他",
}

REPORT_STATUSES: dict[str, str] = {
    "new": "新規",
    "confirmed": "確認済み",
    "in_progress": "対応中",
    "resolved": "解決",
    "duplicate": "重複",
    "rejected": "却下",
}

# Allowed moves. The main path is new -> confirmed -> in_progress -> resolved (steps may be skipped
# forward); duplicate / rejected close a report from any open state; a closed report may be reopened.
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"confirmed", "in_progress", "resolved", "duplicate", "rejected"}),
    "confirmed": frozenset({"in_progress", "resolved", "duplicate", "rejected"}),
    "in_progress": frozenset({"resolved", "duplicate", "rejected"}),
    "resolved": frozenset({"in_progress"}),
    "duplicate": frozenset({"new"}),
    "rejected": frozenset({"new"}),
}

URGENCIES: dict[str, str] = {"low": "低", "normal": "通常", "high": "高", "critical": "緊急"}

PLACE_TYPES: dict[str, str] = {
    "home": "自宅",
    "car": "車中泊",
    "relatives": "親戚・知人宅",
    "hotel": "宿泊施設",
    "shelter": "指定避難所",
    "other": "その他",
}

CONGESTION: dict[str, str] = {
    "vacant": "空いている",
    "moderate": "やや混雑",
    "crowded": "混雑",
    "full": "満員",
    "closed": "閉鎖",
}

SHELTER_STATES: dict[str, str] = {"open": "開設", "closed": "閉鎖"}

SUPPLIES: dict[str, str] = {
    "water": "水",
    "food": "食料",
    "medicine": "医薬品",
    "baby_formula": "粉ミルク",
    "diapers": "おむつ",
    "blankets": "毛布",
    "fuel": "燃料",
    "toilet": "トイレ",
    "power": "電源",
    "clothing": "衣類",
    "hygiene": "衛生用品",
    "other": "その他",
}

VULNERABLE_KEYS: dict[str, str] = {
    "elderly": "高齢者",
    "infants": "乳幼児",
    "disabilities": "障がいのある方",
    "pregnancy": "妊産婦",
    "medical": "医療が必要な方",
}

# Severity of an officials' notice (避難指示 and other evacuation orders are "emergency").
NOTICE_SEVERITIES: dict[str, str] = {"info": "お知らせ", "warning": "警戒", "emergency": "緊急"}

# Outcome of a notice's broadcast on one channel.
BROADCAST_STATUSES: dict[str, str] = {"sent": "配信済み", "failed": "失敗", "skipped": "未設定"}

ROLES: dict[str, int] = {"viewer": 1, "operator": 2, "admin": 3}
