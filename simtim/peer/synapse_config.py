"""The loopback-only test configuration simtim gives Synapse (pure: builds dicts and files' text).

Why each setting (docs/matrix.md "Synapse for tests"): the server must be reachable only from this
machine, talk to no other server, answer as fast as it can (no presence, no sync response cache,
no media or URL previews, no phone-home), and never rate-limit the harness, whose load is the thing
being measured.  Room version 11 is pinned: version 12 changes what a room creator is (MSC4289), and
the owner/power-level mapping of docs/matrix.md is written for version 11.
"""

from __future__ import annotations

import base64
import secrets
from pathlib import Path
from typing import Any

import orjson
import yaml

#: the matrix-synapse release tests and CI install (one place; ``simtim peer synapse --print-pin``)
SYNAPSE_PIN = "1.163.2"
SERVER_NAME = "simtim.test"
ROOM_VERSION = "11"  # version 12 makes the creator an unremovable "owner" outside power levels
#: far above any load the harness makes: per_second, burst_count
UNLIMITED = {"per_second": 1_000_000, "burst_count": 1_000_000}
RATE_LIMITS: dict[str, Any] = {
    "rc_message": UNLIMITED,
    "rc_registration": UNLIMITED,
    "rc_registration_token_validity": UNLIMITED,
    "rc_login": {"address": UNLIMITED, "account": UNLIMITED, "failed_attempts": UNLIMITED},
    "rc_admin_redaction": UNLIMITED,
    "rc_joins": {"local": UNLIMITED, "remote": UNLIMITED},
    "rc_joins_per_room": UNLIMITED,
    "rc_key_requests": UNLIMITED,
    "rc_3pid_validation": UNLIMITED,
    "rc_invites": {"per_room": UNLIMITED, "per_user": UNLIMITED, "per_issuer": UNLIMITED},
    "rc_third_party_invite": UNLIMITED,
    "rc_media_create": UNLIMITED,
    "rc_presence": {"per_user": UNLIMITED},
    "rc_delayed_event_mgmt": UNLIMITED,
    "rc_room_creation": UNLIMITED,
    "rc_reports": UNLIMITED,
    "rc_user_directory": UNLIMITED,
    "rc_profile": UNLIMITED,
}
SECRET_NAMES = ("registration_shared_secret", "macaroon_secret_key", "form_secret")


def new_secrets() -> dict[str, str]:
    return {name: secrets.token_urlsafe(32) for name in SECRET_NAMES}


def signing_key_line() -> str:
    """An ed25519 signing key in Synapse's file format (``ALG VERSION SEED``, unpadded base64):
    written here so starting needs no ``--generate-keys`` run (one process start fewer)."""
    seed = base64.b64encode(secrets.token_bytes(32)).decode("ascii").rstrip("=")
    return f"ed25519 a_simtim {seed}\n"


def homeserver_config(directory: Path, port: int, keys: dict[str, str]) -> dict[str, Any]:
    return {
        "server_name": SERVER_NAME,
        "public_baseurl": f"http://127.0.0.1:{port}/",
        "pid_file": str(directory / "homeserver.pid"),
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],  # loopback only
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],  # no federation listener
            }
        ],
        "database": {"name": "sqlite3", "args": {"database": str(directory / "homeserver.db")}},
        "log_config": str(directory / "log.config"),
        "media_store_path": str(directory / "media_store"),
        "signing_key_path": str(directory / "signing.key"),
        "report_stats": False,
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "federation_domain_whitelist": [],
        "enable_registration": False,  # accounts come only through the shared-secret admin API
        # every login hashes: 2^4 rounds instead of 2^12 keeps Synapse's one process for the load
        # being measured (the passwords are derived test secrets, docs/matrix.md)
        "bcrypt_rounds": 4,
        "presence": {"enabled": False},
        "caches": {"sync_response_cache_duration": 0},
        "default_room_version": ROOM_VERSION,
        "enable_media_repo": False,
        "url_preview_enabled": False,
        "user_directory": {"enabled": False},
        "require_auth_for_profile_requests": False,
        "experimental_features": {"msc2654_enabled": True},  # unread_count in /sync (UNREAD-1)
        **keys,
        **RATE_LIMITS,
    }


def log_config(directory: Path) -> dict[str, Any]:
    """Warnings and errors to a file in the directory (INFO logs every request: too much under load)."""
    return {
        "version": 1,
        "formatters": {"plain": {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"}},
        "handlers": {
            "file": {
                "class": "logging.FileHandler",
                "formatter": "plain",
                "filename": str(directory / "homeserver.log"),
                "encoding": "utf8",
            }
        },
        "root": {"level": "WARNING", "handlers": ["file"]},
        "disable_existing_loggers": False,
    }


def write_config(directory: Path, port: int) -> tuple[Path, dict[str, str]]:
    """Write homeserver.yaml, log.config and (once) the keys; a directory used before keeps its
    secrets and signing key, so its database and the users in it stay usable."""
    directory.mkdir(parents=True, exist_ok=True)
    secrets_path = directory / "secrets.json"
    keys: dict[str, str] = {}
    if secrets_path.exists():
        loaded = orjson.loads(secrets_path.read_bytes())
        if isinstance(loaded, dict):
            keys = {name: str(loaded[name]) for name in SECRET_NAMES if name in loaded}
    if set(keys) != set(SECRET_NAMES):
        keys = new_secrets()
        secrets_path.write_bytes(orjson.dumps(keys, option=orjson.OPT_INDENT_2))
        secrets_path.chmod(0o600)
    key_path = directory / "signing.key"
    if not key_path.exists():
        key_path.write_text(signing_key_line())
        key_path.chmod(0o600)
    (directory / "log.config").write_text(yaml.safe_dump(log_config(directory), sort_keys=False))
    config_path = directory / "homeserver.yaml"
    config_path.write_text(yaml.safe_dump(homeserver_config(directory, port, keys), sort_keys=False))
    return config_path, keys
