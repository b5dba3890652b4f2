"""Fixtures of the contract tests: a ``Rounds`` driver bound to the session's contract."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from fedsettle_helpers import Rounds

from settlement import SettlementClient


@pytest.fixture(scope="session")
def rounds(client: SettlementClient, org_accounts: list[LocalAccount], operator: Any) -> Rounds:
    """Opens and drives rounds on the session's FedSettle."""
    return Rounds(client, org_accounts, operator)
