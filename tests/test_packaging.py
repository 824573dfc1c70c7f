"""Packaging: the distribution installs archiver.* only; researcher commands stay Scrapy-free."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Tests sharing the built wheel stay on one worker, so it is built once.
pytestmark = pytest.mark.xdist_group("packaging")
# What a build reads. The wheel is built from a copy of these: an in-tree build writes
# build/ and the egg-info folder into the checkout, which may be read-only or in use by
# other tests running meanwhile.
BUILD_INPUTS = ("pyproject.toml", "setup.py", "README.md", "archiver", "spiders", "settings",
                "storage")  # fmt: skip


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in BUILD_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))  # fmt: skip
        else:
            shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(source)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    [wheel_file] = out.glob("archiver-*.whl")
    return wheel_file


@pytest.fixture(scope="module")
def wheel_names(wheel) -> list[str]:
    return zipfile.ZipFile(wheel).namelist()


def test_wheel_puts_no_generic_top_level_modules(wheel_names):
    names = wheel_names
    top = {name.split("/")[0] for name in names}
    assert {"settings", "storage", "spiders"}.isdisjoint(top)
    assert {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")} == {
        "archiver"
    }
    for module in ("archiver/spiders/seedlist.py", "archiver/settings/base.py",
                   "archiver/storage/local.py", "archiver/demo/site/index.html",
                   "archiver/demo/site/static/logo.png"):  # fmt: skip
        assert module in names, module


def test_generic_names_are_not_importable_outside_the_checkout(tmp_path):
    code = (
        "import importlib.util, archiver.storage, archiver.settings, archiver.spiders;"
        "print([importlib.util.find_spec(n) is None for n in ('settings', 'storage', 'spiders')])"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert out.stdout.strip() == "[True, True, True]", out.stderr


def test_researcher_commands_do_not_import_scrapy(tmp_path):
    code = (
        "import sys\n"
        "from archiver.cli import cli\n"
        "commands = (['captures'], ['seeds', 'list'], ['cite', 'K7QD3XMA'], ['get', 'K7QD3XMA'])\n"
        "for args in commands:\n"
        "    try:\n"
        f"        cli(['--home', {str(tmp_path / 'h')!r}, *args], standalone_mode=False)\n"
        "    except Exception:\n"
        "        pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('scrapy', 'twisted')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_console_script_and_module_entry_points(tmp_path):
    for cmd in ([str(Path(sys.executable).parent / "archiver"), "--version"],
                [sys.executable, "-m", "archiver", "--version"]):  # fmt: skip
        out = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
        assert out.returncode == 0 and out.stdout.startswith("archiver, version "), out


def test_wheel_holds_every_source_module(wheel_names):
    names = set(wheel_names)
    installed_as = {"archiver": "archiver", "spiders": "archiver/spiders",
                    "settings": "archiver/settings", "storage": "archiver/storage"}  # fmt: skip
    expected = {
        f"{installed_as[folder]}/{path.relative_to(ROOT / folder).as_posix()}"
        for folder in installed_as
        for path in (ROOT / folder).rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert expected - names == set()


def test_the_built_wheel_installed_in_a_fresh_venv_runs_the_demo(tmp_path, wheel):
    """The wheel, not the checkout: installed (not editable) into a new venv, whose
    dependencies come from this environment's site-packages (a .pth line, which does not
    run this environment's editable-install hooks), then `archiver demo` from its bin."""
    import site
    import venv

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    (Path(purelib) / "deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
         str(wheel)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    where = subprocess.run(
        [python, "-c", "import archiver, archiver.spiders.seedlist as s; print(s.__file__)"],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert where.stdout.strip().startswith(purelib), where.stdout + where.stderr
    env = {k: v for k, v in os.environ.items() if k != "ARCHIVER_HOME"}
    demo = subprocess.run(
        [env_dir / "bin" / "archiver", "--home", str(tmp_path / "home"), "demo"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "captured" in demo.stdout, demo.stdout
