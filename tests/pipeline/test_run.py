"""The stage log of a run: one record per finished stage, in order, back to back."""

import json
import time

from powerprofile.pipeline._run import _Stages


def test_stage_log_records_each_stage_back_to_back(tmp_path):
    before = time.time()
    bar = _Stages(["a", "b"], progress=False)
    time.sleep(0.05)
    bar.done("a", "b")
    time.sleep(0.02)
    bar.done("b")
    after = time.time()
    bar.write(tmp_path / "stages.jsonl")
    lines = (tmp_path / "stages.jsonl").read_text(encoding="utf-8").splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["stage"] for e in events] == ["a", "b"]
    a, b = events
    assert before - 0.001 <= a["start"] <= a["end"] == b["start"] <= b["end"] <= after + 0.001
    assert a["seconds"] >= 0.05 and b["seconds"] >= 0.02
    for e in events:
        assert abs(e["seconds"] - (e["end"] - e["start"])) < 0.01
    assert bar.times == {"a": round(a["seconds"], 1), "b": round(b["seconds"], 1)}
