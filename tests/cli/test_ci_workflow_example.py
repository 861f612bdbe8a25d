"""The GitHub Actions example does what the README recommends: lint with `--base` against the
pull request's base branch, installed the way the README installs promptlab."""

from __future__ import annotations

from typing import Any

import yaml

from tests.conftest import REPO


def workflow() -> dict[str, Any]:
    loaded = yaml.safe_load((REPO / "examples" / "ci" / "promptlab.yml").read_text("utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def runs(job: dict[str, Any]) -> list[str]:
    return [" ".join(str(step.get("run", "")).split()) for step in job["steps"]]


def test_lint_checks_version_bumps_against_the_base_branch() -> None:
    test = workflow()["jobs"]["lint"]
    assert "promptlab lint --base origin/${{ github.base_ref }}" in runs(test)
    readme = (REPO / "README.md").read_text("utf-8")
    assert "promptlab lint --base origin/${{ github.base_ref }}" in readme
    checkout = next(s for s in test["steps"] if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0  # --base needs the base commit


def test_promptlab_is_installed_as_the_readme_installs_it() -> None:
    readme = (REPO / "README.md").read_text("utf-8")
    assert "pip install -e . && promptlab run" in readme  # the quick start
    for job in workflow()["jobs"].values():
        installs = [r for r in runs(job) if r.startswith("pip install")]
        assert installs == ["pip install -e ."]
        assert any(s.get("uses", "").startswith("actions/checkout") for s in job["steps"])


def test_the_html_report_is_still_uploaded_and_linked() -> None:
    report = workflow()["jobs"]["report"]
    merge = next(r for r in runs(report) if r.startswith("promptlab report merge"))
    assert "--html reports/report.html" in merge
    uploads = [s for s in report["steps"] if s.get("uses", "").startswith("actions/upload")]
    assert any(s["with"]["path"] == "reports/report.html" for s in uploads)
    assert any("GITHUB_STEP_SUMMARY" in r for r in runs(report))


def test_aws_credentials_reach_only_pull_requests_from_this_repository() -> None:
    flow = workflow()
    triggers = flow.get("on") or flow.get(True)  # PyYAML reads the key `on` as True
    assert "pull_request_target" not in triggers  # it would run a fork's checks with secrets
    assert "id-token" not in flow.get("permissions", {})
    for name, job in flow["jobs"].items():
        steps = [s.get("uses", "") for s in job["steps"]]
        credentials = any(u.startswith("aws-actions/configure-aws-credentials") for u in steps)
        tests = any(r.startswith("promptlab test") for r in runs(job))
        if credentials or tests or "id-token" in job.get("permissions", {}):
            trusted = "github.event.pull_request.head.repo.full_name == github.repository"
            assert job.get("if") == trusted, name
    assert flow["jobs"]["report"]["if"] == "always() && needs.test.result != 'skipped'"
