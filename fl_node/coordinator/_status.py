"""``fedsettle coordinator status``: the coordinator's round as its state dir and the chain see it.

Read-only (it takes no lock, so it works while ``coordinator run`` runs): the contract and round
from ``<state_dir>/coordinator.json``, the last action of ``actions.jsonl``, and from the chain
the round's phase, every slot's deposit / report / payoff and the deadlines relative to the
latest block's time.
"""

from __future__ import annotations

import json
from typing import Any

from fl_node.coordinator._config import ConsortiumConfig

__all__ = ["round_status", "status_lines"]


def _last_action(path: Any) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    lines = path.read_text(encoding="utf-8").splitlines()
    for line in reversed(lines):
        try:
            return dict(json.loads(line))
        except ValueError:
            continue
    return None


def round_status(config: ConsortiumConfig) -> dict[str, Any]:
    """The status document (see the module docstring).

    Raises
    ------
    settlement.ChainUnavailable
        If ``[chain].rpc_url`` does not answer.
    """
    from settlement import RpcBackend, SettlementClient

    state_file = config.state_dir / "coordinator.json"
    saved = json.loads(state_file.read_text(encoding="utf-8")) if state_file.is_file() else {}
    status: dict[str, Any] = {
        "state_dir": str(config.state_dir),
        "contract": saved.get("contract") or config.contract,
        "round_id": saved.get("round_id"),
        "last_action": _last_action(config.state_dir / "actions.jsonl"),
        "phase": None,
    }
    if status["contract"] is None:
        status["phase"] = "NOT DEPLOYED"
        return status
    # a one-shot command: wait briefly for a chain that blinks, not as long as a round does
    backend = RpcBackend(config.rpc_url, timeout=config.rpc_timeout_s, retry_s=2.0)
    if not backend.web3().eth.get_code(status["contract"]):
        status["phase"] = "NO CONTRACT CODE (another chain?)"
        return status
    rid = status["round_id"]
    if not rid:
        status["phase"] = "NO ROUND OPEN"
        return status
    client = SettlementClient.at(backend, status["contract"])
    cfg = client.round_config(rid)
    now = client.chain_time()
    names = {s.account.lower(): s.name for s in config.silos}
    status.update(
        phase=client.phase_of(rid).name,
        chain_time=now,
        deadlines={
            "deposit": cfg.deposit_deadline - now,
            "report": cfg.report_deadline - now,
        },
        silos=[
            {
                "index": i,
                "name": names.get(str(p.account).lower(), str(p.account)),
                "bond_wei": int(p.bond),
                "joined": p.joined,
                "deposited_wei": int(p.deposited),
                "reported": p.reported,
                "payoff_wei": int(p.payoff),
                "withdrawn": p.withdrawn,
            }
            for i, p in enumerate(client.profiles(rid))
        ],
    )
    return status


def _seconds(delta: int) -> str:
    if delta <= 0:
        return f"passed {-delta} s ago"
    return f"in {delta} s"


def status_lines(status: dict[str, Any]) -> list[str]:
    """The status document as human-readable lines."""
    lines = [
        f"contract  {status['contract'] or '-'}",
        f"round     {status['round_id'] or '-'}",
        f"phase     {status['phase']}",
    ]
    if "deadlines" in status:
        lines += [f"{k:9} deadline {_seconds(v)}" for k, v in status["deadlines"].items()]
        joined = sum(1 for s in status["silos"] if s["joined"])
        lines.append(f"deposits  {joined} of {len(status['silos'])} silos joined")
        lines.append(
            f"{'slot':>4} {'silo':12} {'joined':>6} {'reported':>8} {'payoff_wei':>22} paid"
        )
        for s in status["silos"]:
            lines.append(
                f"{s['index']:>4} {s['name']:12} {'yes' if s['joined'] else 'no':>6} "
                f"{'yes' if s['reported'] else 'no':>8} {s['payoff_wei']:>22} "
                f"{'yes' if s['withdrawn'] else 'no'}"
            )
    last = status.get("last_action")
    if last:
        lines.append(f"last      {last.get('event')} ({last.get('step', '')})".rstrip(" ()"))
    return lines
