"""Settings: precedence, validation messages that name the source and key, docs that stay true."""

from __future__ import annotations

from pathlib import Path

import pytest

from onlinesupport.config import ConfigError, load_config, render_toml, settings

DOCS = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"


def test_defaults_need_no_file(tmp_path: Path) -> None:
    config = load_config(None, env={}, overrides={})
    assert (config.public_port, config.desk_port) == (8080, 8081)
    assert "192.168.0.0/16" in config.desk_allowed_networks
    assert config.storage_synchronous == "full"
    assert config.config_file == ""


def test_file_then_environment_then_flags(tmp_path: Path) -> None:
    path = tmp_path / "os.toml"
    path.write_text(
        '[public]\nport = 9000\nhost = "127.0.0.1"\n[desk]\nport = 9001\n'
        'allowed_networks = ["10.1.0.0/16"]\n[log]\nlevel = "debug"\n'
    )
    config = load_config(
        path,
        env={"ONLINESUPPORT_DESK_PORT": "9101", "ONLINESUPPORT_LOG_LEVEL": "warning"},
        overrides={"log_level": "error"},
    )
    assert config.public_port == 9000 and config.public_host == "127.0.0.1"
    assert config.desk_port == 9101
    assert config.desk_allowed_networks == ("10.1.0.0/16",)
    assert config.log_level == "error"
    assert config.config_file == str(path)


def test_the_config_file_can_be_named_by_environment(tmp_path: Path) -> None:
    path = tmp_path / "named.toml"
    path.write_text("[desk]\nport = 7000\n")
    assert load_config(None, env={"ONLINESUPPORT_CONFIG": str(path)}).desk_port == 7000
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(None, env={"ONLINESUPPORT_CONFIG": str(tmp_path / "missing.toml")})


@pytest.mark.parametrize(
    "text, message",
    [
        ("[desk]\nport = 70000\n", r"\[desk\] port: must be between 0 and 65535"),
        ('[desk]\nport = "eighty"\n', r"\[desk\] port: must be a whole number"),
        ('[desk]\nallowed_networks = ["not a net"]\n', r"\[desk\] allowed_networks: 'not a net'"),
        (
            '[storage]\nsynchronous = "off"\n',
            r"\[storage\] synchronous: must be one of full, normal",
        ),
        ("[nope]\nkey = 1\n", r"unknown setting \[nope\] key"),
        ("desk = 5\n", r"'desk' must be a \[section\]"),
        ("[desk\n", "not valid TOML"),
        ('[public]\ntls_cert = "/x.pem"\n', "tls_cert and tls_key must be set together"),
    ],
)
def test_bad_settings_name_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as error:
        load_config(path, env={})
    if "together" not in message:
        assert str(path) in str(error.value)


def test_the_sample_config_parses_back_to_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "sample.toml"
    path.write_text(render_toml(load_config(None, env={})))
    assert load_config(path, env={}) == load_config(None, env={}).__class__(config_file=str(path))


def test_every_setting_is_documented() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    for s in settings():
        assert f"`{s.key}`" in docs and f"[{s.section}]" in docs, (
            f"{s.section}.{s.key} undocumented"
        )
        assert s.env in docs, f"{s.env} undocumented"
