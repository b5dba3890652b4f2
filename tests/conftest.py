"""Shared fixtures: one real anvil devnet per test session, a deployed FedSettle, funded accounts.

Isolation between tests: most chain tests open their own round on the shared contract (rounds
are independent by construction). Tests that need a pristine chain or move time a lot use the
``chain_snapshot`` fixture (``evm_snapshot`` before, ``evm_revert`` after).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from settlement import (
    AnvilBackend,
    SettlementClient,
    dev_account,
    revert,
    set_balance,
    snapshot,
)

#: how many funded organization accounts the session provides (the n=100 lifecycle test needs 100)
ORG_ACCOUNTS = 128

#: each org account's balance: far above any bond the tests ask for
ORG_BALANCE = 10**24


@pytest.fixture(scope="session")
def anvil() -> Iterator[AnvilBackend]:
    """A session-wide anvil with mainnet's per-transaction gas cap enforced."""
    with AnvilBackend(tx_gas_limit=True) as chain:
        yield chain


@pytest.fixture(scope="session")
def operator() -> LocalAccount:
    """Deployer and operator of the session's FedSettle (anvil dev account 0)."""
    return dev_account(0)


@pytest.fixture(scope="session")
def coordinator() -> LocalAccount:
    """A coordinator key for attested rounds (anvil dev account 1; it never sends transactions)."""
    return dev_account(1)


@pytest.fixture(scope="session")
def client(anvil: AnvilBackend, operator: LocalAccount) -> SettlementClient:
    """The session's FedSettle, deployed once; tests open their own rounds on it."""
    return SettlementClient.deploy(anvil, operator)


@pytest.fixture(scope="session")
def org_accounts(anvil: AnvilBackend) -> list[LocalAccount]:
    """``ORG_ACCOUNTS`` deterministic accounts, each funded with ``ORG_BALANCE`` wei."""
    accounts = [
        Account.from_key(keccak(text=f"fedsettle-test-org-{i}")) for i in range(ORG_ACCOUNTS)
    ]
    w3 = anvil.web3()
    for account in accounts:
        set_balance(w3, account.address, ORG_BALANCE)
    return accounts


@pytest.fixture
def chain_snapshot(anvil: AnvilBackend, client: SettlementClient) -> Iterator[None]:
    """Revert the chain (state and time) to how it was before the test."""
    w3 = anvil.web3()
    snap = snapshot(w3)
    yield
    revert(w3, snap)
    client.nonces.resync()
