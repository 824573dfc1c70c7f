"""HOME/archiver.toml through ``archiver config``, and its place in the order: the command
line, then the environment, then the file, then the defaults."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from clihelp import run_cli
from servers import FixtureSite
from warcio.archiveiterator import ArchiveIterator

CLEAN = {"ARCHIVER_OPERATOR": None, "ARCHIVER_WARC_PREFIX": None, "ARCHIVER_PROFILE": None,
         "ARCHIVER_REPLAY_BASE": None, "MYKEY": None}  # fmt: skip


def cli(home: Path, *args: str, **env: str | None):  # type: ignore[no-untyped-def]
    return run_cli(home, *args, env={**CLEAN, **env})


def test_set_show_get_and_unset_as_an_operator_types_them(tmp_path):
    home = tmp_path / "home"
    assert (
        cli(home, "config", "set", "operator", "Rights Watch <archive@rights.example>").returncode
        == 0
    )
    done = cli(home, "config", "set", "settings.DOWNLOAD_DELAY", "2")
    assert (
        done.returncode == 0
        and done.stderr == f"settings.DOWNLOAD_DELAY set in {home}/archiver.toml\n"
    )
    written = tomllib.loads((home / "archiver.toml").read_text())
    assert written == {"operator": "Rights Watch <archive@rights.example>",
                       "settings": {"DOWNLOAD_DELAY": 2}}  # fmt: skip

    shown = cli(home, "config", "show").stdout
    assert "operator      Rights Watch <archive@rights.example>  [archiver.toml]" in shown
    assert f"store         {home}/warcs  [default]" in shown
    assert "settings.DOWNLOAD_DELAY = 2" in shown
    # The environment wins over the file, and show says where each value comes from.
    shown = cli(home, "config", "show", ARCHIVER_OPERATOR="ops@example.org").stdout
    assert "operator      ops@example.org  [environment (ARCHIVER_OPERATOR)]" in shown
    assert (
        cli(home, "config", "get", "operator").stdout == "Rights Watch <archive@rights.example>\n"
    )
    assert cli(home, "config", "get", "settings.DOWNLOAD_DELAY").stdout == "2\n"

    missing = cli(home, "config", "get", "replay_base")
    assert missing.returncode == 1
    assert (
        "replay_base is not set: set it with 'archiver config set replay_base VALUE'"
        in missing.stderr
    )
    assert cli(home, "config", "unset", "operator").returncode == 0
    assert "operator" not in tomllib.loads((home / "archiver.toml").read_text())
    gone = cli(home, "config", "unset", "operator")
    assert gone.returncode == 1 and f"operator is not in {home}/archiver.toml" in gone.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["settings.DOWNLOAD_DELAYY", "2"],
            "unknown setting DOWNLOAD_DELAYY: did you mean DOWNLOAD_DELAY?",
        ),
        (["profle", "test"], "unknown key 'profle': did you mean 'profile'?"),
        (
            ["catalog", "postgresql://archiver:hunter2@db.example/archive"],
            "catalog holds a password: the configuration file never holds secrets; give the URL"
            " without it and the password in PGPASSWORD or ~/.pgpass",
        ),
        (
            ["settings.AWS_SECRET_ACCESS_KEY", "hunter2"],
            "AWS_SECRET_ACCESS_KEY is a secret: the configuration file never holds secrets; write"
            ' AWS_SECRET_ACCESS_KEY = "env:VARIABLE" and set that variable, or give it with -s',
        ),
        (
            ["replay_base", "ftp://replay.example"],
            "replay_base 'ftp://replay.example' is not an http(s) URL",
        ),
        (["profile", "fast"], "profile 'fast' is unknown: choose one of local, test"),
    ],
)
def test_what_cannot_work_or_would_hold_a_secret_is_refused_and_nothing_written(
    tmp_path, args, message
):
    home = tmp_path / "home"
    assert cli(home, "config", "set", "operator", "ops@example.org").returncode == 0
    before = (home / "archiver.toml").read_bytes()
    refused = cli(home, "config", "set", *args)
    assert refused.returncode == 1, refused.stderr
    assert message in refused.stderr and "Traceback" not in refused.stderr
    assert "hunter2" not in refused.stderr
    assert (home / "archiver.toml").read_bytes() == before
    assert not list(home.glob("archiver.toml.*"))


def test_a_secret_is_kept_as_a_reference_to_the_environment(tmp_path):
    home = tmp_path / "home"
    assert cli(home, "config", "set", "settings.AWS_SECRET_ACCESS_KEY", "env:MYKEY").returncode == 0
    assert "env:MYKEY" in (home / "archiver.toml").read_text()
    shown = cli(home, "config", "show", MYKEY="hunter2").stdout
    assert "settings.AWS_SECRET_ACCESS_KEY = env:MYKEY" in shown and "hunter2" not in shown


def test_a_broken_file_is_named_with_its_fault(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "archiver.toml").write_text('operator = "ops@example.org\n')
    done = cli(home, "seeds", "list")
    assert done.returncode == 1
    assert f"Error: {home}/archiver.toml is not valid TOML (" in done.stderr
    assert "Traceback" not in done.stderr
    (home / "archiver.toml").write_text('operater = "ops@example.org"\n')
    done = cli(home, "seeds", "list")
    assert f"{home}/archiver.toml: unknown key 'operater': did you mean 'operator'?" in done.stderr


def warcinfo_and_names(home: Path, job: str) -> tuple[str, list[str]]:
    files = sorted((home / "warcs" / job).glob("*.warc.gz"))
    with open(files[0], "rb") as stream:
        record = next(iter(ArchiveIterator(stream)))
        assert record.rec_type == "warcinfo"
        info = record.content_stream().read().decode()
    return info, [f.name for f in files]


def test_the_command_line_beats_the_environment_which_beats_the_file(tmp_path):
    site = FixtureSite().start()
    home = tmp_path / "home"
    try:
        assert cli(home, "seeds", "add", site.url + "style.css").returncode == 0
        for args in (
            ["operator", "file@example.org"],
            ["settings.ARCHIVER_WARC_PREFIX", "fromfile"],
            ["profile", "test"],
        ):
            assert cli(home, "config", "set", *args).returncode == 0

        assert cli(home, "crawl", "--job", "file").returncode == 0
        info, names = warcinfo_and_names(home, "file")
        assert "operator: file@example.org" in info and names[0].startswith("fromfile-")

        env = {"ARCHIVER_OPERATOR": "env@example.org", "ARCHIVER_WARC_PREFIX": "fromenv"}
        assert cli(home, "crawl", "--job", "env", **env).returncode == 0
        info, names = warcinfo_and_names(home, "env")
        assert "operator: env@example.org" in info and names[0].startswith("fromenv-")

        done = cli(home, "crawl", "--job", "cli", "-s", "ARCHIVER_OPERATOR=cli@example.org",
                   "-s", "ARCHIVER_WARC_PREFIX=fromcli", **env)  # fmt: skip
        assert done.returncode == 0
        info, names = warcinfo_and_names(home, "cli")
        assert "operator: cli@example.org" in info and names[0].startswith("fromcli-")
        assert "no operator set" not in done.stderr
    finally:
        site.close()


def test_a_crawl_with_no_operator_says_so_once(tmp_path):
    site = FixtureSite().start()
    home = tmp_path / "home"
    try:
        done = cli(home, "crawl", "--profile", "test", site.url + "style.css")
        assert done.returncode == 0, done.stderr
        assert done.stderr.count("no operator set") == 1
        assert (
            "archiver: warning: no operator set, so this crawl's WARC files say 'operator:"
            " unspecified' and its user agent gives no contact; set it once for this home with"
            " 'archiver config set operator \"Name <you@example.org>\"' (or ARCHIVER_OPERATOR)"
        ) in done.stderr
    finally:
        site.close()


def test_a_setting_typo_in_the_file_stops_a_crawl_not_the_other_commands(tmp_path):
    home = tmp_path / "home"
    assert cli(home, "seeds", "add", "https://example.org/report").returncode == 0
    (home / "archiver.toml").write_text("[settings]\nDOWNLOAD_DELAYY = 1\n")
    assert cli(home, "seeds", "list").returncode == 0  # no crawl setting is read there
    refused = cli(home, "crawl", "--job", "typo")
    assert refused.returncode == 1
    assert (
        f"Error: {home}/archiver.toml [settings]: unknown setting DOWNLOAD_DELAYY: did you mean"
        " DOWNLOAD_DELAY?"
    ) in refused.stderr
