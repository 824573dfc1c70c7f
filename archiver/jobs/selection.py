"""What a crawl command chose (URLs, seeds, tags, profile, store), kept with its job.

Shell history, cron and systemd's ``Restart=on-failure`` run the same command line again
after a stop or a crash: when its selection is the one the job recorded, the job resumes.
A different selection is refused with the difference, since resuming would crawl other
seeds than the command names (or into another store), and starting afresh would reuse
the name of a job that has captures already.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from archiver.errors import ArchiverError, StorageError

DEFAULT_PROFILE = "local"
PARTS = ("urls", "seeds", "tags", "profile", "store")


def store_uri(store: str | None, default: Path) -> str:
    """The store as its URI (a folder's absolute ``file://`` form), so that a path typed
    from another folder, or the default written out, compares equal."""
    from archiver.storage import open_store

    try:
        return open_store(store or default).uri
    except StorageError:
        return str(store)  # refused later, with its own error


@dataclass(frozen=True)
class Selection:
    urls: tuple[str, ...]  # normalized, as added as seeds
    seeds: tuple[str, ...]  # --seed values as given
    tags: tuple[str, ...]  # lower-cased: tags match without case
    profile: str
    store: str  # the store's URI

    @classmethod
    def of(
        cls,
        urls: Iterable[str],
        seeds: Iterable[str],
        tags: Iterable[str],
        profile: str,
        store: str,
    ) -> Selection:
        return cls(
            urls=tuple(sorted(set(urls))),
            seeds=tuple(sorted({s.strip() for s in seeds}, key=lambda s: (len(s), s))),
            tags=tuple(sorted({t.strip().lower() for t in tags})),
            profile=profile,
            store=store,
        )

    def to_json(self) -> dict[str, object]:
        return {
            "urls": list(self.urls),
            "seeds": list(self.seeds),
            "tags": list(self.tags),
            "profile": self.profile,
            "store": self.store,
        }

    @classmethod
    def from_json(cls, data: object) -> Selection | None:
        if not isinstance(data, Mapping):
            return None  # a job recorded before selections were
        return cls(
            urls=tuple(data.get("urls") or ()),
            seeds=tuple(str(s) for s in data.get("seeds") or ()),
            tags=tuple(data.get("tags") or ()),
            profile=str(data.get("profile") or DEFAULT_PROFILE),
            store=str(data.get("store") or ""),
        )

    def differences(self, recorded: Selection, parts: Iterable[str] = PARTS) -> list[str]:
        """One line per part that differs: what the job has, what this command has."""
        labels = {"urls": "URLs", "seeds": "seeds", "tags": "tags", "profile": "profile",
                  "store": "store"}  # fmt: skip
        lines = []
        for part in parts:
            theirs, mine = getattr(recorded, part), getattr(self, part)
            if isinstance(theirs, str):
                theirs, mine = (theirs,), (mine,)
            if theirs != mine:
                lines.append(
                    f"  {labels[part]}: the job has {_listed(theirs)}; this command has"
                    f" {_listed(mine)}"
                )
        return lines

    def command(self, job_name: str, default_store: str) -> str:
        """The crawl command line that makes this selection, for messages."""
        words = ["archiver", "crawl", *self.urls]
        for tag in self.tags:
            words += ["--tag", tag]
        for seed in self.seeds:
            words += ["--seed", seed]
        words += ["--job", job_name]
        if self.profile != DEFAULT_PROFILE:
            words += ["--profile", self.profile]
        if self.store != default_store:
            words += ["--store", self.store]
        return shlex.join(words)


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(values) if values else "none"


def check_same(
    job_name: str,
    recorded: Selection | None,
    given: Selection,
    default_store: str,
    parts: Iterable[str] = PARTS,
) -> None:
    """Refuse to resume ``job_name`` with a command whose selection (its ``parts`` that the
    command gave) is not the job's."""
    alone = f"'archiver crawl --job {job_name}' alone"
    parts = tuple(parts)
    if recorded is None:  # a job recorded before selections were
        if set(parts) <= {"profile", "store"}:
            return  # resumed with the profile and store it recorded, as it always was
        raise ArchiverError(
            f"job {job_name!r} exists and did not finish: resume it with {alone}"
            " (its seeds are fixed)"
        )
    differences = given.differences(recorded, parts)
    if differences:
        raise ArchiverError(
            f"job {job_name!r} did not finish, and this command selects differently:\n"
            + "\n".join(differences)
            + f"\nresume it with its own command ({recorded.command(job_name, default_store)})"
            f" or {alone}, or choose another --job name"
        )
