"""The market's import graph as server-rendered SVG, and the API refusing non-market rounds."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient

from settlement import WAD
from settlement.audit import AuditService, create_app
from settlement.audit._graph_svg import graph_edges, market_graph_svg
from settlement.rules import MarketGraph

SVG = "{http://www.w3.org/2000/svg}"


def _edges(svg: str) -> list[tuple[int, int, int]]:
    root = ET.fromstring(svg)
    return [
        (
            int(e.get("data-importer", "")),
            int(e.get("data-exporter", "")),
            int(e.get("data-distance-wad", "")),
        )
        for e in root.iter(f"{SVG}line")
        if e.get("class") == "edge"
    ]


def test_one_line_per_imported_pair_with_offset_reciprocal_edges() -> None:
    d = [[0, WAD // 4, WAD // 2], [WAD // 4, 0, 2 * WAD], [WAD // 2, 2 * WAD, 0]]
    graph = MarketGraph.from_rows([[1, 2], [0], []], d)
    svg = market_graph_svg(graph, ["a<b", "c", "d"], "7-1")
    assert (
        _edges(svg) == graph_edges(graph) == [(0, 1, WAD // 4), (0, 2, WAD // 2), (1, 0, WAD // 4)]
    )
    root = ET.fromstring(svg)
    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "label"]
    index = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "index"]
    assert labels == ["a<b", "c", "d"] and index == ["0", "1", "2"]  # escaped, parses back
    assert root.find(f"{SVG}defs/{SVG}marker").get("id") == "arrow-7-1"
    lines = [e for e in root.iter(f"{SVG}line")]
    # 0 <- 1 and 1 <- 0 are drawn side by side, not on top of each other
    forward, back = lines[0], lines[2]
    assert (forward.get("x1"), forward.get("y1")) != (back.get("x2"), back.get("y2"))
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")  # nothing external
    with pytest.raises(ValueError, match="labels has 2 entries for 3 org slots"):
        market_graph_svg(graph, ["a", "b"], "x")


def test_an_empty_graph_draws_nodes_only() -> None:
    graph = MarketGraph.from_rows([[], []], [[0, 0], [0, 0]])
    svg = market_graph_svg(graph, ["a", "b"], "k")
    assert _edges(svg) == [] and len(list(ET.fromstring(svg).iter(f"{SVG}circle"))) == 2


@pytest.mark.chain
def test_a_round_of_another_mechanism_has_no_graphs(indexed: AuditService) -> None:
    api = TestClient(create_app(indexed))
    reply = api.get("/rounds/1/market-graphs")
    assert reply.status_code == 400
    assert "not the market (3): it has no import graphs" in reply.json()["message"]
    assert api.get("/rounds/999/market-graphs").status_code == 404
