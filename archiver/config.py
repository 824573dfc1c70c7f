"""A home's configuration file, ``HOME/archiver.toml``: what an operator sets once.

Top-level keys stand for environment variables (``operator`` for ``ARCHIVER_OPERATOR``,
``store`` for ``ARCHIVER_STORE``, …); the ``[settings]`` table holds crawl settings by
name, as ``-s NAME=VALUE`` would give them (``DOWNLOAD_DELAY = 2``). The order is: the
command line, then the environment, then this file, then the defaults.

The file never holds a secret. A value may be a reference to an environment variable,
``"env:NAME"``, read when the file is; a literal password in a URL, or a literal value
for a setting named like a secret, is refused with the way to give it instead.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from archiver.errors import ArchiverError
from archiver.secrets import is_secret_name

FILE_NAME = "archiver.toml"
ENV_PREFIX = "env:"


@dataclass(frozen=True)
class Key:
    env: str
    help: str


KEYS: dict[str, Key] = {
    "operator": Key(
        "ARCHIVER_OPERATOR",
        "Who runs the crawls (a contact e-mail or URL): in the user agent and every warcinfo.",
    ),
    "archive_name": Key(
        "ARCHIVER_ARCHIVE_NAME", "The archive's name, cited when no replay base is set."
    ),
    "replay_base": Key(
        "ARCHIVER_REPLAY_BASE",
        "Where readers replay captures (http(s) URL of a pywb or other replay): in citations"
        " and TimeMaps.",
    ),
    "store": Key("ARCHIVER_STORE", "Where closed WARC files go: a folder or s3://bucket/prefix."),
    "catalog": Key(
        "ARCHIVER_CATALOG",
        "A postgresql:// URL of a catalog shared by workers (the password in PGPASSWORD or"
        " ~/.pgpass, never here).",
    ),
    "profile": Key("ARCHIVER_PROFILE", "The crawl settings profile: local or test."),
    "tsa_urls": Key(
        "ARCHIVER_TSA_URLS",
        "RFC 3161 timestamp authorities (URLs, space separated) that stamp each job's"
        " evidence manifest.",
    ),
    "tsa_ca_file": Key(
        "ARCHIVER_TSA_CA_FILE", "A PEM bundle of the timestamp authorities' trusted roots."
    ),
    "tsa_interval": Key(
        "ARCHIVER_TSA_INTERVAL", "Seconds between timestamps while a crawl runs (600)."
    ),
}
SETTINGS_TABLE = "settings"


class ConfigError(ArchiverError):
    """The configuration file cannot be used as written."""


@dataclass(frozen=True)
class HomeConfig:
    path: Path
    values: dict[str, str] = field(default_factory=dict)  # top-level keys, references resolved
    settings: dict[str, str] = field(default_factory=dict)  # crawl settings, as -s gives them
    written: dict[str, Any] = field(default_factory=dict)  # the file as written (references kept)

    def apply_to_environment(self, environ: os._Environ[str] | dict[str, str]) -> set[str]:
        """Give each key's variable the file's value where the environment has none; the
        names set so (the file's values in effect)."""
        applied = set()
        for key, value in self.values.items():
            name = KEYS[key].env
            if name not in environ:
                environ[name] = value
                applied.add(name)
        return applied


def config_path(home_root: Path) -> Path:
    return home_root / FILE_NAME


def load(
    home_root: Path, environ: Mapping[str, str] = os.environ, check_settings: bool = False
) -> HomeConfig:
    """The home's configuration; an empty one when there is no file. The [settings] names
    are checked only with ``check_settings`` (by a crawl, and by 'config set'): checking
    them imports Scrapy, which every other command can do without."""
    path = config_path(home_root)
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):  # no file, or no home (said later)
        return HomeConfig(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    try:
        written = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path} is not valid TOML ({exc}): correct it in an editor (or remove it to"
            " start again with 'archiver config set')"
        ) from None
    return parse(path, written, environ, check_settings)


def parse(
    path: Path, written: Mapping[str, Any], environ: Mapping[str, str], check_settings: bool = True
) -> HomeConfig:
    values: dict[str, str] = {}
    settings: dict[str, str] = {}
    for key, value in written.items():
        if key == SETTINGS_TABLE:
            if not isinstance(value, dict):
                raise ConfigError(
                    f"{path}: [{SETTINGS_TABLE}] must be a table of NAME = value lines"
                )
            for name, raw in value.items():
                text = _setting_value(path, name, raw, environ)
                if text is not None:
                    settings[name] = text
            continue
        if key not in KEYS:
            hint = _suggest(key, [*KEYS, SETTINGS_TABLE])
            raise ConfigError(f"{path}: unknown key {key!r}{hint}")
        resolved = _key_value(path, key, value, environ)
        if resolved is not None:  # a reference to a variable this environment lacks: unset
            values[key] = resolved
    if settings and check_settings:
        from archiver.crawl.config import validate_overrides

        try:
            validate_overrides(dict(settings))
        except ArchiverError as exc:
            raise ConfigError(f"{path} [{SETTINGS_TABLE}]: {exc}") from None
    return HomeConfig(path, values, settings, dict(written))


def _key_value(path: Path, key: str, value: Any, environ: Mapping[str, str]) -> str | None:
    if not isinstance(value, str):
        raise ConfigError(f'{path}: {key} must be a string (in quotes: {key} = "…")')
    resolved = _resolve(value, environ)
    if resolved is not None:
        check_key(key, resolved, literal=not value.startswith(ENV_PREFIX))
    return resolved


def check_key(key: str, value: str, literal: bool = True) -> None:
    """Refuse a value that cannot work, or that would put a secret in the file."""
    if key in ("catalog", "store", "replay_base") and literal and urlsplit(value).password:
        where = "PGPASSWORD or ~/.pgpass" if key == "catalog" else "the environment"
        raise ConfigError(
            f"{key} holds a password: the configuration file never holds secrets; give the"
            f" URL without it and the password in {where}"
        )
    if key == "catalog":
        from archiver.catalog.db import is_postgres

        if not is_postgres(value):
            raise ConfigError(
                f"catalog {value!r} is not a postgresql:// URL: give one such as"
                " postgresql://archiver@db.example.org/archive, or leave it out to use"
                " catalog.sqlite in the home"
            )
    if key == "replay_base" and urlsplit(value).scheme not in ("http", "https"):
        raise ConfigError(
            f"replay_base {value!r} is not an http(s) URL: give the replay address readers"
            " open, such as https://replay.example.org/archive/"
        )
    if key == "profile":
        from archiver.settings import PROFILES

        if value not in PROFILES:
            raise ConfigError(f"profile {value!r} is unknown: choose one of {', '.join(PROFILES)}")


def _setting_value(path: Path, name: str, raw: Any, environ: Mapping[str, str]) -> str | None:
    if isinstance(raw, bool):
        text = "true" if raw else "false"
    elif isinstance(raw, int | float):
        text = str(raw)
    elif isinstance(raw, str):
        if is_secret_name(name) and not raw.startswith(ENV_PREFIX):
            raise ConfigError(
                f"{path}: {name} is a secret: the configuration file never holds secrets;"
                f' write {name} = "env:VARIABLE" and set that variable, or give it with -s'
            )
        return _resolve(raw, environ)
    else:
        raise ConfigError(f"{path}: {name} must be a string, a number, true or false")
    return text


def _resolve(value: str, environ: Mapping[str, str]) -> str | None:
    """A value as written, or the variable it refers to ("env:NAME"); None when that
    variable is not set here (a crawl service may have it where a shell does not)."""
    if not value.startswith(ENV_PREFIX):
        return value
    return environ.get(value[len(ENV_PREFIX) :].strip())


def _suggest(word: str, known: list[str]) -> str:
    close = difflib.get_close_matches(word, known, n=1)
    return f": did you mean {close[0]!r}?" if close else f": known keys are {', '.join(known)}"


def set_value(home_root: Path, dotted: str, value: str) -> Path:
    """Write one key (``operator``) or setting (``settings.DOWNLOAD_DELAY``) into the
    file, checked as a read would check it; the file is replaced whole, atomically."""
    current = load(home_root, os.environ)
    written = {k: (dict(v) if isinstance(v, dict) else v) for k, v in current.written.items()}
    section, _, name = dotted.partition(".")
    if section == SETTINGS_TABLE and name:
        written.setdefault(SETTINGS_TABLE, {})[name] = _typed(value)
    elif dotted in KEYS:
        written[dotted] = value
    else:
        close = difflib.get_close_matches(dotted, list(KEYS), n=1)
        hint = (
            f"did you mean {close[0]!r}?" if close
            else f"keys are {', '.join(KEYS)}, and settings.NAME for a crawl setting"
            " (settings.DOWNLOAD_DELAY)"
        )  # fmt: skip
        raise ConfigError(f"unknown key {dotted!r}: {hint}")
    parse(current.path, written, os.environ)  # refuses what a read would refuse
    _write(current.path, written)
    return current.path


def unset_value(home_root: Path, dotted: str) -> bool:
    """Remove a key or setting; False if the file did not have it."""
    current = load(home_root, os.environ)
    written = {k: (dict(v) if isinstance(v, dict) else v) for k, v in current.written.items()}
    section, _, name = dotted.partition(".")
    table = written.get(SETTINGS_TABLE, {}) if section == SETTINGS_TABLE and name else written
    key = name if table is not written else dotted
    if key not in table:
        return False
    del table[key]
    if section == SETTINGS_TABLE and not table:
        written.pop(SETTINGS_TABLE, None)
    _write(current.path, written)
    return True


def _typed(value: str) -> Any:
    """A setting typed on the command line, as TOML would hold it."""
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def _write(path: Path, written: Mapping[str, Any]) -> None:
    import tomli_w

    from archiver.durable import fsync_dir

    top = {k: v for k, v in written.items() if k != SETTINGS_TABLE}
    if SETTINGS_TABLE in written:
        top[SETTINGS_TABLE] = written[SETTINGS_TABLE]  # tables after the plain keys
    text = (
        "# archiver configuration for this home ('archiver config show' explains each key).\n"
        '# Never a secret here: write "env:VARIABLE" and set the variable instead.\n'
        + tomli_w.dumps(top)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with open(partial, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)
    fsync_dir(path.parent)
