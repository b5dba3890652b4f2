"""The auditor dashboard in headless Chromium against a live service on loopback.

Real rounds are played on anvil (settled, abandoned, one still in its Deposit phase), indexed,
and served by uvicorn; Chromium (Debian's ``chromium`` package, driven over the Chrome DevTools
protocol) loads the dashboard. The tests check that the pages load, that the numbers shown equal
the contract's own records, that unsettled payouts show as pending and unrun checks as not checked
(never a green banner), and that the pages log no console error. Set
``FEDSETTLE_SCREENSHOT_DIR`` to keep the screenshots.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from eth_account import Account
from eth_utils import keccak
from web3 import HTTPProvider, Web3
from websockets.sync.client import ClientConnection, connect

from fl_node import chain_steps as steps
from settlement import (
    MECHANISM_COGEN,
    AnvilBackend,
    OrgSpec,
    SettlementClient,
    TokenClient,
    dev_account,
    set_balance,
    to_address,
    warp_to,
)
from settlement.audit import AuditService, ChainReader, create_app, deployment_info

pytestmark = pytest.mark.chain

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--remote-debugging-port=0",
    "--window-size=1400,1500",
)


def _chromium() -> str:
    found = os.environ.get("FEDSETTLE_CHROMIUM") or shutil.which("chromium")
    found = found or shutil.which("chromium-browser")
    if not found:
        raise RuntimeError(
            "chromium not found: `apt-get install -y chromium` (Debian) or set FEDSETTLE_CHROMIUM"
        )
    return found


# ---------------------------------------------------------------------- a real chain history
@dataclass
class Played:
    client: SettlementClient
    settled: int
    abandoned: int
    depositing: int
    labels: dict[str, str]
    token_round: int = 0
    token: str = ""
    cogen: int = 0
    service: AuditService | None = None
    db: Path | None = None


#: the measured scores of the cogen round's table (slot 2 not measured)
MEASURED = {0: 0.0421, 1: -0.0037}


def _play(chain: AnvilBackend) -> Played:
    w3 = chain.web3()
    client = SettlementClient.deploy(chain, dev_account(0))
    orgs = [Account.from_key(keccak(text=f"fedsettle-e2e-org-{i}")) for i in range(5)]
    for a in orgs:
        set_balance(w3, a.address, 10**24)
    rho = [
        [0, 0.3, 0.2, 0.1, 0.4],
        [0.3, 0, 0.5, 0.2, 0.1],
        [0.2, 0.5, 0, 0.4, 0.3],
        [0.1, 0.2, 0.4, 0, 0.2],
        [0.4, 0.1, 0.3, 0.2, 0],
    ]
    cfg = client.round_config_from_reals(gamma=2 * 10**13, lambda_=0.75, d_min=0.2)
    specs = [OrgSpec(to_address(a.address), 100 + 25 * i, 4 + i) for i, a in enumerate(orgs)]
    settled = client.round_open(cfg, specs, rho).round_id
    for i in range(4):  # slot 4 never joins
        steps.join(client, settled, i, orgs[i])
    warp_to(w3, cfg.deposit_deadline + 1)
    for i, (x, f) in enumerate([(30, 2), (120, 5), (80, 1)]):  # slot 3 stays silent
        steps.report(client, settled, i, orgs[i], x, f)
    warp_to(w3, cfg.report_deadline + 1)
    steps.settle(client, settled, chunk=2)
    steps.withdraw(client, settled, 1, orgs[1])
    cfg2 = client.round_config_from_reals(gamma=10**12, lambda_=0.5, d_min=0.1)
    abandoned = client.round_open(cfg2, specs[:2], [[0, 0.5], [0.5, 0]]).round_id
    steps.join(client, abandoned, 0, orgs[0])
    client.round_abandon(abandoned)
    # settled in a 6-decimal stablecoin by two of the same accounts
    usd = TokenClient.deploy(chain, dev_account(0))
    for a in orgs[:2]:
        usd.mint(dev_account(0), a.address, 10**12)
    cfg3 = client.round_config_from_reals(gamma=10**7, lambda_=0.5, d_min=0.1, token=usd.address)
    token_round = client.round_open(cfg3, specs[:2], [[0, 0.5], [0.5, 0]]).round_id
    for i in range(2):
        steps.join(client, token_round, i, orgs[i])
    warp_to(w3, cfg3.deposit_deadline + 1)
    for i, (x, f) in enumerate([(40, 3), (110, 5)]):
        steps.report(client, token_round, i, orgs[i], x, f)
    warp_to(w3, cfg3.report_deadline + 1)
    steps.settle(client, token_round)
    # cogen with a coordinator whose table carries measured (leave-one-out) scores
    coordinator = dev_account(3)
    cfg5 = client.round_config_from_reals(
        gamma=10**13, lambda_=1, d_min=0, mechanism_id=MECHANISM_COGEN,
        coordinator=coordinator.address,
    )  # fmt: skip
    bases = [OrgSpec(to_address(a.address), 200, 0, 100 * (i + 1)) for i, a in enumerate(orgs[:3])]
    cogen = client.round_open(cfg5, bases, [[0, 0.2, 0.1], [0.2, 0, 0.3], [0.1, 0.3, 0]]).round_id
    for i in range(3):
        steps.join(client, cogen, i, orgs[i])
    steps.submit_table(client, cogen, {0: (150, 0), 1: (20, 0)}, coordinator, measured=MEASURED)
    steps.settle(client, cogen)
    cfg4 = client.round_config_from_reals(gamma=10**12, lambda_=0.5, d_min=0.1)
    # still open for deposits: one of two slots joined
    depositing = client.round_open(cfg4, specs[:2], [[0, 0.5], [0.5, 0]]).round_id
    steps.join(client, depositing, 1, orgs[1])
    labels = {a.address: f"Hospital {'ABCDE'[i]}" for i, a in enumerate(orgs)}
    return Played(
        client=client,
        settled=settled,
        abandoned=abandoned,
        depositing=depositing,
        labels=labels,
        token_round=token_round,
        token=str(usd.address),
        cogen=cogen,
    )


# ---------------------------------------------------------------------- live service
@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Played]]:
    """``(base_url, played)``: uvicorn serving the audit app of a played chain on loopback."""
    with AnvilBackend() as chain:
        played = _play(chain)
        service = AuditService(
            tmp_path_factory.mktemp("dash") / "index.sqlite",
            w3=chain.web3(),
            contract=played.client.address,
            labels=played.labels,
        )
        service.sync()
        played.db = service.db_path
        played.service = service
        server = uvicorn.Server(
            uvicorn.Config(create_app(service), log_level="warning", lifespan="off", ws="none")
        )
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        try:
            yield f"http://127.0.0.1:{port}", played
        finally:
            server.should_exit = True
            thread.join(timeout=20)
            sock.close()
            service.close()


# ---------------------------------------------------------------------- a minimal CDP client
class Browser:
    """Headless Chromium with one page, driven over the DevTools protocol."""

    def __init__(self, profile: Path):
        profile.mkdir(parents=True, exist_ok=True)
        self.log = (profile / "chromium.log").open("wb")
        self.proc = subprocess.Popen(
            [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.is_file() and len(port_file.read_text().split()) >= 2):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"chromium did not start; see {self.log.name}")
            time.sleep(0.05)
        port, path = port_file.read_text().split()[:2]
        self._stack = ExitStack()
        self.ws: ClientConnection = self._stack.enter_context(
            connect(f"ws://127.0.0.1:{port}{path}", max_size=None, open_timeout=20)
        )
        self._ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable", session=True)

    def call(
        self, method: str, params: dict[str, Any] | None = None, *, session: bool = False
    ) -> Any:
        msg_id = next(self._ids)
        msg: dict[str, Any] = {"id": msg_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = self.session
        self.ws.send(json.dumps(msg))
        while True:
            reply = json.loads(self.ws.recv(timeout=30))
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def evaluate(self, expression: str) -> Any:
        result = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            session=True,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 20) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {expression}")
            time.sleep(0.1)

    def open(self, url: str) -> None:
        self.evaluate("document.body && delete document.body.dataset.loaded")
        self.call("Page.navigate", {"url": url}, session=True)
        self.wait_for("document.body && document.body.dataset.loaded")

    def console_errors(self) -> list[str]:
        errors = []
        for e in self.events:
            p = e.get("params", {})
            if e["method"] == "Runtime.exceptionThrown":
                errors.append(json.dumps(p.get("exceptionDetails", {}))[:500])
            elif e["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                errors.append(json.dumps(p.get("args", []))[:500])
            elif e["method"] == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                errors.append(f"{p['entry'].get('text')} {p['entry'].get('url', '')}")
        return errors

    def screenshot(self, path: Path) -> bytes:
        data = base64.b64decode(
            self.call("Page.captureScreenshot", {"format": "png"}, session=True)["data"]
        )
        path.write_bytes(data)
        return data

    def close(self) -> None:
        stack = getattr(self, "_stack", None)
        if stack is not None:
            stack.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    b = Browser(tmp_path / "profile")
    try:
        yield b
    finally:
        b.close()


def _keep(shot: Path) -> None:
    keep = os.environ.get("FEDSETTLE_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / shot.name)


# ---------------------------------------------------------------------- the tests
#: each payoff-table row as {field: exact wei (amount cells) or text}
ROW_CELLS = """JSON.stringify([...document.querySelectorAll('#payoff-table tbody tr')].map(tr =>
  Object.fromEntries([...tr.querySelectorAll('[data-field]')].map(td =>
    [td.dataset.field, td.dataset.wei ?? td.textContent]))))"""
BANNER = "document.getElementById('verify-banner')"


def test_round_page_shows_the_contract_numbers(
    live: tuple[str, Played], browser: Browser, tmp_path: Path
) -> None:
    base, played = live
    rid = played.settled
    browser.open(f"{base}/#/rounds/{rid}")
    assert browser.evaluate("document.body.dataset.loaded") == "true"
    assert browser.evaluate("document.title") == f"Round {rid} · fedsettle auditor"
    rows = json.loads(browser.evaluate(ROW_CELLS))
    assert len(rows) == 5
    for i, row in enumerate(rows):
        p = played.client.profile_record(rid, i)
        assert int(row["payoff_wei"]) == p.payoff
        assert int(row["payoff_expected_wei"]) == p.payoff
        assert int(row["deposited_wei"]) == p.deposited
        assert int(row["bond_wei"]) == p.bond
        assert row["payoff_ok"] == "✓"
        assert row["account"] == played.labels[p.account]  # org labels, not bare addresses
    # amounts in ETH, the exact wei on hover
    cell = "document.querySelector('#payoff-table [data-field=deposited_wei]')"
    deposit = played.client.profile_record(rid, 0).deposited
    assert browser.evaluate(f"{cell}.title") == f"{deposit} wei"
    whole, frac = divmod(deposit, 10**18)
    assert browser.evaluate(f"{cell}.textContent") == f"{whole}.{frac:018d}"[: len(str(whole)) + 7]
    assert [r["status"] for r in rows] == [
        "withdrawable",
        "withdrawn",
        "withdrawable",
        "withdrawable",
        "not_joined",
    ]
    assert sum(int(r["payoff_wei"]) for r in rows) == 0
    assert browser.evaluate(f"{BANNER}.dataset.status") == "verified"
    assert browser.evaluate(f"{BANNER}.classList.contains('ok')") is True
    assert "budget balance 0 wei" in browser.evaluate(f"{BANNER}.textContent")
    state = played.client.round_state(rid)
    digest = "0x" + state.payoff_digest.hex()
    assert browser.evaluate("document.getElementById('payoff-digest').textContent") == digest
    params = "0x" + state.params_digest.hex()
    assert browser.evaluate("document.getElementById('params-digest').textContent") == params
    # the mechanism's parameters in its own terms, and the asset
    assert browser.evaluate("document.querySelector('[data-param=lambda]').textContent") == "0.75"
    assert browser.evaluate("document.querySelector('[data-param=d_min]').textContent") == "0.2"
    assert browser.evaluate("document.getElementById('round-token').textContent") == "ETH"
    # one point per depositor (the silent one hollow: settled at its minimum), two bars
    # (deposit, payout) per depositor
    assert browser.evaluate("document.querySelectorAll('#plot-redistribution circle').length") == 4
    silent = "#plot-redistribution circle[data-silent=true]"
    assert browser.evaluate(f"document.querySelectorAll('{silent}').length") == 1
    assert "org 3 (silent" in browser.evaluate(f"document.querySelector('{silent}').textContent")
    assert browser.evaluate("document.querySelectorAll('#plot-payouts rect').length") == 8
    shot = browser.screenshot(tmp_path / "dashboard-round.png")
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 20_000
    _keep(tmp_path / "dashboard-round.png")
    assert browser.console_errors() == []


def test_a_cogen_round_shows_the_measured_scores_its_table_carries(
    live: tuple[str, Played], browser: Browser
) -> None:
    base, played = live
    browser.open(f"{base}/#/rounds/{played.cogen}")
    assert browser.evaluate("document.body.dataset.loaded") == "true"
    rows = json.loads(browser.evaluate(ROW_CELLS))
    assert [r["measured_score"] for r in rows] == ["0.0421", "-0.0037", "–"]
    assert browser.evaluate(f"{BANNER}.dataset.status") == "verified"
    assert browser.console_errors() == []
    # a round without measured scores has no such column
    browser.open(f"{base}/#/rounds/{played.settled}")
    assert browser.evaluate("document.body.dataset.loaded") == "true"
    assert all("measured_score" not in r for r in json.loads(browser.evaluate(ROW_CELLS)))


def test_a_token_round_shows_amounts_in_the_token_units(
    live: tuple[str, Played], browser: Browser
) -> None:
    """tUSD has 6 decimals: amounts are shown in tUSD (base units on hover), never as ETH."""
    base, played = live
    rid = played.token_round
    browser.open(f"{base}/#/rounds/{rid}")
    assert browser.evaluate("document.body.dataset.loaded") == "true"
    assert browser.evaluate("document.getElementById('round-token').textContent").startswith(
        f"tUSD {played.token} (6 decimals"
    )
    rows = json.loads(browser.evaluate(ROW_CELLS))
    assert sum(int(r["payoff_wei"]) for r in rows) == 0
    cell = "document.querySelector('#payoff-table [data-field=deposited_wei]')"
    deposit = played.client.profile_record(rid, 0).deposited
    assert browser.evaluate(f"{cell}.title") == f"{deposit} base units"
    whole, frac = divmod(deposit, 10**6)
    assert browser.evaluate(f"{cell}.textContent") == f"{whole}.{frac:06d}"
    headers = browser.evaluate("document.querySelector('#payoff-table thead').textContent")
    assert "deposit (tUSD)" in headers and "ETH" not in headers
    assert browser.evaluate(f"{BANNER}.dataset.status") == "verified"
    assert "budget balance 0 tUSD base units" in browser.evaluate(f"{BANNER}.textContent")
    # the org page of an account with both assets links its token history
    org = played.client.profile_record(rid, 0).account
    browser.open(f"{base}/#/orgs/{org}")
    assert "ETH" in browser.evaluate("document.getElementById('org-totals').textContent")
    assert played.token in browser.evaluate("document.getElementById('org-assets').textContent")
    browser.open(f"{base}/#/orgs/{org}/{played.token}")
    assert "tUSD" in browser.evaluate("document.getElementById('org-totals').textContent")
    assert browser.evaluate("document.querySelectorAll('#org-table tbody tr').length") == 1
    assert browser.console_errors() == []


def test_rounds_list_loads_and_verifies(
    live: tuple[str, Played], browser: Browser, tmp_path: Path
) -> None:
    base, played = live
    browser.open(f"{base}/")
    rows = browser.evaluate("document.querySelectorAll('#rounds-table tbody tr').length")
    assert rows == played.client.round_count() == 5
    phases = browser.evaluate(
        "[...document.querySelectorAll('#rounds-table [data-field=phase]')].map(e => e.textContent)"
    )
    assert phases == ["Settled", "Abandoned", "Settled", "Settled", "Deposit"]
    deposits = browser.evaluate(
        "[...document.querySelectorAll('#rounds-table [data-field=total_deposits_wei]')]"
        ".map(e => e.dataset.wei)"
    )
    rounds = (played.settled, played.abandoned, played.token_round, played.cogen, played.depositing)
    assert [int(d) for d in deposits] == [
        played.client.round_state(r).total_deposits for r in rounds
    ]
    # verification badges fill in asynchronously; the round in its Deposit phase is not verified
    badges = (
        "[...document.querySelectorAll('#rounds-table [data-field=verify]')]"
        ".map(e => e.textContent).join('|')"
    )
    browser.wait_for(f"{badges} === 'verified|verified|verified|verified|not verified'")
    browser.wait_for("document.getElementById('status').textContent.includes('indexed block')")
    shot = tmp_path / "dashboard-rounds.png"
    browser.screenshot(shot)
    _keep(shot)
    browser.open(f"{base}/#/balances")
    # one row per account and asset: 4 accounts in ETH, 2 of them also in the token
    assert browser.evaluate("document.querySelectorAll('#balances-table tbody tr').length") == 6
    assets = "[...document.querySelectorAll('#balances-table [data-field=asset]')].map(e => e.textContent)"
    assert sorted(browser.evaluate(assets)) == ["ETH"] * 4 + ["tUSD"] * 2
    assert browser.evaluate("document.getElementById('solvency').dataset.status") == "passed"
    token_check = f"document.getElementById('solvency-{played.token}').dataset.status"
    assert browser.evaluate(token_check) == "passed"
    # the code check shows what the API found (the artifact decides: match or mismatch)
    service = played.service
    assert service is not None and service.chain is not None
    with service.reader() as conn:
        code = deployment_info(conn, service.chain).code
    assert browser.evaluate("document.getElementById('code-check').dataset.status") == code.status
    code_hash = "0x" + keccak(service.chain.code()).hex()
    assert browser.evaluate("document.getElementById('code-hash').textContent") == code_hash
    assert browser.console_errors() == []


def test_a_round_in_its_deposit_phase_is_pending_and_not_checked(
    live: tuple[str, Played], browser: Browser, tmp_path: Path
) -> None:
    base, played = live
    rid = played.depositing
    browser.open(f"{base}/#/rounds/{rid}")
    assert browser.evaluate("document.getElementById('round-phase').textContent") == "Deposit"
    assert browser.evaluate(f"{BANNER}.dataset.status") == "not_verified"
    assert browser.evaluate("document.querySelector('.banner.ok')") is None  # no green banner
    text = browser.evaluate(f"{BANNER}.textContent")
    assert text.startswith("Not verified:") and "Deposit phase" in text
    checks = json.loads(
        browser.evaluate(
            "JSON.stringify(Object.fromEntries([...document.querySelectorAll('[data-check]')]"
            ".map(e => [e.dataset.check, [e.dataset.status, e.textContent]])))"
        )
    )
    assert checks["payoffs_match"] == ["not_checked", "not checked: payoffs match"]
    assert checks["digest_match"][0] == checks["no_funds_stuck"][0] == "not_checked"
    assert checks["chain_agrees"][0] == "passed"
    rows = json.loads(browser.evaluate(ROW_CELLS))
    assert [r["payoff_wei"] for r in rows] == ["pending", "pending"]
    assert [r["payoff_expected_wei"] for r in rows] == ["pending", "pending"]
    assert [r["payoff_ok"] for r in rows] == ["pending", "pending"]
    assert int(rows[1]["deposited_wei"]) == played.client.profile_record(rid, 1).deposited
    assert browser.evaluate("document.getElementById('redistribution-pending') !== null")
    assert browser.evaluate("document.querySelectorAll('#plot-payouts rect').length") == 1
    shot = tmp_path / "dashboard-deposit-phase.png"
    browser.screenshot(shot)
    _keep(shot)
    assert browser.console_errors() == []


def test_with_the_node_down_the_chain_check_is_not_checked(
    live: tuple[str, Played], browser: Browser
) -> None:
    base, played = live
    service = played.service
    assert service is not None and service.chain is not None
    reader = service.chain
    service.chain = ChainReader(Web3(HTTPProvider("http://127.0.0.1:9")), reader.address)
    try:
        browser.open(f"{base}/#/rounds/{played.settled}")
        assert browser.evaluate(f"{BANNER}.dataset.status") == "not_verified"
        assert browser.evaluate("document.querySelector('.banner.ok')") is None
        chain = "document.querySelector('[data-check=chain_agrees]')"
        assert browser.evaluate(f"{chain}.dataset.status") == "not_checked"
        assert "did not answer" in browser.evaluate(f"{chain}.title")
        assert "did not answer" in browser.evaluate(f"{BANNER}.textContent")
    finally:
        service.chain = reader
    assert browser.console_errors() == []


def test_org_history_and_transaction_pages(live: tuple[str, Played], browser: Browser) -> None:
    base, played = live
    account = played.client.profile_record(played.settled, 1).account
    browser.open(f"{base}/#/orgs/{account}")
    assert browser.evaluate("document.getElementById('org-name').textContent") == "Hospital B"
    rounds = json.loads(
        browser.evaluate(
            "JSON.stringify([...document.querySelectorAll('#org-table tbody tr')].map(tr => "
            "[Number(tr.dataset.round), tr.querySelector('[data-field=payoff_wei]').dataset.wei "
            "?? tr.querySelector('[data-field=payoff_wei]').textContent]))"
        )
    )
    payoff = played.client.profile_record(played.settled, 1).payoff
    cogen = played.client.profile_record(played.cogen, 1).payoff
    assert rounds == [
        [played.settled, str(payoff)],
        [played.cogen, str(cogen)],
        [played.depositing, "pending"],
    ]
    # tx links of the round's events lead to the API's transaction view
    browser.open(f"{base}/#/rounds/{played.settled}")
    tx = browser.evaluate(
        "document.querySelector('#events-table tr[data-kind=withdrawal] [data-tx]').dataset.tx"
    )
    browser.open(f"{base}/#/tx/{tx}")
    assert browser.evaluate("document.getElementById('hash').textContent") == tx
    events = browser.evaluate(
        "[...document.querySelectorAll('#tx-table [data-field=event]')].map(e => e.textContent)"
    )
    assert events == ["PayoffTransferred"]
    assert browser.console_errors() == []


def test_unknown_round_shows_an_error_without_console_noise(
    live: tuple[str, Played], browser: Browser
) -> None:
    base, _ = live
    browser.open(f"{base}/#/rounds/77")
    assert browser.evaluate("document.body.dataset.loaded") == "error"
    text = browser.evaluate("document.querySelector('[role=alert]').textContent")
    assert "404" in text and "round 77 is not in the index" in text
    # the failed fetch is the only console entry Chromium makes for a 404 response
    errors = browser.console_errors()
    assert all("404" in e for e in errors), errors


def test_tampered_index_is_shown_as_a_mismatch(live: tuple[str, Played], browser: Browser) -> None:
    base, played = live
    assert played.db is not None
    rid = played.settled
    with sqlite3.connect(played.db) as conn:
        (original,) = conn.execute(
            "SELECT payoff_wei FROM payoffs WHERE round_id = ? AND idx = 0", (rid,)
        ).fetchone()
        conn.execute(
            "UPDATE payoffs SET payoff_wei = ? WHERE round_id = ? AND idx = 0",
            (str(int(original) + 5), rid),
        )
    try:
        browser.open(f"{base}/#/rounds/{rid}")
        assert browser.evaluate(f"{BANNER}.dataset.status") == "failed"
        problems = browser.evaluate(f"{BANNER}.textContent")
        assert "org 0: recorded payoff" in problems
        rows = json.loads(browser.evaluate(ROW_CELLS))
        assert [r["payoff_ok"] for r in rows] == ["✗", "✓", "✓", "✓", "✓"]
        browser.open(f"{base}/")
        browser.wait_for(
            "document.querySelector('#rounds-table [data-field=verify]').textContent === 'MISMATCH'"
        )
        assert browser.console_errors() == []
    finally:
        with sqlite3.connect(played.db) as conn:
            conn.execute(
                "UPDATE payoffs SET payoff_wei = ? WHERE round_id = ? AND idx = 0",
                (original, rid),
            )
