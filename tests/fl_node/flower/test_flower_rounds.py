"""The round loop on the in-process transport: real torch training on digits, 3 silos."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from fl_node.aggregation import weighted_average
from fl_node.flower import (
    TRAIN,
    TRAIN_METRIC_KEYS,
    Assignment,
    Delivery,
    InProcessTransport,
    LocalSilo,
    Request,
    RoundRecord,
    TrainConfig,
    run_fl_rounds,
)
from fl_node.flower._rounds import Evaluator
from fl_node.training import contributed_samples

MLP = TrainConfig(model_kind="mlp", epochs=1, lr=0.05)


class RecordingTransport(InProcessTransport):
    """The real in-process transport, keeping every request and delivery for inspection."""

    def __init__(self, silos: Mapping[int, LocalSilo]) -> None:
        super().__init__(silos)
        self.sent: list[tuple[str, dict[int, Request], Delivery]] = []

    def send(
        self,
        message_type: str,
        requests: Mapping[int, Request],
        *,
        timeout: float | None,
        group: str = "",
    ) -> Delivery:
        delivery = super().send(message_type, requests, timeout=timeout, group=group)
        self.sent.append((message_type, dict(requests), delivery))
        return delivery


def test_two_rounds_improve_accuracy_with_uniform_metrics(
    silos: dict[int, LocalSilo],
    initial_parameters: list[NDArray[Any]],
    evaluator: Evaluator,
) -> None:
    plan = {n: (1.0, 0.0, float(len(s.data))) for n, s in silos.items()}
    history = run_fl_rounds(
        InProcessTransport(silos),
        plan,
        2,
        initial_parameters=initial_parameters,
        evaluate_fn=evaluator,
        train_config=MLP,
    )
    initial_accuracy, _ = evaluator(initial_parameters)
    acc = history.accuracy
    assert len(acc) == 2 and acc[0] is not None and acc[1] is not None
    assert initial_accuracy < 0.2  # an untrained 10-class model
    assert acc[1] > acc[0] > initial_accuracy
    assert acc[1] > 0.6
    assert history.dropped == {} and history.completed == [1, 2, 3]
    for record in history.rounds:
        assert record.reporters == [1, 2, 3]
        assert {tuple(m) for m in record.train_metrics.values()} == {TRAIN_METRIC_KEYS}


def test_each_node_gets_its_own_config_and_trains_exactly_its_fraction(
    silos: dict[int, LocalSilo], initial_parameters: list[NDArray[Any]]
) -> None:
    plan: dict[int, Assignment | tuple[float, float, float]] = {
        1: Assignment(0.3, 0.0, 10.0),
        2: Assignment(0.6, 0.0, 20.0),
        3: (1.0, 0.0, 30.0),
    }
    transport = RecordingTransport(silos)
    history = run_fl_rounds(
        transport, plan, 1, initial_parameters=initial_parameters, train_config=MLP
    )
    kind, requests, _ = transport.sent[0]
    assert kind == TRAIN
    assert {n: r.config["d"] for n, r in requests.items()} == {1: 0.3, 2: 0.6, 3: 1.0}
    for n, metrics in history.rounds[0].train_metrics.items():
        s = len(silos[n].data)
        assert metrics["num-examples-total"] == s
        assert metrics["num-examples-used"] == contributed_samples(plan_d(plan[n]), s)


def plan_d(value: Assignment | tuple[float, float, float]) -> float:
    return Assignment.coerce(value).d


def test_aggregation_is_weighted_by_assigned_x_not_by_example_counts(
    silos: dict[int, LocalSilo], initial_parameters: list[NDArray[Any]]
) -> None:
    # x deliberately disagrees with the data sizes: silo 1 dominates with the least data.
    plan = {
        1: Assignment(0.2, 0.0, 70.0),
        2: Assignment(1.0, 0.0, 20.0),
        3: Assignment(1.0, 0.0, 10.0),
    }
    transport = RecordingTransport(silos)
    history = run_fl_rounds(
        transport, plan, 1, initial_parameters=initial_parameters, train_config=MLP
    )
    replies = transport.sent[0][2].replies
    expected = weighted_average([replies[n].arrays for n in (1, 2, 3)], [70.0, 20.0, 10.0])  # type: ignore[misc]
    by_counts = weighted_average(
        [replies[n].arrays for n in (1, 2, 3)],  # type: ignore[misc]
        [replies[n].metrics["num-examples-used"] for n in (1, 2, 3)],
    )
    assert history.rounds[0].weights == pytest.approx({1: 0.7, 2: 0.2, 3: 0.1})
    for got, want in zip(history.parameters, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    assert not all(np.allclose(g, o) for g, o in zip(history.parameters, by_counts, strict=True))


def test_a_node_dropped_mid_session_is_recorded_and_the_rounds_go_on(
    silos: dict[int, LocalSilo],
    initial_parameters: list[NDArray[Any]],
    evaluator: Evaluator,
) -> None:
    transport = InProcessTransport(silos)
    plan = {n: (1.0, 0.0, float(len(s.data))) for n, s in silos.items()}

    def kill_after_first(record: RoundRecord) -> None:
        if record.round == 1:
            transport.drop(2)

    history = run_fl_rounds(
        transport,
        plan,
        3,
        initial_parameters=initial_parameters,
        evaluate_fn=evaluator,
        train_config=MLP,
        round_timeout=30.0,
        on_round_end=kill_after_first,
    )
    first, second, third = history.rounds
    assert first.reporters == [1, 2, 3]
    assert second.asked == [1, 2, 3] and second.reporters == [1, 3]
    assert "unavailable" in second.dropped[2]
    assert third.asked == [1, 3]  # a dropped silo is not asked again
    assert sum(second.weights.values()) == pytest.approx(1.0)
    assert set(second.weights) == {1, 3}
    assert history.completed == [1, 3] and list(history.dropped) == [2]
    assert third.accuracy is not None and first.accuracy is not None
    assert third.accuracy > first.accuracy


def test_a_silo_slower_than_the_deadline_is_dropped_without_blocking_the_round(
    silos: dict[int, LocalSilo], initial_parameters: list[NDArray[Any]]
) -> None:
    transport = InProcessTransport(silos)
    transport.delay(3, 2.0)
    history = run_fl_rounds(
        transport,
        {n: (1.0, 0.0, 1.0) for n in silos},
        1,
        initial_parameters=initial_parameters,
        train_config=MLP,
        round_timeout=0.5,
    )
    record = history.rounds[0]
    assert record.reporters == [1, 2]
    assert "deadline" in record.dropped[3]
    assert history.completed == [1, 2]


def test_sequential_mode_applies_the_same_deadline(
    silos: dict[int, LocalSilo], initial_parameters: list[NDArray[Any]]
) -> None:
    transport = InProcessTransport(silos, parallel=False)
    transport.delay(1, 1.0)
    delivery = transport.send(
        TRAIN,
        {
            n: Request(MLP.message_config(1, Assignment(1.0, 0.0, 1.0)), initial_parameters)
            for n in silos
        },
        timeout=0.5,
    )
    assert set(delivery.failed) == {1, 2, 3}
    assert all("deadline" in why for why in delivery.failed.values())


def test_federated_evaluation_reports_every_reporter(
    silos: dict[int, LocalSilo], initial_parameters: list[NDArray[Any]]
) -> None:
    history = run_fl_rounds(
        InProcessTransport(silos),
        {n: (1.0, 0.0, 1.0) for n in silos},
        1,
        initial_parameters=initial_parameters,
        train_config=MLP,
        federated_evaluation=True,
    )
    fed = history.rounds[0].federated_metrics
    assert sorted(fed) == [1, 2, 3]
    assert all(0.0 <= m["eval-accuracy"] <= 1.0 for m in fed.values())
    assert all(m["num-examples"] == len(silos[n].data) for n, m in fed.items())


@pytest.mark.parametrize(
    ("value", "field"),
    [((0.0, 1.0, 1.0), "d="), ((1.5, 1.0, 1.0), "d="), ((0.5, -1.0, 1.0), "f="),
     ((0.5, 1.0, 0.0), "x=")],
)  # fmt: skip
def test_invalid_assignments_name_the_field(value: tuple[float, float, float], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        Assignment.coerce(value)


def test_run_fl_rounds_rejects_an_empty_plan(
    silos: dict[int, LocalSilo], initial_parameters: list[NDArray[Any]]
) -> None:
    with pytest.raises(ValueError, match="assignments is empty"):
        run_fl_rounds(InProcessTransport(silos), {}, 1, initial_parameters=initial_parameters)


def test_the_contribution_score_sees_the_last_rounds_updates_weights_and_start(
    silos: dict[int, LocalSilo], initial_parameters: list[NDArray[Any]], evaluator: Evaluator
) -> None:
    from fl_node.cogen import leave_one_out
    from fl_node.data import SklearnSource
    from fl_node.models import build_model

    plan = {1: Assignment(1.0, 0.0, 70.0), 2: Assignment(1.0, 0.0, 20.0)}
    transport = RecordingTransport({n: silos[n] for n in plan})
    seen: list[tuple[Any, ...]] = []

    def score(updates: Any, weights: Any, start: Any) -> dict[int, float]:
        seen.append((updates, weights, start))
        return {n: float(n) for n in updates}

    history = run_fl_rounds(
        transport, plan, 2, initial_parameters=initial_parameters, train_config=MLP,
        evaluate_fn=evaluator, contribution_fn=score,
    )  # fmt: skip
    (updates, weights, start), last = seen[0], transport.sent[-1]
    assert len(seen) == 1 and history.contributions == {1: 1.0, 2: 2.0}
    assert weights == {1: 70.0, 2: 20.0}
    for n in plan:  # round 2's replies, trained from round 2's starting model
        for got, want in zip(updates[n], last[2].replies[n].arrays, strict=True):
            np.testing.assert_array_equal(got, want)
    for got, want in zip(start, last[1][1].arrays, strict=True):
        np.testing.assert_array_equal(got, want)
    assert history.to_dict()["leave_one_out"] == {"1": 1.0, "2": 2.0}
    # the coordinator's scorer on these updates: loss(without i) - loss(all)
    split = SklearnSource("digits").split(seed=0)
    loo = leave_one_out(build_model(split.meta, "mlp"), [updates[1], updates[2]], [70.0, 20.0],
                        split.test, start=start)  # fmt: skip
    _, loss_all = evaluator(history.parameters)
    _, loss_without_1 = evaluator(updates[2])
    assert loo[0] == pytest.approx(loss_without_1 - loss_all, rel=1e-5)
