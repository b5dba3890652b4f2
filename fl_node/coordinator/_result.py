"""The result document of a round: per-silo strategy and on-chain record, totals, training."""

from __future__ import annotations

from typing import Any

from fl_node.coordinator._config import ConsortiumConfig
from fl_node.coordinator._training import TrainingOutcome
from fl_node.mechanisms import Mechanism

__all__ = ["round_result"]


def round_result(
    client: Any,
    config: ConsortiumConfig,
    mechanism: Mechanism[Any],
    rid: int,
    status: str,
    strategies: dict[str, Any],
    phase_doc: dict[str, Any] | None,
    training: TrainingOutcome | None,
) -> dict[str, Any]:
    """Read round ``rid``'s on-chain records and combine them with the off-chain stages.

    ``payout_due_wei`` is what each joined silo withdraws: its deposit + R_i once settled; the
    strategy columns of a silo's row are the mechanism's (:meth:`Mechanism.strategy_fields`);
    ``leave_one_out`` (cogen) is its update's leave-one-out score on the held-out test split,
    in test-loss units (:func:`fl_node.cogen.leave_one_out`); ``leave_one_out_onchain`` is the
    same score as the coordinator's table stored it (1e-9 units, :mod:`settlement._measured`;
    attested, never paid on), None for a slot the table measured nothing for.
    """
    state = client.round_state(rid)
    profiles = client.profiles(rid)
    measured = client.measured_scores(rid) if mechanism.name == "cogen" else None
    silos = []
    for silo in config.silos:
        prof = profiles[silo.index]
        silos.append(
            {
                "name": silo.name,
                "index": silo.index,
                "address": prof.account,
                "joined": prof.joined,
                "reported": prof.reported,
                **mechanism.strategy_fields(strategies.get(silo.name)),
                "x_onchain": prof.x,
                "f_onchain": prof.f,
                "bond_wei": int(prof.bond),
                "deposit_wei": int(prof.deposited),
                "R_wei": int(prof.payoff),
                "payout_due_wei": int(prof.deposited) + int(prof.payoff) if prof.joined else 0,
            }
        )
        if training is not None and training.leave_one_out:
            # the measured marginal contribution of its last-round update
            silos[-1]["leave_one_out"] = training.leave_one_out.get(silo.name)
        if measured is not None:
            silos[-1]["leave_one_out_onchain"] = measured[silo.index]
    return {
        "status": status,
        "round_id": rid,
        "phase": state.phase.name,
        "contract": client.address,
        "chain_id": client.chain_id,
        "rpc_url": config.rpc_url,
        "runtime": config.mode,
        "mechanism": mechanism.name,
        "attested": config.attest,
        "silos": silos,
        "sum_R_wei": sum(s["R_wei"] for s in silos),
        "total_deposits_wei": int(state.total_deposits),
        "payoff_digest": "0x" + bytes(state.payoff_digest).hex(),
        "accuracy": [] if training is None else training.accuracy,
        "loss": [] if training is None else training.loss,
        "training": None if training is None else training.to_dict(),
        "strategy_phase": phase_doc,
    }
