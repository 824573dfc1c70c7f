"""WACZ export: ``selection`` chooses and orders the captures, ``warccopy`` copies one
WARC file's records into the package with every check, ``package`` writes the WACZ,
``signature`` signs it with the home's ``operatorkey``."""

from archiver.research.export.package import ExportSummary, export_wacz
from archiver.research.export.selection import Selection

__all__ = ["ExportSummary", "Selection", "export_wacz"]
