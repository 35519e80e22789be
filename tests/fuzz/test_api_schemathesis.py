"""Schemathesis against the officials' API: every operation, with a valid token of each role.

The real app is served on loopback with a fresh database that holds a report with a photo and
inbox messages, and the GIS index of a small slice of the open data (so shelters answer). The
``schemathesis`` command reads ``/api/v1/openapi.json`` and sends generated requests — the
examples of the document, its coverage cases (boundaries, missing and wrong values) and random
valid and invalid data — and checks each answer: no 5xx, only documented status codes and
content types, bodies that match the response schema, and invalid requests refused.

Bounded so that the whole test takes well under two minutes on two cores: at most
:data:`MAX_EXAMPLES` generated cases per operation and phase for the admin (who may call every
operation), fewer for the operator and the viewer, a fixed seed (a run is reproducible; change
``SEED`` to explore). The figures of the last run are printed (``pytest -s``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bot.settings import REPO_ROOT
from tests.officials.conftest import Api, wait_for_gis
from tests.officials.test_inbox_api import seed_inbox

SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
#: fixed so that a run is reproducible; BOSAI_FUZZ_SEED, BOSAI_FUZZ_EXAMPLES and BOSAI_FUZZ_PHASES
#: (e.g. examples,coverage,fuzzing,stateful) explore further
SEED = int(os.environ.get("BOSAI_FUZZ_SEED") or 20261130)
MAX_EXAMPLES = int(os.environ.get("BOSAI_FUZZ_EXAMPLES") or 25)
#: role -> (phases, examples per operation)
RUNS = {
    "admin": (os.environ.get("BOSAI_FUZZ_PHASES") or "examples,coverage,fuzzing", MAX_EXAMPLES),
    "operator": ("examples,fuzzing", 10),
    "viewer": ("examples,fuzzing", 8),
}
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
    )
)


@pytest.fixture
def fuzz_api(gis_api: Api, settings_env: Path) -> Api:
    api = gis_api
    ready = wait_for_gis(api)
    assert ready.status_code == 200, f"GIS index did not load: {ready.text}"
    store = api.store
    # unguessable names: the fuzzer never revokes the officials it runs as (st_hooks.py)
    api.tokens = {
        role: store.add_official(f"fuzz-{role}-{uuid.uuid4().hex[:8]}", role)[1] for role in RUNS
    }
    report = store.create_report(
        category="road_flooded", text="道路が冠水", urgency="high", lat=35.1, lon=138.86,
        channel="line", resident="fuzz-resident",
    )  # fmt: skip
    from PIL import Image

    photo = settings_env / "p.png"
    Image.new("RGB", (4, 4), "blue").save(photo)
    ref = store.save_photo(photo.read_bytes(), "image/png")
    store.attach_photo(report.id, ref)
    messages = seed_inbox(api)
    sites = api.get("/api/v1/shelters", params={"bbox": "138.7,35.0,139.0,35.2", "limit": 3})
    shelters = [f["id"] for f in sites.json()["features"]]
    # existing ids, used for half of the generated path parameters (the rest stay random), so
    # the operations on one report, message, photo or shelter reach their logic, not only 404
    known = {
        "report_id": [report.id],
        "message_id": sorted(messages.values()),
        "ref": [str(ref)],
        "shelter_id": shelters,
    }
    config = ["[parameters]"]
    config += [f'"path.{n}" = {{ dictionary = "{n}", probability = 0.5 }}' for n in known]
    for name, values in known.items():
        config += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}"]
    (settings_env / "schemathesis.toml").write_text("\n".join(config) + "\n")
    return api


def _protected(api: Api) -> str:
    return ",".join(o.name for o in api.store.list_officials())


def _run(api: Api, role: str, phases: str, examples: int, report: Path) -> tuple[int, str]:
    env = dict(
        os.environ,
        SCHEMATHESIS_HOOKS="tests.fuzz.st_hooks",
        BOSAI_FUZZ_PROTECTED=_protected(api),
        PYTHONPATH=str(REPO_ROOT),
    )
    cmd = [
        SCHEMATHESIS, "--config-file", str(api.tmp_path / "schemathesis.toml"),
        "run", f"{api.url}/api/v1/openapi.json",
        "-H", f"Authorization: Bearer {api.tokens[role]}",
        "--checks", CHECKS,
        "--phases", phases,
        "--max-examples", str(examples),
        "--seed", str(SEED),
        "--workers", "1",
        "--no-shrink",
        "--generation-database", "none",
        "--request-timeout", "20",
        "--report", "junit", "--report-junit-path", str(report),
        "--no-color",
    ]  # fmt: skip
    result = subprocess.run(
        cmd, cwd=report.parent, env=env, capture_output=True, text=True, timeout=300
    )
    return result.returncode, result.stdout + result.stderr


def _junit(report: Path) -> tuple[int, list[str]]:
    """(operations, failure texts) from the JUnit report."""
    root = ET.parse(report).getroot()
    cases = root.findall(".//testcase")
    problems = []
    for case in cases:
        for bad in list(case.findall("failure")) + list(case.findall("error")):
            problems.append(f"{case.get('name')}: {bad.get('message') or ''}\n{bad.text or ''}")
    return len(cases), problems


def _generated(output: str) -> str:
    lines = [ln.strip() for ln in output.splitlines() if "generated" in ln]
    return lines[-1] if lines else "?"


def test_every_operation_with_every_role_answers_to_the_document(
    fuzz_api: Api, tmp_path: Path
) -> None:
    started = time.monotonic()
    figures, failures, outputs = [], [], []
    for role, (phases, examples) in RUNS.items():
        report = tmp_path / f"junit-{role}.xml"
        code, output = _run(fuzz_api, role, phases, examples, report)
        assert report.exists(), output[-4000:]
        outputs.append(output)
        operations, problems = _junit(report)
        figures.append(f"{role}: {operations} operations, {_generated(output)}")
        if problems or code != 0:
            failures.append(f"--- {role} (exit {code})\n" + "\n".join(problems) + output[-6000:])
    print(f"\nschemathesis ({time.monotonic() - started:.0f} s):\n  " + "\n  ".join(figures))
    if os.environ.get("BOSAI_FUZZ_VERBOSE"):
        print("\n".join(outputs))
    assert not failures, "\n".join(failures)
    # the fuzzer revoked none of the officials it ran as
    for role in fuzz_api.tokens:
        me = fuzz_api.get("/api/v1/me", role=role)
        assert me.status_code == 200 and me.json()["role"] == role, me.text
