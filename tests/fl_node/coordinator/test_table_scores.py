"""The coordinator's measured scores for a cogen table: a score the table cannot carry is left
"not measured" and never blocks the table (unit test of ``table_scores``)."""

from __future__ import annotations

import math

from fl_node.coordinator._config import SiloEntry
from fl_node.coordinator._round import table_scores
from settlement import pack_measured, unpack_measured


def _silo(index: int) -> SiloEntry:
    return SiloEntry(index, f"silo-{index}", "0x" + "00" * 20, 100.0, 1.0, 1.0, "", index)


def test_unencodable_scores_are_dropped_and_the_rest_encode() -> None:
    silos = [_silo(i) for i in range(5)]
    loo = {"silo-0": 0.02, "silo-1": math.nan, "silo-2": -math.inf, "silo-3": 1e10}
    scores, dropped = table_scores(silos, loo)  # silo-4 did not train: absent
    assert scores == {0: 0.02}
    assert dropped == {"silo-1": "nan", "silo-2": "-inf", "silo-3": "10000000000.0"}
    # what is kept always encodes (the table transaction cannot fail on it)
    assert unpack_measured(5, bytes(16 * 5) + pack_measured(5, scores)) == [
        0.02, None, None, None, None,
    ]  # fmt: skip
