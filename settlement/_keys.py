"""Keys: anvil's well-known dev accounts and encrypted keystore files.

The dev accounts are public knowledge (derived from the standard test mnemonic); they hold money
only on devnets. Real keys live in encrypted keystore files (the Web3 Secret Storage format that
geth and eth-account use).
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

from eth_account import Account
from eth_account.hdaccount import key_from_seed, seed_from_mnemonic
from eth_account.signers.local import LocalAccount
from eth_utils import ValidationError

from settlement._errors import ConfigError, KeystoreError, KeystoreNotFound, WrongPassword

#: the mnemonic anvil (and hardhat) derive their funded dev accounts from
DEV_MNEMONIC = "test test test test test test test test test test test junk"

#: BIP-44 path of the i-th dev account
DEV_PATH = "m/44'/60'/0'/0/{index}"

Account.enable_unaudited_hdwallet_features()


@lru_cache(maxsize=4)
def _seed(mnemonic: str) -> bytes:
    # PBKDF2 with 2048 rounds: derive the seed once, not once per account
    try:
        return seed_from_mnemonic(mnemonic, "")
    except (ValueError, ValidationError) as exc:
        raise ConfigError(f"mnemonic: not a valid BIP-39 phrase ({exc})") from exc


@lru_cache(maxsize=4096)
def dev_account(index: int, mnemonic: str = DEV_MNEMONIC) -> LocalAccount:
    """The ``index``-th account anvil funds at startup (``m/44'/60'/0'/0/index``).

    Examples
    --------
    >>> dev_account(0).address
    '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
    """
    if index < 0:
        raise ValueError(f"index: {index} must be >= 0")
    key = key_from_seed(_seed(mnemonic), DEV_PATH.format(index=index))
    return Account.from_key(key)


def dev_accounts(count: int, mnemonic: str = DEV_MNEMONIC, start: int = 0) -> list[LocalAccount]:
    """Dev accounts ``start .. start+count-1`` (anvil funds the first ``--accounts`` of them)."""
    return [dev_account(i, mnemonic) for i in range(start, start + count)]


def save_keystore(
    account: LocalAccount,
    path: str | Path,
    password: str,
    *,
    overwrite: bool = False,
    iterations: int | None = None,
) -> Path:
    """Encrypt ``account``'s key with ``password`` into a keystore file (mode 0600).

    ``iterations`` is the scrypt cost ``n`` (a power of two; eth-account's default 2**18 takes
    about a second to decrypt). Lower it only for throwaway keys, e.g. in tests.

    Raises
    ------
    KeystoreError
        If ``path`` exists and ``overwrite`` is false, or the password is empty.
    """
    path = Path(path)
    if not password:
        raise KeystoreError("password: an empty password would leave the key unprotected")
    if path.exists() and not overwrite:
        raise KeystoreError(f"{path} already exists; pass overwrite=True or choose another path")
    data = Account.encrypt(account.key, password, iterations=iterations)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh)
    return path


def load_keystore(path: str | Path, password: str) -> LocalAccount:
    """Decrypt the keystore file at ``path``.

    Raises
    ------
    KeystoreNotFound
        If the file does not exist.
    WrongPassword
        If the password does not decrypt the key.
    KeystoreError
        If the file is not a keystore.
    """
    path = Path(path)
    if not path.is_file():
        raise KeystoreNotFound(f"keystore {path} does not exist; create one with save_keystore")
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise KeystoreError(f"{path} is not a JSON keystore file: {exc}") from exc
    if not isinstance(data, dict) or "crypto" not in {k.lower() for k in data}:
        raise KeystoreError(f"{path} is not a keystore file (no 'crypto' section)")
    try:
        key = Account.decrypt(data, password)
    except ValueError as exc:
        if "MAC mismatch" in str(exc):
            raise WrongPassword(f"wrong password for keystore {path}") from exc
        raise KeystoreError(f"cannot decrypt keystore {path}: {exc}") from exc
    return Account.from_key(key)
