"""Proof for strangers: evidence manifests of stored WARC files, RFC 3161 timestamps
over them from authorities outside the operator's control, and the offline check that
walks from one capture to the timestamps that cover it."""
