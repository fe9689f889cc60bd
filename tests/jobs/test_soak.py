"""The soak, short form: real workers killed with SIGKILL at random while 40 generations and 2
trainings run; every job ends exactly once and every credit adds up. The full soak (300
generations, 10 trainings) is `python bench/soak.py`."""

import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))


def test_jobs_end_once_and_credits_add_up_while_workers_are_killed(tmp_path):
    import soak

    result = soak.run(generations=40, trainings=2, workers=2, threads=3, kill_every=1.5,
                      timeout=300, seed=7, data_dir=tmp_path)
    assert result["problem_count"] == 0, result["problems"]
    assert result["kills"] >= 2, result
    assert sum(v for k, v in result["outcomes"].items() if k.startswith("generation:")) == 40
    assert result["outcomes"].get("training:succeeded", 0) + result["outcomes"].get(
        "training:failed", 0) == 2
