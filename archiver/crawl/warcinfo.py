"""What a crawl's warcinfo records say about it (WARC 1.1 §6.2, the IIPC's warcinfo fields):
the software, the job, the operator, the robots policy, the user agent and the machine."""

from __future__ import annotations

import socket

from archiver import SOFTWARE
from archiver.crawl.config import CrawlConfig
from archiver.warc.records import CONFORMS_TO


def software_versions() -> str:
    """The warcinfo's ``software``: this crawler and the HTTP stack that fetched."""
    import OpenSSL
    import scrapy
    import twisted

    openssl = OpenSSL.SSL.OpenSSL_version(OpenSSL.SSL.OPENSSL_VERSION).decode("ascii", "replace")
    return (
        f"{SOFTWARE} (Scrapy {scrapy.__version__}; Twisted {twisted.__version__};"
        f" pyOpenSSL {OpenSSL.__version__}; {openssl})"
    )


def host_ip(hostname: str) -> str | None:
    """The crawling host's address as its own name resolves (Heritrix's warcinfo ``ip``)."""
    try:
        return socket.gethostbyname(hostname)
    except OSError:
        return None


def warcinfo_fields(
    config: CrawlConfig, robots_summary: str, ip: str | None
) -> list[tuple[str, str]]:
    """The fields of a WARC file's warcinfo record (dated when the file opens)."""
    fields = [
        ("software", software_versions()),
        ("format", "WARC File Format 1.1"),
        ("conformsTo", CONFORMS_TO),
        ("isPartOf", config.job_name),
        ("operator", config.operator or "unspecified"),
        ("robots", robots_summary),
        ("http-header-user-agent", config.user_agent),
    ]
    if config.from_header:
        fields.append(("http-header-from", config.from_header))
    fields.append(("hostname", config.hostname))
    if ip:
        fields.append(("ip", ip))
    for route in config.vantages.values():  # DESIGN §9: where the captures were seen from
        fields += route.warcinfo_fields()
    return fields
