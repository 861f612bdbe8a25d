"""A test run submitted with `--batch --no-wait` in one step (a CI job) and its verdict from
`promptlab batch collect RUN` in another: the suite and options kept with the run, the
assertions, reports and exit codes of `promptlab test` on the same answers, and no job
submitted again."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.batch.conftest import GREET
from tests.batch.service import BatchService
from tests.conftest import Cli, write
from tests.fakebedrock import FakeBedrock

# three cases × 40 samples: 120 records, above a job's minimum; `zed` cannot pass
MIXED = (
    GREET.replace("name: greet", "name: mixed")
    + """\
  - name: zed
    vars: {who: Zed}
    assert: [{contains: Nobody}]
"""
)
SUITE = ("-m", "nova-micro", "--repeat", "60", "--no-cache", "--batch")


def submit(cli: Cli, *args: str, command: str = "test") -> str:
    """Submit with --no-wait; the run id it prints."""
    submitted = cli(command, *args, "--no-wait")
    assert submitted.exit_code == 0, submitted.output + submitted.stderr
    return submitted.stderr.split("submitted run ", 1)[1].split(":", 1)[0]


def verdicts(report: Path) -> list[tuple[str, str, int]]:
    """(case, status, samples) of a --json report: what the verdict is made of."""
    cases = json.loads(report.read_text("utf-8"))["cases"]
    return [(c["case"], c["status"], len(c["samples"])) for c in cases]


def test_collect_gives_the_verdict_of_the_submitted_suite_without_submitting_again(
    cli: Cli, service: BatchService, fake_bedrock: FakeBedrock, batch_project: Path
) -> None:
    service.hold = True
    run_id = submit(cli, "greet", *SUITE)
    assert fake_bedrock.batch.created == 1
    service.hold = False
    collected = cli("batch", "collect", run_id, "--json", "report.json", "--junit", "junit.xml")
    assert collected.exit_code == 0, collected.output + collected.stderr
    assert verdicts(batch_project / "report.json") == [("ann", "pass", 60), ("bob", "pass", 60)]
    suites = ET.parse(batch_project / "junit.xml").getroot()
    assert suites.get("failures") == "0" and suites.get("tests") == "2"
    assert "2 passed" in collected.stdout
    assert "0 call(s) made now" in collected.stderr and "120 collected" in collected.stderr
    assert fake_bedrock.batch.created == 1  # the run's jobs, found by their records
    assert fake_bedrock.count(op="converse") == 0
    again = cli("test", "greet", *SUITE, "--resume", run_id, "--json", "again.json")
    assert again.exit_code == 0
    assert verdicts(batch_project / "again.json") == verdicts(batch_project / "report.json")
    assert fake_bedrock.batch.created == 1


def test_a_failed_assertion_makes_collect_exit_1_with_the_reports_written(
    cli: Cli, service: BatchService, fake_bedrock: FakeBedrock, batch_project: Path
) -> None:
    write(batch_project / "prompts" / "mixed.yaml", MIXED)
    service.hold = True
    run_id = submit(cli, "mixed", "-m", "nova-micro", "--repeat", "40", "--batch")
    service.hold = False
    collected = cli("batch", "collect", run_id, "--junit", "junit.xml", "--json", "report.json",
                    "--markdown", "report.md")  # fmt: skip
    assert collected.exit_code == 1, collected.output + collected.stderr
    assert verdicts(batch_project / "report.json") == [
        ("ann", "pass", 40), ("bob", "pass", 40), ("zed", "fail", 40)
    ]  # fmt: skip
    failed = ET.parse(batch_project / "junit.xml").getroot()
    assert failed.get("failures") == "1"
    assert "zed" in (batch_project / "report.md").read_text("utf-8")
    passing = cli("batch", "collect", run_id, "--fail-under", "0.6")  # test's own threshold
    assert passing.exit_code == 0, passing.stderr
    assert fake_bedrock.batch.created == 1 and fake_bedrock.count(op="converse") == 0


def test_a_suite_changed_since_submitting_is_one_line_and_nothing_is_submitted(
    cli: Cli, service: BatchService, fake_bedrock: FakeBedrock, batch_project: Path
) -> None:
    service.hold = True
    run_id = submit(cli, "greet", *SUITE)
    service.hold = False
    prompt = batch_project / "prompts" / "greet.yaml"
    prompt.write_text(prompt.read_text("utf-8").replace("Say hello", "Greet"), "utf-8")
    collected = cli("batch", "collect", run_id, "--json", "report.json")
    assert collected.exit_code == 2
    assert f"run {run_id}: its batch jobs hold no record for 120 of the calls" in collected.stderr
    assert "nothing was submitted" in collected.stderr
    assert fake_bedrock.batch.created == 1 and fake_bedrock.count(op="converse") == 0
    assert not (batch_project / "report.json").exists()


@pytest.mark.parametrize(
    ("command", "option", "message"),
    [
        ("test", ("--format", "json"), "--format goes with a `promptlab run` run"),
        ("run", ("--junit", "junit.xml"), "--junit goes with a `promptlab test` run"),
    ],
)
def test_an_option_for_the_other_kind_of_run_is_one_line_before_any_wait(
    cli: Cli,
    service: BatchService,
    fake_bedrock: FakeBedrock,
    command: str,
    option: tuple[str, str],
    message: str,
) -> None:
    service.hold = True  # a wait would never end: the error comes first
    if command == "test":
        run_id = submit(cli, "greet", *SUITE)
    else:
        run_id = submit(cli, "greet", "-m", "nova-micro", "--vars", "people.yaml", "--batch",
                        command="run")  # fmt: skip
    [job] = fake_bedrock.batch.jobs.values()
    polls = job.get("_polls", 0)
    collected = cli("batch", "collect", run_id, *option)
    assert collected.exit_code == 2
    [line, *_] = collected.stderr.strip().splitlines()
    assert message in line and run_id in line
    assert job.get("_polls", 0) == polls  # the service was not asked


def test_submitting_in_github_actions_sets_the_run_id_as_a_step_output(
    cli: Cli,
    service: BatchService,
    batch_project: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    outputs = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    service.hold = True
    run_id = submit(cli, "greet", *SUITE)
    assert outputs.read_text("utf-8").splitlines() == [f"run-id={run_id}"]
    service.hold = False
    collected = cli("batch", "collect", run_id)
    assert collected.exit_code == 0, collected.stderr
    assert outputs.read_text("utf-8").splitlines() == [f"run-id={run_id}"]  # set once


def kept_args(batch_project: Path, run_id: str) -> Any:
    import sqlite3

    con = sqlite3.connect(batch_project / ".promptlab" / "promptlab.db")
    return json.loads(con.execute("SELECT args FROM batch_test_args WHERE run_id = ?",
                                  (run_id,)).fetchone()[0])  # fmt: skip


def test_the_suite_and_its_options_are_kept_with_the_run_but_not_the_reports(
    cli: Cli, service: BatchService, batch_project: Path
) -> None:
    service.hold = True
    run_id = submit(cli, "greet", *SUITE, "--skip-unsupported", "--json", "x.json")
    assert kept_args(batch_project, run_id) == [
        "greet", "--model", "nova-micro", "--repeat", "60", "--no-cache", "--skip-unsupported",
        "--batch",
    ]  # fmt: skip


def test_a_run_submitted_without_its_arguments_kept_names_the_command_that_judges_it(
    cli: Cli, service: BatchService, fake_bedrock: FakeBedrock, batch_project: Path
) -> None:
    import sqlite3

    service.hold = True
    run_id = submit(cli, "greet", *SUITE)
    con = sqlite3.connect(batch_project / ".promptlab" / "promptlab.db")
    with con:
        con.execute("DELETE FROM batch_test_args")  # as a run submitted by an older promptlab
    con.close()
    collected = cli("batch", "collect", run_id, "--json", "report.json")
    assert collected.exit_code == 2
    assert f"run {run_id} does not say which suite it was submitted with" in collected.stderr
    assert f"adding --batch --resume {run_id}" in collected.stderr
    [job] = fake_bedrock.batch.jobs.values()
    assert job.get("_polls", 0) == 0 and fake_bedrock.batch.created == 1
