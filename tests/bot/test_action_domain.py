"""Rasa's selective domain: our action server fills in exactly the domain Rasa would have posted."""

from __future__ import annotations

import asyncio
import io
import json
import os
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from rasa_sdk import Action

from bot import action_domain

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(REPO / "bot" / "domain"))


@pytest.fixture(autouse=True)
def _fresh() -> Any:
    action_domain.clear()
    yield
    action_domain.clear()


def write_archive(path: Path, model_id: str, domain: dict[str, Any]) -> Path:
    """A model archive laid out as Rasa writes it (components/ first, then metadata.json)."""
    with tarfile.open(path, "w:gz") as tar:
        blob = b"\0" * 1000
        info = tarfile.TarInfo("components/train_DIET/weights.bin")
        info.size = len(blob)
        tar.addfile(info, io.BytesIO(blob))
        meta = json.dumps({"model_id": model_id, "domain": domain}).encode()
        info = tarfile.TarInfo("metadata.json")
        info.size = len(meta)
        tar.addfile(info, io.BytesIO(meta))
    return path


def tracker_for(model_id: str | None) -> DialogueStateTracker:
    tracker = DialogueStateTracker("resident-1", slots=[])
    tracker.model_id = model_id
    for event in (
        ActionExecuted("action_listen"),
        UserUttered("こんにちは", {"name": "greet", "confidence": 0.9}),
        SlotSet("language", "ja"),
    ):
        tracker.update(event)
    return tracker


def rasa_call(domain: Domain, tracker: DialogueStateTracker, selective: bool) -> dict[str, Any]:
    """The body Rasa 3.6 posts, through its JSON encoding."""
    endpoint = EndpointConfig("http://127.0.0.1:1/webhook", enable_selective_domain=selective)
    body = RemoteAction("action_record_domain", endpoint)._action_call_format(tracker, domain)
    return json.loads(json.dumps(body))


class ActionRecordDomain(Action):
    seen: list[dict[str, Any]] = []

    def name(self) -> str:
        return "action_record_domain"

    async def run(self, dispatcher: Any, tracker: Any, domain: dict[str, Any]) -> list:
        ActionRecordDomain.seen.append(domain)
        return []


def run_call(executor: action_domain.DomainFillingExecutor, call: dict[str, Any]) -> dict:
    ActionRecordDomain.seen.clear()
    executor.register_action(ActionRecordDomain())
    asyncio.run(executor.run(call))
    assert len(ActionRecordDomain.seen) == 1
    return ActionRecordDomain.seen[0]


def test_filled_domain_equals_what_rasa_posts(domain: Domain, tmp_path: Path) -> None:
    # what Rasa posts is the loaded model's domain: Domain.from_dict(metadata["domain"])
    stored = Domain.from_dict(domain.as_dict()).as_dict()
    write_archive(tmp_path / "bosai-abc.tar.gz", "model-1", stored)
    loaded = Domain.from_dict(stored)
    tracker = tracker_for("model-1")
    full = rasa_call(loaded, tracker, selective=False)
    selective = rasa_call(loaded, tracker, selective=True)
    assert "domain" in full and "domain" not in selective
    assert {k: v for k, v in full.items() if k != "domain"} == selective
    assert len(json.dumps(selective)) < len(json.dumps(full)) / 4
    got = run_call(action_domain.DomainFillingExecutor(tmp_path), selective)
    assert got == full["domain"]


def test_model_is_found_by_the_trackers_model_id(domain: Domain, tmp_path: Path) -> None:
    old = domain.as_dict()
    new = json.loads(json.dumps(old))
    new["responses"]["utter_greet"] = [{"text": "新しいモデル"}]
    write_archive(tmp_path / "bosai-old.tar.gz", "old-model", old)
    newer = write_archive(tmp_path / "bosai-new.tar.gz", "new-model", new)
    os.utime(newer, (time.time() + 5, time.time() + 5))
    executor = action_domain.DomainFillingExecutor(tmp_path)
    call_old = rasa_call(domain, tracker_for("old-model"), selective=True)
    call_new = rasa_call(domain, tracker_for("new-model"), selective=True)
    assert run_call(executor, call_old) == old
    assert run_call(executor, call_new) == new
    # an unknown model (its archive deleted): the newest model's domain
    assert run_call(executor, rasa_call(domain, tracker_for("gone"), selective=True)) == new
    # no model id on the events: the newest
    assert run_call(executor, rasa_call(domain, tracker_for(None), selective=True)) == new


def test_a_posted_domain_is_used_as_posted(domain: Domain, tmp_path: Path) -> None:
    executor = action_domain.DomainFillingExecutor(tmp_path)  # no archive at all
    call = rasa_call(domain, tracker_for("m"), selective=False)
    assert run_call(executor, call) == call["domain"]
    # and remembered for that model: a later call without it gets the same
    assert run_call(executor, rasa_call(domain, tracker_for("m"), selective=True)) == call["domain"]


def test_no_archive_is_an_error(domain: Domain, tmp_path: Path) -> None:
    executor = action_domain.DomainFillingExecutor(tmp_path)
    with pytest.raises(LookupError):
        run_call(executor, rasa_call(domain, tracker_for("m"), selective=True))


def test_endpoints_written_by_bosai_run_enable_it(tmp_path: Path) -> None:
    import yaml

    from bot.settings import Settings
    from bot.supervisor import write_endpoints

    settings = Settings(var_dir=tmp_path)
    data = yaml.safe_load(write_endpoints(settings).read_text())
    assert data["action_endpoint"]["enable_selective_domain"] is True
    endpoint = EndpointConfig.from_dict(data["action_endpoint"])
    assert RemoteAction("action_x", endpoint)._is_selective_domain_enabled()
