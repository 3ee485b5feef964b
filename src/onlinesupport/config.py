"""Bootstrap settings: one schema drives defaults, the TOML file, environment variables, flags.

Only what the process needs before it can open its database lives here (listeners, data folder,
TLS, logging). Everything an admin changes later in the console is stored in the database.

To add a setting, add a field to `Config` with `option(...)` metadata; the CLI flag
(`--section-key`), the environment variable (`ONLINESUPPORT_SECTION_KEY`), the sample file and
the docs check all follow from it.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import socket
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

APP_NAME = "onlinesupport"
ENV_PREFIX = "ONLINESUPPORT_"
CONFIG_ENV = "ONLINESUPPORT_CONFIG"

PRIVATE_NETWORKS = (
    "127.0.0.0/8",
    "::1/128",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "169.254.0.0/16",
    "fc00::/7",
    "fe80::/10",
)


class ConfigError(Exception):
    """A setting is missing, unknown or invalid; the message names the source and the key."""


def _parse_str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be text, got {value!r}")
    return value.strip()


def _parse_port(value: Any) -> int:
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"must be a whole number, got {value!r}") from None
    if isinstance(value, bool) or not 0 <= port <= 65535:
        raise ValueError(f"must be between 0 and 65535, got {value!r}")
    return port


def _parse_count(value: Any) -> int:
    try:
        count = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"must be a whole number, got {value!r}") from None
    if isinstance(value, bool) or count < 0:
        raise ValueError(f"must be 0 or more, got {value!r}")
    return count


def _parse_at_least(minimum: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        count = _parse_count(value)
        if count < minimum:
            raise ValueError(f"must be {minimum} or more, got {value!r}")
        return count

    return parse


def _parse_seconds(value: Any) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"must be a number of seconds, got {value!r}") from None
    if isinstance(value, bool) or not 0 < seconds <= 86400:
        raise ValueError(f"must be more than 0 and at most 86400 seconds, got {value!r}")
    return seconds


def _parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0", ""):
        return False
    raise ValueError(f"must be true or false, got {value!r}")


def _parse_networks(value: Any) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise ValueError(f'must be a list of networks such as "192.168.0.0/16", got {value!r}')
    networks = []
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        try:
            networks.append(str(ipaddress.ip_network(text, strict=False)))
        except ValueError:
            raise ValueError(f'{text!r} is not a network such as "192.168.0.0/16"') from None
    return tuple(networks)


def _parse_schedule(value: Any) -> tuple[float, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not items:
        raise ValueError(f"must be a list of waits in seconds such as [5, 300], got {value!r}")
    return tuple(_parse_seconds(item) for item in items)


def _choice(*allowed: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = str(value).strip().lower()
        if text not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}; got {value!r}")
        return text

    return parse


def option(section: str, help: str, parse: Callable[[Any], Any], default: Any) -> Any:
    """Declare a setting: its TOML section, help text, parser and default."""
    return field(default=default, metadata={"section": section, "help": help, "parse": parse})


@dataclass(frozen=True)
class Config:
    public_host: str = option(
        "public",
        "Address the public listener binds (website widget, help centre, health check).",
        _parse_str,
        "0.0.0.0",
    )
    public_port: int = option(
        "public", "Port of the public listener; 0 picks a free port.", _parse_port, 8080
    )
    public_tls_cert: str = option(
        "public",
        "PEM certificate file for HTTPS on the public listener; empty serves plain HTTP "
        "(normal behind a reverse proxy).",
        _parse_str,
        "",
    )
    public_tls_key: str = option(
        "public", "PEM private key file matching public.tls_cert.", _parse_str, ""
    )
    public_visitor_messages_per_address: int = option(
        "public",
        "Most chat messages and new visitors a minute from one internet address (a "
        "whole office or carrier network can share one); 0 means no limit.",
        _parse_count,
        300,
    )
    public_url: str = option(
        "public",
        "The address customers reach the public listener by (e.g. "
        "https://support.example.com); links in mail use it. Empty: mails carry no help-center "
        "links.",
        _parse_str,
        "",
    )
    public_trusted_proxies: tuple[str, ...] = option(
        "public",
        'Reverse proxies in front of the public listener (e.g. "127.0.0.1/32"): '
        "from these, X-Forwarded-For and X-Forwarded-Proto name the visitor's address and "
        "scheme. Empty trusts no such headers.",
        _parse_networks,
        (),
    )
    desk_host: str = option(
        "desk",
        "Address the desk listener binds (agent desk, admin console, JSON API).",
        _parse_str,
        "0.0.0.0",
    )
    desk_port: int = option(
        "desk", "Port of the desk listener; 0 picks a free port.", _parse_port, 8081
    )
    desk_tls_cert: str = option(
        "desk",
        "PEM certificate file for HTTPS on the desk listener; empty serves plain HTTP.",
        _parse_str,
        "",
    )
    desk_tls_key: str = option(
        "desk", "PEM private key file matching desk.tls_cert.", _parse_str, ""
    )
    desk_tls_self_signed: bool = option(
        "desk",
        "Serve the desk over HTTPS with a certificate made on first run (kept in the data "
        "folder's tls/ folder) when desk.tls_cert is empty; browsers ask once to trust it.",
        _parse_bool,
        False,
    )
    desk_allowed_networks: tuple[str, ...] = option(
        "desk",
        "Client networks allowed to reach the desk listener (loopback and private "
        "networks by default). A list in TOML, comma-separated in the environment.",
        _parse_networks,
        PRIVATE_NETWORKS,
    )
    desk_assign_on_reply: bool = option(
        "desk",
        "An agent who replies to an unassigned conversation takes it (becomes its "
        "assignee), so colleagues see it is being handled. Notes do not count.",
        _parse_bool,
        True,
    )
    email_smtp_port: int = option(
        "email",
        "Port of the built-in SMTP receiver that the company's mail server forwards "
        "support mail to; 0 turns it off.",
        _parse_port,
        0,
    )
    email_smtp_host: str = option(
        "email",
        "Address the built-in SMTP receiver binds (0.0.0.0: every address of this "
        "machine; only allowed mail servers may hand over mail, see email.smtp_allowed_hosts).",
        _parse_str,
        "0.0.0.0",
    )
    email_smtp_max_size: int = option(
        "email",
        "Largest mail the SMTP receiver accepts, in bytes (bigger is refused with 552).",
        _parse_count,
        25 * 1024 * 1024,
    )
    email_smtp_allowed_hosts: tuple[str, ...] = option(
        "email",
        "Networks allowed to hand mail to the SMTP receiver, besides the mail servers "
        "named under Admin → Mailboxes (loopback and private networks by default; "
        '["0.0.0.0/0", "::/0"] allows anyone, which lets anyone on the internet write into '
        "the inbox). A list in TOML, comma-separated in the environment.",
        _parse_networks,
        PRIVATE_NETWORKS,
    )
    email_smtp_tls_cert: str = option(
        "email",
        "PEM certificate file offered with STARTTLS by the SMTP receiver; empty offers "
        "no STARTTLS.",
        _parse_str,
        "",
    )
    email_smtp_tls_key: str = option(
        "email", "PEM private key file matching email.smtp_tls_cert.", _parse_str, ""
    )
    email_imap_poll_seconds: float = option(
        "email",
        "How often mailboxes are checked when the IMAP server cannot push new mail (IDLE).",
        _parse_seconds,
        60.0,
    )
    email_retry_seconds: float = option(
        "email",
        "Wait before the first retry of a mail the outgoing server refused for now; "
        "it doubles with each attempt, up to an hour.",
        _parse_seconds,
        60.0,
    )
    email_max_attempts: int = option(
        "email",
        "Attempts before an outgoing mail is marked failed (agents can resend it).",
        _parse_count,
        10,
    )
    email_max_attachments: int = option(
        "email",
        "Most files kept from one mail (attachments and inline images); the rest stay "
        "in the original mail, and the desk says so.",
        _parse_count,
        100,
    )
    email_acks_per_hour: int = option(
        "email",
        "Most acknowledgements sent to one address in an hour (a guard against mail "
        "loops); 0 sends none.",
        _parse_count,
        3,
    )
    api_public: bool = option(
        "api",
        "Serve the JSON API (/api/v1/) on the public listener too, for cloud "
        "integrations; it answers there only requests with an API token (everything else gets "
        "404). It is always on the desk listener.",
        _parse_bool,
        False,
    )
    api_requests_per_minute: int = option(
        "api",
        "Most API requests a minute with one token (more get 429 with Retry-After); 0 "
        "means no limit.",
        _parse_count,
        600,
    )
    webhooks_allowed_networks: tuple[str, ...] = option(
        "webhooks",
        'The only networks webhooks may be sent to (e.g. ["203.0.113.0/24"]); '
        "empty allows any address except link-local, metadata and this machine's. A list in "
        "TOML, comma-separated in the environment.",
        _parse_networks,
        (),
    )
    webhooks_allow_loopback: bool = option(
        "webhooks",
        "Allow webhooks to this machine's loopback addresses (127.0.0.1, ::1), "
        "e.g. a receiver running beside the server; the server's own listeners stay refused.",
        _parse_bool,
        False,
    )
    webhooks_retry_seconds: tuple[float, ...] = option(
        "webhooks",
        "Waits between the attempts of a webhook delivery, in seconds, each spread "
        "by 10% (Standard Webhooks' schedule); after the last, the delivery has failed.",
        _parse_schedule,
        (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 50400.0, 72000.0, 86400.0),
    )
    storage_data_dir: str = option(
        "storage",
        "Folder for the database, secret key, logs and backups; empty uses the "
        "platform's data folder.",
        _parse_str,
        "",
    )
    storage_synchronous: str = option(
        "storage",
        "SQLite durability: full survives power loss, normal survives a crash of the process only.",
        _choice("full", "normal"),
        "full",
    )
    storage_backups_keep: int = option(
        "storage",
        "Daily backups kept in the data folder's backups/ folder (one a day, the "
        "oldest removed); 0 turns them off.",
        _parse_count,
        7,
    )
    log_level: str = option(
        "log",
        "Log level for the console and the log file; debug adds one line per request.",
        _choice("debug", "info", "warning", "error"),
        "info",
    )
    limits_header_timeout: float = option(
        "limits",
        "Seconds a connection may take to send its request headers, and may stay idle "
        "between requests, before it is closed (a slow or idle connection holds an open file).",
        _parse_seconds,
        10.0,
    )
    limits_public_connections_per_address: int = option(
        "limits",
        "Most connections at once from one internet address to the public listener "
        "(an office or a mobile network shares one address); 0 means no limit.",
        _parse_count,
        256,
    )
    limits_public_websockets_per_address: int = option(
        "limits",
        "Most chat websockets at once from one internet address (one per open "
        "page with the chat); 0 means no limit.",
        _parse_count,
        128,
    )
    limits_desk_connections: int = option(
        "limits",
        "Connections the desk listener keeps for itself, whatever the public side "
        "carries (at most a quarter of the open-file limit).",
        _parse_at_least(16),
        1000,
    )
    limits_desk_connections_per_address: int = option(
        "limits",
        "Most connections at once from one address to the desk listener (a terminal "
        "server shares one address); 0 means no limit.",
        _parse_count,
        256,
    )
    limits_desk_websockets_per_address: int = option(
        "limits",
        "Most desk websockets at once from one address (one per open desk tab); 0 means no limit.",
        _parse_count,
        100,
    )
    limits_unread_seconds: float = option(
        "limits",
        "Seconds a websocket's peer may go without reading what is sent before the "
        "socket is closed (the widget and the desk catch up when they come back).",
        _parse_seconds,
        60.0,
    )
    limits_socket_buffer_kb: int = option(
        "limits",
        "Most kilobytes of events waiting for one websocket; a socket further behind "
        "catches up from the database once it reads again.",
        _parse_at_least(16),
        512,
    )

    config_file: str = ""
    """The file the settings were read from; empty when none was found."""

    @property
    def data_dir(self) -> Path:
        if self.storage_data_dir:
            return Path(self.storage_data_dir).expanduser()
        return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))

    @property
    def database_path(self) -> Path:
        return self.data_dir / "onlinesupport.db"

    def desk_url(self) -> str:
        """How people on the LAN reach the desk listener of this machine."""
        host = self.desk_host
        if host in ("0.0.0.0", "::", ""):
            host = socket.gethostname()
        scheme = "https" if self.desk_tls_cert or self.desk_tls_self_signed else "http"
        return f"{scheme}://{host}:{self.desk_port}"


@dataclass(frozen=True)
class Setting:
    name: str
    section: str
    key: str
    help: str
    default: Any
    parse: Callable[[Any], Any]

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def settings() -> list[Setting]:
    """Every setting of the schema, in declaration order."""
    result = []
    for f in dataclasses.fields(Config):
        if "section" not in f.metadata:
            continue
        section = f.metadata["section"]
        result.append(
            Setting(
                f.name,
                section,
                f.name[len(section) + 1 :],
                f.metadata["help"],
                f.default,
                f.metadata["parse"],
            )
        )
    return result


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / f"{APP_NAME}.toml"


def load_config(
    path: Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Defaults, then the TOML file, then ONLINESUPPORT_* variables, then `overrides` (CLI flags).

    `path` None means $ONLINESUPPORT_CONFIG or the platform's config folder; a missing default
    file is fine, a missing file that was asked for is an error.
    """
    env = os.environ if env is None else env
    explicit = path is not None or bool(env.get(CONFIG_ENV))
    if path is None:
        path = Path(env[CONFIG_ENV]) if env.get(CONFIG_ENV) else default_config_path()
    schema = {s.name: s for s in settings()}
    values: dict[str, Any] = {}
    loaded_from = ""
    if path.is_file():
        values.update(_read_file(path, schema))
        loaded_from = str(path)
    elif explicit:
        raise ConfigError(f"config file {path} does not exist")
    for s in schema.values():
        if s.env in env:
            values[s.name] = _parse(s, env[s.env], f"environment variable {s.env}")
    for name, raw in (overrides or {}).items():
        if raw is not None:
            values[name] = _parse(schema[name], raw, f"option {schema[name].flag}")
    config = Config(**values, config_file=loaded_from)
    for side in ("public", "desk"):
        cert, key = getattr(config, f"{side}_tls_cert"), getattr(config, f"{side}_tls_key")
        if bool(cert) != bool(key):
            raise ConfigError(f"[{side}] tls_cert and tls_key must be set together")
    return config


def _read_file(path: Path, schema: dict[str, Setting]) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path}: cannot read it: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: not valid TOML: {exc}") from None
    values = {}
    for section, table in data.items():
        if not isinstance(table, dict):
            raise ConfigError(f"config file {path}: {section!r} must be a [section]")
        for key, raw in table.items():
            name = f"{section}_{key}"
            if name not in schema:
                raise ConfigError(f"config file {path}: unknown setting [{section}] {key}")
            values[name] = _parse(schema[name], raw, f"config file {path}: [{section}] {key}")
    return values


def _parse(setting: Setting, raw: Any, source: str) -> Any:
    try:
        return setting.parse(raw)
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def _toml_value(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_toml(config: Config | None = None, commented: bool = False) -> str:
    """The settings as TOML: the effective values, or a commented sample of the defaults."""
    lines: list[str] = []
    section = None
    for s in settings():
        if s.section != section:
            section = s.section
            lines.extend(["", f"[{section}]"] if lines else [f"[{section}]"])
        value = s.default if config is None else getattr(config, s.name)
        if commented:
            lines.append(f"# {s.help}")
            lines.append(f"# {s.key} = {_toml_value(value)}")
        else:
            lines.append(f"{s.key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"
