"""What a crawl process does before its first request (archiver/crawl/startup.py)."""

from __future__ import annotations

import inspect
import subprocess
import sys

from clihelp import run_cli


def test_the_cheap_stack_gives_the_frames_inspect_stack_gives():
    from archiver.crawl.startup import cheap_stack

    def caller_module():  # as Scrapy's create_deprecated_class asks for it
        return inspect.getmodule(inspect.stack()[1][0]).__name__, inspect.stack()[1].frame

    def real():
        return caller_module()

    expected_name, expected_frame = real()
    original = inspect.stack
    with cheap_stack():
        assert inspect.stack is not original
        name, frame = real()
    assert inspect.stack is original
    assert (name, frame.f_code) == (expected_name, expected_frame.f_code)


def test_scrapy_deprecated_classes_keep_their_module():
    """In a fresh interpreter, as a crawl imports them: the shims are named as Scrapy names
    them."""
    code = (
        "import archiver.crawl.tap\n"
        "from scrapy.core.downloader import contextfactory, tls\n"
        "print(contextfactory.ScrapyClientContextFactory.__module__,"
        " tls.ScrapyClientTLSOptions.__module__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [
        "scrapy.core.downloader.contextfactory", "scrapy.core.downloader.tls"]  # fmt: skip


def test_a_crawl_imports_no_extension_it_does_not_use(tmp_path, fixture_site):
    """Scrapy's remote control (aiohttp) and telnet console are never imported by a crawl."""
    crawled = run_cli(tmp_path / "home", "crawl", fixture_site.url + "page2.html",
                      "--profile", "test", env={"PYTHONPROFILEIMPORTTIME": "1"})  # fmt: skip
    assert crawled.returncode == 0, crawled.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in crawled.stderr.splitlines()
                if line.startswith("import time:")}  # fmt: skip
    assert "scrapy.core.downloader.handlers.http11" in imported  # the check sees a crawl's imports
    assert (
        not {"aiohttp", "scrapy.extensions.remote_control", "scrapy.extensions.telnet"} & imported
    )
