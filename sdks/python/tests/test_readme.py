"""The README's examples run as written, in the interpreter the package was
installed into as a user would (``ASSENT_EXAMPLE_PYTHON``, set by
run-tests.sh; else this one)."""

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

from conftest import Named, in_background, pending_of, principal
from gateway import Gateway

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> List[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def run_example(code: str, gateway: Gateway, agent: Named) -> str:
    env = dict(os.environ, ASSENT_URL=gateway.url, ASSENT_TOKEN=agent.token)
    python = os.environ.get("ASSENT_EXAMPLE_PYTHON", sys.executable)
    finished = subprocess.run([python, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert finished.returncode == 0, finished.stderr
    return finished.stdout


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_the_first_example_prints_who_decided(gateway: Gateway, reviewer: Named, decision: str) -> None:
    example = python_blocks()[0]
    assert len(example.splitlines()) <= 12
    with principal(gateway, "agent", "ci-bot") as agent:
        running = in_background(lambda: run_example(example, gateway, agent))
        pending = pending_of(reviewer, agent.name)
        assert (pending["action"], pending["args"]) == ("deploy", {"service": "billing", "env": "prod"})
        if decision == "approve":
            reviewer.approve(pending["id"])
            assert running.outcome() == f"approved by {reviewer.name}\n"
        else:
            reviewer.reject(pending["id"], reason="freeze week")
            assert running.outcome() == f"rejected by {reviewer.name}: freeze week\n"


def test_the_gate_example_asks_with_the_call_arguments(gateway: Gateway, reviewer: Named) -> None:
    example = python_blocks()[1]
    with principal(gateway, "agent", "ci-bot") as agent:
        running = in_background(lambda: run_example(example, gateway, agent))
        pending = pending_of(reviewer, agent.name)
        assert pending["action"] == "shell"
        assert pending["args"] == {"command": "terraform apply", "cwd": "infra"}
        reviewer.approve(pending["id"])
        assert running.outcome() == ""
