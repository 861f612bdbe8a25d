"""The GitHub Actions example for batch inference (examples/ci/batch.yml): one job submits,
the next collects and gives the verdict, the run id passed as a job output and the history
file as an artifact. Its promptlab commands are run as written, each job in its own checkout
(moto's S3, the fake control plane and the service player stand in for AWS)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.batch.service import BatchService
from tests.conftest import REPO, Cli, write
from tests.fakebedrock import FakeBedrock

RUN_ID = "${{ needs.submit.outputs.run-id }}"
# one case on nova-micro, 120 samples: 120 records, above a job's minimum
NIGHTLY = """\
prompt: greet.yaml
defaults:
  models: [nova-micro]
  repeat: 120
tests:
  - name: cara
    vars: {who: Cara}
    assert: [{contains: Cara}]
"""


def workflow() -> dict[str, Any]:
    loaded = yaml.safe_load((REPO / "examples" / "ci" / "batch.yml").read_text("utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def commands(job: dict[str, Any]) -> list[str]:
    """The job's promptlab commands, folded as YAML's `>-` folds them."""
    runs = [" ".join(str(step.get("run", "")).split()) for step in job["steps"]]
    return [r for r in runs if r.startswith("promptlab ")]


def step(job: dict[str, Any], uses: str) -> dict[str, Any]:
    return next(s for s in job["steps"] if str(s.get("uses", "")).startswith(uses))


def test_the_run_id_is_a_job_output_and_the_history_an_artifact_of_the_submit_job() -> None:
    jobs = workflow()["jobs"]
    submit, collect = jobs["submit"], jobs["collect"]
    assert submit["outputs"]["run-id"] == "${{ steps.submit.outputs.run-id }}"
    [submitting] = [s for s in submit["steps"] if s.get("id") == "submit"]
    assert "--batch --no-wait" in submitting["run"]
    upload = step(submit, "actions/upload-artifact")["with"]
    assert upload["path"] == ".promptlab/promptlab.db"
    assert upload["include-hidden-files"] is True  # upload-artifact leaves out .promptlab/
    assert collect["needs"] == "submit"
    download = step(collect, "actions/download-artifact")["with"]
    assert download == {"name": upload["name"], "path": ".promptlab/"}
    [verdict] = commands(collect)
    assert verdict.startswith(f"promptlab batch collect {RUN_ID} ")
    for job in (submit, collect):
        assert job["permissions"] == {"id-token": "write", "contents": "read"}
        assert step(job, "aws-actions/configure-aws-credentials")
        assert [s["run"] for s in job["steps"] if str(s.get("run", "")).startswith("pip")] == [
            "pip install -e ."
        ]
    assert "id-token" not in workflow()["permissions"]


def test_the_readme_shows_the_same_two_jobs() -> None:
    readme = (REPO / "README.md").read_text("utf-8")
    assert "examples/ci/batch.yml" in readme
    assert "promptlab test --batch --no-wait" in readme
    assert "promptlab batch collect ${{ needs.submit.outputs.run-id }}" in readme


def checkout(source: Path, to: Path) -> Path:
    """A fresh checkout of the project: its files, without the history directory."""
    shutil.copytree(source, to, ignore=shutil.ignore_patterns(".promptlab"))
    return to


@pytest.mark.parametrize("failing", [False, True])
def test_the_workflows_commands_submit_in_one_checkout_and_judge_in_another(
    cli: Cli,
    service: BatchService,
    fake_bedrock: FakeBedrock,
    batch_project: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    failing: bool,
) -> None:
    (batch_project / "prompts" / "greet.yaml").unlink()  # only the nightly suite's prompt
    write(batch_project / "prompts" / "greet.yaml", GREET_NO_TESTS)
    expect = "Nobody" if failing else "Cara"
    write(batch_project / "prompts" / "greet.tests.yaml", NIGHTLY.replace("Cara}]", f"{expect}}}]"))
    outputs = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    jobs = workflow()["jobs"]
    first = checkout(batch_project, tmp_path / "submit-job")
    monkeypatch.chdir(first)
    service.hold = True
    [submit] = commands(jobs["submit"])
    submitted = cli(*submit.split()[1:])
    assert submitted.exit_code == 0, submitted.output + submitted.stderr
    [line] = outputs.read_text("utf-8").splitlines()
    run_id = line.removeprefix("run-id=")
    second = checkout(batch_project, tmp_path / "collect-job")
    (second / ".promptlab").mkdir()
    shutil.copy(first / ".promptlab" / "promptlab.db", second / ".promptlab" / "promptlab.db")
    monkeypatch.chdir(second)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    service.hold = False
    [collect] = commands(jobs["collect"])
    collected = cli(*collect.replace(RUN_ID, run_id).split()[1:])
    assert collected.exit_code == (1 if failing else 0), collected.output + collected.stderr
    report = json.loads((second / "reports" / "results.json").read_text("utf-8"))
    assert [(c["case"], c["status"]) for c in report["cases"]] == [
        ("cara", "fail" if failing else "pass")
    ]
    assert (second / "reports" / "junit.xml").exists() and (
        second / "reports" / "report.md"
    ).exists()
    assert "cara" in (tmp_path / "summary.md").read_text("utf-8")
    assert fake_bedrock.batch.created == 1 and fake_bedrock.count(op="converse") == 0


GREET_NO_TESTS = """\
name: greet
version: "1.0.0"
input: Say hello to {{ who }}.
variables:
  who: {type: string}
inference: {temperature: 0, max_tokens: 50}
"""
