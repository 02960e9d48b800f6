"""The anonymous identity's signing key (web/identity.py), as workers starting together
read it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers.server import ROOT

# Thirty times, six processes forked at once (as gunicorn's workers start) each ask for
# the key of one fresh instance folder.
_WORKERS_STARTING_TOGETHER = r"""
import json, multiprocessing as mp, sys, pathlib
from interview_app.web.identity import secret_key

def ask(folder, barrier, answers):
    barrier.wait()
    answers.put(secret_key(None, pathlib.Path(folder)))

if __name__ == "__main__":
    forked = mp.get_context("fork")
    trials = []
    for trial in range(30):
        folder = pathlib.Path(sys.argv[1]) / str(trial)
        barrier, answers = forked.Barrier(6), forked.Queue()
        workers = [forked.Process(target=ask, args=(folder, barrier, answers)) for _ in range(6)]
        for w in workers:
            w.start()
        keys = [answers.get(timeout=30) for _ in workers]
        for w in workers:
            w.join()
        trials.append(sorted(set(keys)))
    print(json.dumps(trials))
"""


def test_workers_starting_together_signed_with_an_empty_key_or_keys_of_their_own(
    tmp_path: Path,
) -> None:
    """The key file was touched, then written: a worker reading in between signed every
    identity with an empty key (anyone could sign one), and a worker writing after another
    kept a key of its own (its visitors' cookies failed on the other workers, and their
    history was gone). 6 of 30 trials went wrong so."""
    command = [sys.executable, "-c", _WORKERS_STARTING_TOGETHER, str(tmp_path)]
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    trials = json.loads(out.stdout)
    assert len(trials) == 30
    for keys in trials:
        assert len(keys) == 1 and len(keys[0]) >= 32, keys
    for trial in range(30):  # nothing left beside the key
        assert [p.name for p in (tmp_path / str(trial)).iterdir()] == ["secret_key"]
