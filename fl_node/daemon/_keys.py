"""Where a process's chain key comes from: an encrypted keystore, or an anvil dev account.

A config names the key in one table, e.g.::

    [key]
    keystore = "keys/silo-1.json"          # Web3 Secret Storage file (geth/eth-account format)
    password_env = "FEDSETTLE_KEY_PASSWORD" # environment variable holding its password

or, on a local anvil devnet only, ``dev_account = 2`` (the i-th account anvil funds).
The password is read from the environment at load time and never written anywhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount

from fl_node.daemon._toml import ConfigFileError, Table

__all__ = ["KeySpec", "read_key_spec"]

_HINT = (
    'either keystore = "path/to/keystore.json" with password_env = "ENV_VAR_NAME", '
    "or dev_account = N (anvil dev account, local devnets only)"
)


@dataclass(frozen=True)
class KeySpec:
    """A key to load: ``keystore`` + ``password_env``, or ``dev_account``. ``where`` names it."""

    where: str
    dev_account: int | None = None
    keystore: Path | None = None
    password_env: str | None = None

    def load(self) -> LocalAccount:
        """Decrypt the keystore (or derive the dev account).

        Raises
        ------
        ConfigFileError
            Naming the field: the keystore is missing, the password variable is unset, or the
            password is wrong.
        """
        from settlement import (
            KeystoreError,
            KeystoreNotFound,
            WrongPassword,
            dev_account,
            load_keystore,
        )

        if self.dev_account is not None:
            return dev_account(self.dev_account)
        assert self.keystore is not None and self.password_env is not None
        password = os.environ.get(self.password_env)
        if not password:
            raise ConfigFileError(
                f"{self.where}.password_env: the environment variable {self.password_env} is "
                f"unset or empty; export it with the password of {self.keystore}"
            )
        try:
            return load_keystore(self.keystore, password)
        except KeystoreNotFound:
            raise ConfigFileError(
                f"{self.where}.keystore: {self.keystore} does not exist; create it (see "
                "deploy/README.md, 'Keys') or fix the path"
            ) from None
        except WrongPassword:
            raise ConfigFileError(
                f"{self.where}.password_env: ${self.password_env} does not decrypt "
                f"{self.keystore}; set it to the keystore's password"
            ) from None
        except KeystoreError as exc:
            raise ConfigFileError(
                f"{self.where}.keystore: {exc}; point it at a Web3 Secret Storage JSON file"
            ) from None

    def describe(self) -> str:
        """Where the key comes from (never the key itself)."""
        if self.dev_account is not None:
            return f"anvil dev account {self.dev_account}"
        return f"keystore {self.keystore} (password from ${self.password_env})"


def read_key_spec(table: Table) -> KeySpec:
    """Parse a key table (see the module docstring)."""
    table.check_keys(("dev_account", "keystore", "password_env"))
    where = table.where()
    if table.has("dev_account"):
        if table.has("keystore") or table.has("password_env"):
            raise table.error(
                "dev_account", "is set together with keystore/password_env", f"use {_HINT}"
            )
        index = table.integer("dev_account", "the index of an anvil dev account, e.g. 2", min=0)
        return KeySpec(where=where, dev_account=index)
    if not table.has("keystore"):
        raise table.error(None, "names no key", f"set {_HINT}")
    keystore = table.path("keystore", "the path of an encrypted keystore JSON file")
    env = table.text(
        "password_env", "the name of the environment variable holding the keystore password"
    )
    if not env.replace("_", "").isalnum():
        raise table.error(
            "password_env",
            f"= {env!r} is not an environment variable name",
            "set it to a name like FEDSETTLE_KEY_PASSWORD (the password itself goes in that "
            "variable, never in the file)",
        )
    return KeySpec(where=where, keystore=keystore, password_env=env)
