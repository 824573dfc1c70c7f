"""The private Scrapy and Twisted internals the WARC tap (and the signal handling) relies on.

If a Scrapy or Twisted upgrade moves any of these, this fails first, with a message
naming what moved, before a crawl could quietly record the wrong bytes.
"""

from __future__ import annotations

import inspect
from importlib.metadata import version

import scrapy.core.downloader.handlers.http11 as http11
from twisted.web import _newclient, client, http


def test_scrapy_version_is_in_the_supported_range():
    major, minor = (int(x) for x in version("scrapy").split(".")[:2])
    assert (major, minor) == (2, 19), (
        "the tap is verified on Scrapy 2.19 only: re-run the fidelity tests"
    )


def test_handler_pool_and_factory_seams_exist():
    assert hasattr(http11.HTTP11DownloadHandler, "download_request")
    source = inspect.getsource(http11.HTTP11DownloadHandler.__init__)
    assert "self._pool._factory = _LenientHTTP11ClientFactory" in source
    assert "_factory" in inspect.getsource(client.HTTPConnectionPool._newConnection)
    params = inspect.signature(client._HTTP11ClientFactory.__init__).parameters
    assert list(params)[1:] == ["quiescentCallback", "metadata"]


def test_vantage_tunnel_seams_exist():
    """archiver/crawl/tunnel.py and tap.py build Scrapy's agent themselves for a request
    through a vantage point, and give Twisted's Agent their own endpoints."""
    source = inspect.getsource(http11.HTTP11DownloadHandler.download_request)
    names = ("_contextFactory", "_bind_address", "_default_maxsize", "_default_warnsize",
             "_fail_on_dataloss", "_tls_verbose_logging", "wrap_twisted_exceptions")  # fmt: skip
    for name in names:
        assert name in source, name
    assert "def _get_agent(self, request" in inspect.getsource(http11._ScrapyAgent)
    assert "self._get_agent(request, timeout)" in inspect.getsource(
        http11._ScrapyAgent.download_request
    )
    agent = inspect.getsource(client.Agent)
    assert "def _getEndpoint(self, uri)" in agent
    assert "def _requestWithEndpoint(" in inspect.getsource(client._AgentBase)
    assert "_connectTimeout" in inspect.getsource(client._StandardEndpointFactory)


def test_protocol_hooks_exist():
    proto = _newclient.HTTP11ClientProtocol
    for name in ("request", "dataReceived", "connectionLost", "_finishResponse_WAITING",
                 "_finishResponse_TRANSMITTING"):  # fmt: skip
        assert hasattr(proto, name), name
    assert "self._parser.__class__ = _LenientHTTPClientParser" in inspect.getsource(
        http11._LenientHTTP11ClientProtocol.request
    )
    assert "switchToBodyMode" in inspect.getsource(_newclient.HTTPClientParser.allHeadersReceived)


def test_transfer_decoders_expose_their_data_callback():
    identity = http._IdentityTransferDecoder(10, lambda d: None, lambda r: None)
    chunked = http._ChunkedTransferDecoder(lambda d: None, lambda r: None)
    assert callable(identity.dataCallback) and callable(chunked.dataCallback)


def test_chunked_decoder_keeps_its_trailer_fields():
    """The tap reads the trailer fields from the decoder when its last chunk is in."""
    seen = []
    chunked = http._ChunkedTransferDecoder(lambda d: None, lambda r: None)
    chunked.finishCallback = lambda rest: seen.append(list(chunked._trailerHeaders))
    chunked.dataReceived(b"3\r\nabc\r\n0\r\nX-Digest: sha-256=1\r\n\r\n")
    assert seen == [[b"X-Digest: sha-256=1"]]


def test_shutdown_signal_handlers_exist():
    """archiver/crawl/interrupts.py says what a signal does from these two handlers."""
    from scrapy.crawler import CrawlerProcessBase

    for name in ("_signal_shutdown", "_signal_kill"):
        params = list(inspect.signature(getattr(CrawlerProcessBase, name)).parameters)
        assert params[:2] == ["self", "signum"], (name, params)
    assert "_signal_kill" in inspect.getsource(CrawlerProcessBase._signal_shutdown)
    assert "_stop_reactor" in inspect.getsource(CrawlerProcessBase._signal_kill)
