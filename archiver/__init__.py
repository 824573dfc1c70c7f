"""archiver: an archival web crawler for content at risk of censorship or deletion."""

from __future__ import annotations

__version__ = "0.1.0"
SOFTWARE = f"archiver/{__version__}"
