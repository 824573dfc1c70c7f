"""``archiver keys``: the operator key that signs exported WACZ packages."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from archiver.cli.jsonout import echo_json

if TYPE_CHECKING:
    from archiver.research.export.operatorkey import OperatorKey

PUBLISH = (
    "Publish the fingerprint where people can check it without trusting a package: your\n"
    "website, a signed e-mail, a printed letter. 'archiver export' signs with this key from\n"
    "now on. Back the key file up somewhere offline: a lost key cannot be made again."
)


@click.group()
def keys() -> None:
    """The operator key: signs exported WACZ packages so that a stranger who has its
    published fingerprint can tell they came from this archive.

    Example: archiver keys init
    """


@keys.command()
@click.option("--json", "as_json", is_flag=True, help="The new key's fingerprint, as JSON.")
@click.pass_obj
def init(obj, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Make the operator key (ECDSA P-384) at HOME/keys/operator.pem, readable by you
    alone, and print its fingerprint to publish. An existing key is never replaced.

    Example: archiver keys init
    """
    from archiver.research.export import operatorkey

    key = operatorkey.create(obj.home.operator_key_path)
    if as_json:
        echo_json(_facts(key))
        return
    click.echo(f"made an operator key ({operatorkey.ALGORITHM}) at {key.path}, mode 0600")
    _echo(key)
    click.echo(PUBLISH)


@keys.command()
@click.option("--json", "as_json", is_flag=True, help="The key's path, fingerprint and public key.")
@click.pass_obj
def show(obj, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Print the operator key's fingerprint and public key (never the private key).

    Example: archiver keys show --json
    """
    from archiver.research.export import operatorkey

    key = operatorkey.load(obj.home.operator_key_path)
    if as_json:
        echo_json(_facts(key))
        return
    click.echo(f"operator key ({operatorkey.ALGORITHM}): {key.path}")
    _echo(key)


def _facts(key: OperatorKey) -> dict[str, str]:
    from archiver.research.export.operatorkey import ALGORITHM

    return {
        "path": str(key.path),
        "algorithm": ALGORITHM,
        "fingerprint": key.fingerprint,
        "public_key": key.public_key,
    }


def _echo(key: OperatorKey) -> None:
    click.echo(f"fingerprint: {key.fingerprint}")
    click.echo(f"public key (SPKI, base64): {key.public_key}")
