"""The proof that travels with an exported package: for each job whose WARC files are in
it, the job's evidence manifests and the verified timestamp tokens over them, with their
chains, under ``proof/`` (listed in ``datapackage.json``, so the package's signature
covers them). The bytes are the catalog's copies, the same as stored beside the WARCs."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from pathlib import PurePosixPath

from archiver.catalog import Catalog, proofs
from archiver.proof.stamping import manifest_key, token_keys


def proof_files(catalog: Catalog, warc_files: Iterable[str]) -> list[tuple[str, bytes]]:
    jobs = sorted({line.job for name in warc_files if (line := proofs.file_line(catalog, name))})
    files: list[tuple[str, bytes]] = []
    for job in jobs:
        for manifest in proofs.job_manifests(catalog, job):
            files.append((_in_package(manifest_key(job, manifest.number)),
                          manifest.body.encode("utf-8")))  # fmt: skip
            for stamp in proofs.manifest_timestamps(catalog, manifest.id):
                if stamp.state != "stamped":
                    continue
                token_key, chain_key = token_keys(job, manifest.number, stamp.authority)
                files.append((_in_package(token_key), base64.b64decode(stamp.token or "")))
                files.append((_in_package(chain_key), (stamp.chain or "").encode("ascii")))
    return files


def _in_package(key: str) -> str:
    """``JOB/proof/NAME`` in the store is ``proof/NAME`` in a package."""
    return "proof/" + PurePosixPath(key).name
