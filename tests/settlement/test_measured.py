"""Unit tests of the measured-score annex encoding (settlement._measured)."""

from __future__ import annotations

import math

import pytest

from settlement import (
    MEASURED_SCALE,
    NOT_MEASURED,
    ConfigError,
    pack_measured,
    pack_report_table,
    unpack_measured,
)


def test_round_trip_in_billionths_with_unmeasured_slots() -> None:
    rows = pack_report_table(3, {0: (1, 0)})
    annex = pack_measured(3, {0: -1.25, 2: 3e-9})
    assert len(annex) == 24
    assert int.from_bytes(annex[8:16], "big", signed=True) == NOT_MEASURED
    assert unpack_measured(3, rows + annex) == [-1.25, None, 3 / MEASURED_SCALE]
    assert unpack_measured(3, rows) is None  # a table without an annex


@pytest.mark.parametrize(
    ("scores", "field"),
    [
        ({3: 0.1}, "slot indices [3]"),
        ({1: math.nan}, "measured[1]"),
        ({0: math.inf}, "measured[0]"),
        ({2: 1e10}, "measured[2]"),
        ({2: -1e10}, "measured[2]"),
    ],
)
def test_bad_scores_name_the_slot(scores: dict[int, float], field: str) -> None:
    with pytest.raises(ConfigError, match=field.replace("[", r"\[").replace("]", r"\]")):
        pack_measured(3, scores)


def test_a_table_of_another_length_is_not_read_as_scores() -> None:
    with pytest.raises(ValueError, match="48 or 72 bytes, not 50"):
        unpack_measured(3, bytes(50))
