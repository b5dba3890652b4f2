"""Server-rendered SVG of a market round's import graphs (mechanism 3), one per FL round.

The dashboard inserts the SVG inline (no external script, font or stylesheet: it works offline).
Org slots sit on a circle in slot order (slot index inside, label outside); every imported pair is one ``<line class="edge">``
from the exporter to the importer (the direction the model travels; money travels back) with
``data-importer``, ``data-exporter`` and ``data-distance-wad`` attributes and a ``<title>``
tooltip. Two orgs that import from each other get two parallel, slightly offset lines.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from settlement._fixedpoint import WAD
from settlement.rules import MarketGraph

__all__ = ["graph_edges", "market_graph_svg"]

SIZE = 320
RADIUS = 105
NODE_R = 15
#: perpendicular offset of an edge, so that i -> j and j -> i do not overlap
OFFSET = 3.5


def graph_edges(graph: MarketGraph) -> list[tuple[int, int, int]]:
    """Every imported pair of one graph as (importer, exporter, distance in WAD), row order."""
    out = []
    for i in range(len(graph.row_start) - 1):
        for k in range(graph.row_start[i], graph.row_start[i + 1]):
            out.append((i, graph.exporters[k], graph.dist_wad[k]))
    return out


def _position(i: int, n: int, radius: float = RADIUS) -> tuple[float, float]:
    angle = -math.pi / 2 + 2 * math.pi * i / max(n, 1)
    return SIZE / 2 + radius * math.cos(angle), SIZE / 2 + radius * math.sin(angle)


def _edge(
    importer: int, exporter: int, dist_wad: int, n: int, labels: Sequence[str], arrow: str
) -> str:
    (x0, y0), (x1, y1) = _position(exporter, n), _position(importer, n)
    length = math.hypot(x1 - x0, y1 - y0) or 1.0
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    ox, oy = -uy * OFFSET, ux * OFFSET
    ax, ay = x0 + ux * NODE_R + ox, y0 + uy * NODE_R + oy
    bx, by = x1 - ux * (NODE_R + 2) + ox, y1 - uy * (NODE_R + 2) + oy
    d = dist_wad / WAD
    title = f"{labels[importer]} imports {labels[exporter]}'s model (distance {d:.4f})"
    return (
        f'<line class="edge" data-importer="{importer}" data-exporter="{exporter}" '
        f'data-distance-wad="{dist_wad}" x1="{ax:.1f}" y1="{ay:.1f}" x2="{bx:.1f}" '
        f'y2="{by:.1f}" stroke="#2f5fb3" stroke-width="1.6" marker-end="url(#{arrow})">'
        f"<title>{escape(title)}</title></line>"
    )


def market_graph_svg(graph: MarketGraph, labels: Sequence[str], key: str) -> str:
    """One FL round's import graph as a standalone ``<svg>`` element.

    Parameters
    ----------
    graph
        The round's graph as the contract holds it (:class:`settlement.rules.MarketGraph`).
    labels
        One display label per org slot (escaped here).
    key
        Unique on the page (the arrow marker's id is derived from it).
    """
    n = len(graph.row_start) - 1
    if len(labels) != n:
        raise ValueError(f"labels has {len(labels)} entries for {n} org slots")
    arrow = f"arrow-{escape(key)}"
    edges = [_edge(i, j, d, n, labels, arrow) for i, j, d in graph_edges(graph)]
    nodes = []
    for i, label in enumerate(labels):
        x, y = _position(i, n)
        lx, ly = _position(i, n, RADIUS + NODE_R + 14)
        nodes.append(
            f'<g class="node" data-index="{i}"><circle cx="{x:.1f}" cy="{y:.1f}" r="{NODE_R}" '
            f'fill="#e8eef9" stroke="#2f5fb3"/><text class="index" x="{x:.1f}" y="{y + 4:.1f}" '
            f'text-anchor="middle" font-size="10">{i}</text><text class="label" x="{lx:.1f}" '
            f'y="{ly + 4:.1f}" text-anchor="middle" font-size="10">{escape(label)}</text></g>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="market-graph" width="{SIZE}" '
        f'height="{SIZE}" viewBox="0 0 {SIZE} {SIZE}" role="img" '
        f'aria-label="import graph: {len(edges)} imports">'
        f'<defs><marker id="{arrow}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        f'fill="#2f5fb3"/></marker></defs>{"".join(edges)}{"".join(nodes)}</svg>'
    )
