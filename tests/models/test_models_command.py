"""`promptlab models`: region listing (Stubber), --custom (moto + Stubber), --offline."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from promptlab.aws import AwsClients
from tests.conftest import Cli, write

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
SONNET_37 = "anthropic.claude-3-7-sonnet-20250219-v1:0"
ACCOUNT = "123456789012"


def foundation(model_id: str, provider: str, types: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "modelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{model_id}",
        "modelId": model_id,
        "modelName": model_id.split(".")[1],
        "providerName": provider,
        "inputModalities": extra.get("inputs", ["TEXT"]),
        "outputModalities": extra.get("outputs", ["TEXT"]),
        "responseStreamingSupported": extra.get("streaming", True),
        "inferenceTypesSupported": types,
        "modelLifecycle": {"status": extra.get("lifecycle", "ACTIVE")},
    }


FOUNDATION = {
    "modelSummaries": [
        foundation(HAIKU, "Anthropic", ["ON_DEMAND"], inputs=["TEXT", "IMAGE"]),
        foundation(SONNET_37, "Anthropic", ["INFERENCE_PROFILE"]),
        foundation(
            "amazon.titan-embed-text-v2:0",
            "Amazon",
            ["ON_DEMAND"],
            outputs=["EMBEDDING"],
            streaming=False,
        ),
        foundation("acme.mystery-v1:0", "Acme", ["PROVISIONED"], lifecycle="LEGACY"),
    ]
}


def profile(pid: str, model: str, ptype: str = "SYSTEM_DEFINED") -> dict[str, Any]:
    arn_kind = "inference-profile" if ptype == "SYSTEM_DEFINED" else "application-inference-profile"
    return {
        "inferenceProfileName": pid,
        "inferenceProfileArn": f"arn:aws:bedrock:us-east-1:{ACCOUNT}:{arn_kind}/{pid}",
        "inferenceProfileId": pid,
        "models": [{"modelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{model}"}],
        "status": "ACTIVE",
        "type": ptype,
    }


@pytest.fixture
def control(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """A stubbed control-plane client handed to the command (preflight still runs)."""
    client = boto3.client("bedrock", region_name="us-east-1")
    monkeypatch.setattr(AwsClients, "control", property(lambda self: client))
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def stub_region(stub: Stubber) -> None:
    stub.add_response("list_foundation_models", FOUNDATION, {})
    first = {
        "inferenceProfileSummaries": [profile(f"us.{SONNET_37}", SONNET_37)],
        "nextToken": "p2",
    }
    stub.add_response("list_inference_profiles", first, {"typeEquals": "SYSTEM_DEFINED"})
    second = {"inferenceProfileSummaries": [profile(f"eu.{HAIKU}", HAIKU)]}
    stub.add_response(
        "list_inference_profiles", second, {"typeEquals": "SYSTEM_DEFINED", "nextToken": "p2"}
    )


def rows_of(output: str) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in json.loads(output)}


def test_region_listing_merges_models_and_all_profile_pages(
    project: Path, cli: Cli, control: Stubber
) -> None:
    stub_region(control)
    result = cli("models", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = rows_of(result.stdout)
    assert set(rows) == {
        HAIKU, SONNET_37, "amazon.titan-embed-text-v2:0", "acme.mystery-v1:0",
        f"us.{SONNET_37}", f"eu.{HAIKU}",
    }  # fmt: skip
    haiku = rows[HAIKU]
    assert (haiku["alias"], haiku["access"]) == ("claude-haiku", "on-demand")
    assert haiku["streaming"] is True
    assert (haiku["price_input_per_1k"], haiku["price_output_per_1k"]) == (0.00025, 0.00125)
    assert rows[SONNET_37]["access"] == "profile-only"
    assert rows[SONNET_37]["alias"] is None  # the alias resolves to the us. profile here
    us_profile = rows[f"us.{SONNET_37}"]
    assert (us_profile["kind"], us_profile["alias"]) == ("inference-profile", "claude-3.7-sonnet")
    assert us_profile["provider"] == "Anthropic" and us_profile["price_input_per_1k"] == 0.003
    mystery = rows["acme.mystery-v1:0"]
    assert (mystery["access"], mystery["lifecycle"]) == ("provisioned-only", "LEGACY")
    assert mystery["price_input_per_1k"] is None  # unknown: never guessed


def test_provider_and_modality_filters(project: Path, cli: Cli, control: Stubber) -> None:
    stub_region(control)
    result = cli("models", "--format", "json", "--modality", "embedding")
    assert list(rows_of(result.stdout)) == ["amazon.titan-embed-text-v2:0"]
    stub_region(control)
    result = cli("models", "--format", "json", "--provider", "anthropic")
    assert all("anthropic" in r for r in rows_of(result.stdout))


def test_table_shows_ids_aliases_and_prices(project: Path, cli: Cli, control: Stubber) -> None:
    stub_region(control)
    result = cli("models")
    assert result.exit_code == 0, result.output
    assert "Bedrock models in us-east-1" in result.stdout
    assert HAIKU in result.stdout and "claude-haiku" in result.stdout
    assert "0.00025" in result.stdout and "LEGACY" in result.stdout


def test_access_denied_on_listing_is_exit_2_with_the_permission_to_add(
    project: Path, cli: Cli, control: Stubber
) -> None:
    control.add_client_error(
        "list_foundation_models", "AccessDeniedException", "not authorized", 403
    )
    result = cli("models")
    assert result.exit_code == 2
    assert "bedrock:ListFoundationModels" in result.stderr
    assert "Traceback" not in result.output


def test_custom_lists_fine_tuned_models_through_moto(
    project: Path, cli: Cli, aws_env: None
) -> None:
    with mock_aws():
        bedrock = boto3.client("bedrock", region_name="us-east-1")
        bedrock.create_model_customization_job(
            jobName="tone-job",
            customModelName="support-tone",
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/bedrock",
            baseModelIdentifier="amazon.titan-text-express-v1",
            trainingDataConfig={"s3Uri": "s3://bucket/train.jsonl"},
            outputDataConfig={"s3Uri": "s3://bucket/out/"},
            hyperParameters={},
        )
        result = cli("models", "--custom", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    custom = [r for r in rows if r["kind"] == "custom-model"]
    assert [r["id"] for r in custom] == [
        f"arn:aws:bedrock:us-east-1:{ACCOUNT}:custom-model/support-tone"
    ]
    assert custom[0]["base_model"] == "amazon.titan-text-express-v1"
    assert custom[0]["name"] == "support-tone"
    # moto does not implement the other listings: each is a warning, not a lost listing
    assert "warning: list provisioned model throughputs" in result.stderr


def test_custom_lists_provisioned_deployments_and_application_profiles(
    project: Path, cli: Cli, control: Stubber
) -> None:
    control.add_response("list_custom_models", {"modelSummaries": []}, {})
    provisioned = {
        "provisionedModelName": "pt-haiku",
        "provisionedModelArn": f"arn:aws:bedrock:us-east-1:{ACCOUNT}:provisioned-model/pt1",
        "modelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}",
        "desiredModelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}",
        "foundationModelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}",
        "modelUnits": 2,
        "desiredModelUnits": 2,
        "status": "InService",
        "creationTime": "2026-01-01T00:00:00Z",
        "lastModifiedTime": "2026-01-01T00:00:00Z",
    }
    control.add_response(
        "list_provisioned_model_throughputs", {"provisionedModelSummaries": [provisioned]}, {}
    )
    control.add_response("list_custom_model_deployments", {"modelDeploymentSummaries": []}, {})
    control.add_response(
        "list_inference_profiles",
        {"inferenceProfileSummaries": [profile("team-a", HAIKU, "APPLICATION")]},
        {"typeEquals": "APPLICATION"},
    )
    result = cli("models", "--custom", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = rows_of(result.stdout)
    pt = rows[f"arn:aws:bedrock:us-east-1:{ACCOUNT}:provisioned-model/pt1"]
    assert (pt["kind"], pt["base_model"], pt["status"]) == ("provisioned", HAIKU, "InService")
    app = rows[f"arn:aws:bedrock:us-east-1:{ACCOUNT}:application-inference-profile/team-a"]
    assert (app["kind"], app["base_model"]) == ("application-inference-profile", HAIKU)
    assert result.stderr == ""


def test_offline_lists_the_shipped_catalogue_without_aws(project: Path, cli: Cli) -> None:
    result = cli("models", "--offline", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = {r["alias"]: r for r in json.loads(result.stdout)}
    assert rows["nova-micro"]["id"] == "amazon.nova-micro-v1:0"
    assert rows["claude-3.7-sonnet"]["access"] == "profile-only"
    assert rows["claude-haiku"]["price_input_per_1k"] == 0.00025


def test_offline_uses_the_configured_region_and_user_aliases(project: Path, cli: Cli) -> None:
    write(
        project / "promptlab.yaml",
        "region: eu-west-1\naliases:\n"
        f"  tone: arn:aws:bedrock:eu-west-1:{ACCOUNT}:provisioned-model/p\n",
    )
    result = cli("models", "--offline", "--format", "json")
    rows = {r["alias"]: r for r in json.loads(result.stdout)}
    assert rows["claude-3.7-sonnet"]["id"] == f"eu.{SONNET_37}"
    assert rows["tone"]["kind"] == "user-alias"


def test_offline_table_needs_no_credentials(project: Path, cli: Cli) -> None:
    result = cli("models", "--offline", "--provider", "amazon")
    assert result.exit_code == 0
    assert "nova-micro" in result.stdout and "claude" not in result.stdout


def test_listing_without_credentials_is_one_clear_error(project: Path, cli: Cli) -> None:
    result = cli("models", "--region", "us-east-1")
    assert result.exit_code == 2
    assert "no AWS credentials" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "xml"], "--format must be one of table, json, csv"),
        (["--modality", "audio"], "--modality must be"),
        (["--offline", "--custom"], "needs AWS"),
    ],
)
def test_bad_options_are_usage_errors(
    project: Path, cli: Cli, args: list[str], message: str
) -> None:
    result = cli("models", *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_models_offline_lists_an_alias_whose_target_is_unknown(project: Path, cli: Cli) -> None:
    write(project / "promptlab.yaml", "aliases:\n  fast: nova-micro\n  bad: nonsense\n")
    result = cli("models", "--offline", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert '"alias": "bad"' in result.stdout and '"access": "unknown model"' in result.stdout


def test_models_offline_title_names_the_region_of_the_ids(project: Path, cli: Cli) -> None:
    result = cli("models", "--offline", "--region", "eu-west-1")
    assert result.exit_code == 0
    assert "shipped catalogue for eu-west-1" in result.stdout
    assert "eu.anthropic.claude-3-5-haiku-20241022-v1:0" in result.stdout
