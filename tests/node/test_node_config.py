"""Configuration: defaults, TOML file, environment, overrides, and refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from heliostat.cli import main
from heliostat.node.config import load_config
from heliostat.node.errors import ConfigError


def test_precedence_file_then_environment_then_overrides(tmp_path: Path) -> None:
    path = tmp_path / "node.toml"
    path.write_text(
        '[node]\nport = 9000\nslot_ms = 250\nlog_json = false\nchain_name = "from-file"\n'
    )
    env = {"HELIOSTAT_NODE_SLOT_MS": "300", "HELIOSTAT_NODE_RATE_LIMIT_RPS": "12.5"}
    config = load_config(path, environ=env, overrides={"chain_name": "from-flag", "host": None})
    assert (config.port, config.ws_port, config.slot_ms) == (9000, 9001, 300)
    assert config.rate_limit_rps == 12.5 and config.log_json is False
    assert config.chain_name == "from-flag" and config.host == "127.0.0.1"


@pytest.mark.parametrize(
    ("text", "env", "key"),
    [
        ("port = 70000", {}, "port"),
        ("slot_ms = 1", {}, "slot_ms"),
        ("colour = 3", {}, "colour"),
        ("", {"HELIOSTAT_NODE_PORT": "eighty"}, "port"),
        ("", {"HELIOSTAT_NODE_EXECUTOR": "magic"}, "executor"),
        ("", {"HELIOSTAT_NODE_LOG_JSON": "perhaps"}, "log_json"),
        ('faucet_key = "k.json"', {}, "faucet_lamports"),
    ],
)
def test_bad_settings_are_refused(tmp_path: Path, text: str, env: dict[str, str], key: str) -> None:
    path = tmp_path / "node.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as refused:
        load_config(path, environ=env)
    assert refused.value.key == key


def test_cli_refuses_a_missing_production_runtime_or_bad_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("port = [")
    assert main(["node", "--config", str(bad), "--data-dir", str(tmp_path)]) == 2
    assert "heliostat node:" in capsys.readouterr().err
