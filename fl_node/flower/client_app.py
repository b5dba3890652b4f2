"""The Flower ClientApp run by each silo's SuperNode (Message API).

Each handler decodes the message into a :class:`~fl_node.flower.Request`, calls the plain silo
handler with the silo loaded from the SuperNode's node config, and encodes the
:class:`~fl_node.flower.Reply`. An exception in a handler becomes Flower's error reply, which
the coordinator records as a dropped silo for that phase.

Message types: ``train`` (local training on the silo's ``d`` fraction; with ``mechanism =
"market"`` a market round on the silo's own model, :func:`fl_node.market.handle_market_train`),
``evaluate`` (global model on local data), ``query.identity`` (name, partition, ``s_i``,
address) and ``query.agent`` (forwarded to the silo's agent, e.g. best-response queries).
"""

from __future__ import annotations

from collections.abc import Callable

from flwr.app import Context, Message
from flwr.clientapp import ClientApp

from fl_node.flower._protocol import (
    Reply,
    Request,
    record_dict_to_request,
    reply_to_record_dict,
)
from fl_node.flower._silo import (
    LocalSilo,
    handle_agent,
    handle_evaluate,
    handle_identity,
    handle_train,
    load_silo,
)

__all__ = ["app"]

app = ClientApp()


def _serve(handler: Callable[[LocalSilo, Request], Reply], msg: Message, ctx: Context) -> Message:
    silo = load_silo(dict(ctx.node_config))
    reply = handler(silo, record_dict_to_request(msg.content))
    return Message(reply_to_record_dict(reply), reply_to=msg)


@app.train()
def train(msg: Message, context: Context) -> Message:
    """Train the global model on this silo's assigned data fraction."""
    return _serve(handle_train, msg, context)


@app.evaluate()
def evaluate(msg: Message, context: Context) -> Message:
    """Evaluate the global model on this silo's local data."""
    return _serve(handle_evaluate, msg, context)


@app.query("identity")
def identity(msg: Message, context: Context) -> Message:
    """Report this silo's identity and data size."""
    return _serve(handle_identity, msg, context)


@app.query("agent")
def agent(msg: Message, context: Context) -> Message:
    """Forward the payload to this silo's agent."""
    return _serve(handle_agent, msg, context)
