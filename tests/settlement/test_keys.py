"""Dev accounts and encrypted keystores."""

from __future__ import annotations

import os
import stat

import pytest

from settlement import (
    DEV_MNEMONIC,
    ConfigError,
    KeystoreError,
    KeystoreNotFound,
    WrongPassword,
    dev_account,
    dev_accounts,
    load_keystore,
    save_keystore,
)

#: scrypt cost for throwaway test keys (the default 2**18 takes about a second per decrypt)
FAST = 2**10


def test_dev_accounts_are_anvils() -> None:
    assert dev_account(0).address == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    assert dev_account(1).address == "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    assert (
        dev_account(0)
        .key.hex()
        .endswith("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
    )
    accounts = dev_accounts(5)
    assert len({a.address for a in accounts}) == 5
    assert [a.address for a in dev_accounts(2, start=3)] == [
        accounts[3].address,
        accounts[4].address,
    ]
    with pytest.raises(ConfigError, match="mnemonic"):
        dev_account(0, DEV_MNEMONIC.replace("junk", "test"))


def test_keystore_round_trip(tmp_path) -> None:
    account = dev_account(3)
    path = save_keystore(account, tmp_path / "keys" / "org3.json", "s3cret", iterations=FAST)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_keystore(path, "s3cret").key == account.key
    with pytest.raises(KeystoreError, match="already exists"):
        save_keystore(account, path, "other", iterations=FAST)
    save_keystore(dev_account(4), path, "other", overwrite=True, iterations=FAST)
    assert load_keystore(path, "other").address == dev_account(4).address


def test_keystore_errors(tmp_path) -> None:
    path = save_keystore(dev_account(2), tmp_path / "k.json", "right", iterations=FAST)
    with pytest.raises(WrongPassword, match="wrong password"):
        load_keystore(path, "wrong")
    with pytest.raises(KeystoreNotFound, match="does not exist"):
        load_keystore(tmp_path / "missing.json", "x")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(KeystoreError, match="not a JSON keystore"):
        load_keystore(bad, "x")
    bad.write_text('{"address": "00"}')
    with pytest.raises(KeystoreError, match="no 'crypto'"):
        load_keystore(bad, "x")
    with pytest.raises(KeystoreError, match="empty password"):
        save_keystore(dev_account(2), tmp_path / "e.json", "")
