"""In-process silos: the :class:`~fl_node.coordinator.SiloLink` of the embedded runtime.

An :class:`InProcessSilo` plays the part a node daemon plays in the distributed runtime, in the
coordinator's process: it checks the round against the terms it accepted (``expected``) and
deposits its bond when the round opens, answers the strategy phase with its own agent (built by
the round's mechanism from its private parameters and the pushed terms), checks its assignment
against its own last answer (and self-reports it in rounds without a coordinator; otherwise the
coordinator submits the table), and withdraws once the round settled (or was abandoned: its
deposit back). Every chain write goes through :mod:`fl_node.chain_steps`.
"""

from __future__ import annotations

from typing import Any

from eth_account.signers.local import LocalAccount

from fl_node.chain_steps import join, report, withdraw
from fl_node.coordinator._agents import AgentRejected
from fl_node.mechanisms import Mechanism
from settlement import AcceptedTerms

__all__ = ["InProcessSilo"]

#: relative tolerance of the assignment check (as the daemon's agent applies it)
_RTOL = 1e-5


class InProcessSilo:
    """One silo in the coordinator's process.

    Parameters
    ----------
    name : str
        The silo's registered name.
    index : int
        Its slot in the round.
    account : LocalAccount
        Its chain key (deposits, reports and withdraws with it).
    private : object
        Its private parameters, in the form the mechanism's agent takes.
    mechanism : Mechanism
    expected : AcceptedTerms, optional
        The terms this silo accepted: every on-chain parameter is compared with them before it
        deposits.
    max_lock : int, optional
        Longest lock of its deposit it accepts, seconds.
    """

    def __init__(
        self,
        name: str,
        index: int,
        account: LocalAccount,
        private: Any,
        mechanism: Mechanism[Any],
        *,
        expected: AcceptedTerms | None = None,
        max_lock: int | None = None,
    ) -> None:
        self._name = name
        self.expected = expected
        self.max_lock = max_lock
        self.index = index
        self.account = account
        self.private = private
        self.mechanism = mechanism
        #: receipts of this silo's transactions (join, report, withdraw), in order
        self.receipts: list[Any] = []
        #: what it withdrew once the round closed (wei)
        self.payout_wei: int | None = None
        self._client: Any = None
        self._round: int | None = None
        self._agent: Any = None
        self._last: Any = None

    @property
    def name(self) -> str:
        return self._name

    def _keep(self, receipt: Any) -> None:
        if receipt is not None:
            self.receipts.append(receipt)

    def _check_round(self, round_id: Any) -> None:
        if round_id != self._round:
            raise AgentRejected(409, f"round {round_id}: this silo holds no slot in it")

    def round_opened(self, client: Any, round_id: int) -> None:
        self._client = client
        self._round = round_id
        self._agent = self._last = None
        self._keep(
            join(
                client,
                round_id,
                self.index,
                self.account,
                expected=self.expected,
                max_lock=self.max_lock,
            )
        )

    def push_terms(self, document: dict[str, Any]) -> dict[str, Any]:
        self._check_round(document.get("round_id"))
        if self.name not in document.get("active", [self.name]):
            raise AgentRejected(409, f"round {self._round}: this silo is not in active")
        self._agent = self.mechanism.silo_agent(self.private, document)
        return {"accepted": True, "name": self.name, "index": self.index}

    def best_response(self, round_id: int, others_total: float) -> Any:
        self._check_round(round_id)
        if self._agent is None:
            raise AgentRejected(409, f"round {round_id}: no terms yet")
        self._last = self._agent.respond(others_total)
        return self._last

    def send_assignment(self, document: dict[str, Any]) -> dict[str, Any]:
        self._check_round(document.get("round_id"))
        if self._last is None:
            raise AgentRejected(409, f"round {self._round}: this silo gave no best response")
        for key, mine in self.mechanism.assignment_fields(self._last).items():
            value = float(document[key])
            if abs(value - mine) > _RTOL * max(1.0, abs(value), abs(mine)):
                raise AgentRejected(
                    409, f"assigned {key}={value!r} differs from this silo's own answer {mine!r}"
                )
        x, f = int(document["x_onchain"]), int(document["f_onchain"])
        assert self._round is not None
        if not self._client.round_config(self._round).attested:  # else the coordinator's table
            self._keep(report(self._client, self._round, self.index, self.account, x, f))
        return {"accepted": True, "x": x, "f": f}

    def round_closed(self, client: Any, round_id: int) -> None:
        # withdraw is a no-op for a silo that never joined (or already withdrew)
        receipt, amount = withdraw(client, round_id, self.index, self.account)
        self._keep(receipt)
        self.payout_wei = int(amount)
