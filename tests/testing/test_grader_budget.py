"""Judge calls have their own budget (`grader_concurrency`): they never take the places of the
calls under test, nor the other way round."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Cli, write
from tests.fakebedrock import FakeBedrock

ECHOER = 'version: "1.0.0"\ninput: "{{ text }}"\nvariables:\n  text: {type: string}\n'
JUDGE = "amazon.nova-micro-v1:0"
UNDER_TEST = "amazon.nova-lite-v1:0"


def test_judges_and_calls_under_test_each_run_up_to_their_own_budget(
    project: Path, cli: Cli, fake_bedrock: FakeBedrock
) -> None:
    write(project / "promptlab.yaml", "concurrency: 4\ngrader_concurrency: 2\n")
    write(project / "prompts" / "echoer.yaml", ECHOER)
    cases = "".join(f"  - name: c{i}\n    vars: {{text: t{i}}}\n    assert:\n"
                    "      - judge: Fine.\n" for i in range(12))  # fmt: skip
    write(project / "prompts" / "echoer.tests.yaml", "tests:\n" + cases)
    fake_bedrock.default.latency = 0.1
    fake_bedrock.script(JUDGE, text='{"pass": true, "score": 1, "reason": "ok"}', latency=0.1)
    result = cli("test", "-m", "nova-lite", "--no-log", "--no-cache")
    assert result.exit_code == 0, result.output
    assert fake_bedrock.count(model=JUDGE) == 12
    assert fake_bedrock.peak[JUDGE] == 2
    assert fake_bedrock.peak[UNDER_TEST] == 4
