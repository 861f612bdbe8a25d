"""AWS setup: region precedence, preflight errors (no network), client configuration."""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from promptlab.aws import AwsClients, client_config, preflight
from promptlab.config import Config, load_config
from promptlab.errors import ConfigError
from tests.conftest import write


def cfg(tmp_path: Path, **values: object) -> Config:
    return replace(Config(root=tmp_path), **values)  # type: ignore[arg-type]


@pytest.fixture
def aws_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An ~/.aws/config under a temporary HOME."""
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    config = home / ".aws" / "config"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    return config


def creds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


# ---------------------------------------------------------------- region


def test_missing_region_is_one_config_error_naming_the_ways_to_set_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    creds(monkeypatch)
    with pytest.raises(ConfigError) as info:
        preflight(cfg(tmp_path))
    assert "no AWS region" in info.value.message
    assert "--region, AWS_REGION or region: in promptlab.yaml" in (info.value.hint or "")
    assert info.value.exit_code == 2


def test_aws_region_variable_is_honoured_although_botocore_ignores_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    creds(monkeypatch)
    monkeypatch.setenv("AWS_REGION", "ap-southeast-2")
    target, _ = preflight(load_config(tmp_path))
    assert target.region == "ap-southeast-2"


def test_region_flag_beats_config_and_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    creds(monkeypatch)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    target, _ = preflight(load_config(tmp_path), region="eu-west-3")
    assert target.region == "eu-west-3"


def test_profile_region_is_the_last_resort(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aws_files: Path
) -> None:
    write(
        aws_files,
        "[profile lab]\nregion = ca-central-1\naws_access_key_id = a\naws_secret_access_key = b\n",
    )
    target, _ = preflight(cfg(tmp_path), profile="lab")
    assert (target.region, target.profile) == ("ca-central-1", "lab")


def test_config_region_beats_the_profile_region(tmp_path: Path, aws_files: Path) -> None:
    write(
        aws_files,
        "[profile lab]\nregion = ca-central-1\naws_access_key_id = a\naws_secret_access_key = b\n",
    )
    target, _ = preflight(cfg(tmp_path, region="us-west-2", profile="lab"))
    assert target.region == "us-west-2"


# ---------------------------------------------------------------- credentials


def test_no_credentials_is_a_config_error_with_the_login_commands(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        preflight(cfg(tmp_path, region="us-east-1"))
    assert "no AWS credentials" in info.value.message
    assert "aws configure" in (info.value.hint or "")
    assert "aws sso login" in (info.value.hint or "")


def test_unknown_profile_is_named(tmp_path: Path, aws_files: Path) -> None:
    write(aws_files, "[profile other]\nregion = us-east-1\n")
    with pytest.raises(ConfigError) as info:
        preflight(cfg(tmp_path, region="us-east-1"), profile="nope")
    assert "'nope' does not exist" in info.value.message


def test_expired_environment_credentials_are_caught_before_any_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    creds(monkeypatch)
    monkeypatch.setenv("AWS_SESSION_TOKEN", "token")
    monkeypatch.setenv("AWS_CREDENTIAL_EXPIRATION", "2020-01-01T00:00:00Z")
    with pytest.raises(ConfigError) as info:
        preflight(cfg(tmp_path, region="us-east-1"))
    assert "expired" in info.value.message


def test_bedrock_api_key_is_enough_without_aws_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-value")
    target, _ = preflight(cfg(tmp_path, region="us-east-1"))
    assert target.auth == "bearer"


def _sso_profile(aws_files: Path) -> None:
    write(
        aws_files,
        "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\n"
        "sso_role_name = Dev\nregion = us-east-1\n\n"
        "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n"
        "sso_region = us-east-1\n",
    )


def _sso_token(aws_files: Path, expires: datetime, refresh: bool = False) -> None:
    token: dict[str, str] = {
        "accessToken": "t",
        "expiresAt": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if refresh:
        token["refreshToken"] = "r"
    name = hashlib.sha1(b"corp").hexdigest() + ".json"
    write(aws_files.parent / "sso" / "cache" / name, json.dumps(token))


def test_sso_profile_without_login_asks_for_aws_sso_login(tmp_path: Path, aws_files: Path) -> None:
    _sso_profile(aws_files)
    with pytest.raises(ConfigError) as info:
        preflight(cfg(tmp_path), profile="dev")
    assert "aws sso login --profile dev" in (info.value.hint or "")


def test_expired_sso_token_asks_for_a_new_login(tmp_path: Path, aws_files: Path) -> None:
    _sso_profile(aws_files)
    _sso_token(aws_files, datetime.now(timezone.utc) - timedelta(hours=1))
    with pytest.raises(ConfigError) as info:
        preflight(cfg(tmp_path), profile="dev")
    assert "expired" in info.value.message
    assert "aws sso login --profile dev" in (info.value.hint or "")


def test_valid_or_refreshable_sso_token_passes_without_network(
    tmp_path: Path, aws_files: Path
) -> None:
    _sso_profile(aws_files)
    _sso_token(aws_files, datetime.now(timezone.utc) + timedelta(hours=1))
    assert preflight(cfg(tmp_path), profile="dev")[0].auth == "sso"
    _sso_token(aws_files, datetime.now(timezone.utc) - timedelta(hours=1), refresh=True)
    assert preflight(cfg(tmp_path), profile="dev")[0].auth == "sso"


# ---------------------------------------------------------------- clients


def test_client_config_sets_retries_timeouts_and_pool_explicitly(tmp_path: Path) -> None:
    config = cfg(tmp_path, retry_mode="adaptive", max_attempts=6, connect_timeout=2.5,
                 read_timeout=900.0, concurrency=24)  # fmt: skip
    boto = client_config(config, pool_size=40)
    assert boto.retries == {"mode": "adaptive", "total_max_attempts": 6}
    assert (boto.connect_timeout, boto.read_timeout) == (2.5, 900.0)
    assert boto.max_pool_connections == 40
    assert client_config(config).max_pool_connections == 24


def test_clients_are_created_once_and_shared_across_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    creds(monkeypatch)
    clients = AwsClients(cfg(tmp_path, region="us-east-1"))
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(clients.runtime)) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 12 and all(c is got[0] for c in got)
    assert clients.control is not clients.runtime


def test_endpoint_variables_are_used_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    creds(monkeypatch)
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK", "http://127.0.0.1:10")
    clients = AwsClients(cfg(tmp_path, region="eu-west-1"))
    assert clients.runtime.meta.endpoint_url == "http://127.0.0.1:9"
    assert clients.control.meta.endpoint_url == "http://127.0.0.1:10"
    assert clients.runtime.meta.region_name == "eu-west-1"
