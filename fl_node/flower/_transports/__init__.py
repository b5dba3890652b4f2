"""Transports between the coordinator's round loop and the silos."""

from fl_node.flower._transports.base import Delivery, Transport
from fl_node.flower._transports.grid import GridTransport, NodesNotConnectedError
from fl_node.flower._transports.inprocess import InProcessTransport

__all__ = ["Delivery", "GridTransport", "InProcessTransport", "NodesNotConnectedError", "Transport"]
