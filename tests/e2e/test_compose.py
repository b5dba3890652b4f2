"""docker-compose.yml, checked without a Docker engine.

Every service's command must be a real entry point with valid options (``fedsettle`` commands
parse with the CLI's own parser; anvil, flower-superlink and flower-supernode flags appear in
the real binaries' ``--help``; the anvil command even starts), and the ports, host names,
volumes, contract address, accounts, data sizes and files the services and their configs refer
to must exist in the repository (or in what the ``credentials`` service generates) and agree.
"""

from __future__ import annotations

import json
import re
import shlex
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

from fl_node.cli import build_parser
from fl_node.coordinator import (
    ConsortiumConfig,
    first_deployment_address,
    load_consortium_config,
    superlink_argv,
)
from fl_node.daemon import NodeConfig, load_node_config, supernode_argv
from fl_node.flower import load_silo
from settlement import dev_account, find_anvil

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SILOS = ("silo-1", "silo-2", "silo-3")


@cache
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((REPO / "docker-compose.yml").read_text()))


def service(name: str) -> dict[str, Any]:
    return dict(compose()["services"][name])


@cache
def dockerfile() -> str:
    return (REPO / "Dockerfile").read_text()


def workdir() -> str:
    match = re.search(r"^WORKDIR\s+(\S+)", dockerfile(), re.M)
    assert match, "the Dockerfile sets no WORKDIR"
    return match.group(1)


def copied() -> list[tuple[str, str]]:
    """(source, destination) of every COPY in the Dockerfile."""
    out = []
    for line in re.findall(r"^COPY\s+(.+)$", dockerfile(), re.M):
        *sources, dest = line.split()
        out += [(src, dest) for src in sources]
    return out


def in_repo(container_path: str) -> Path:
    """The repository file a container path comes from (through the Dockerfile's COPYs)."""
    wd = workdir()
    assert container_path.startswith(wd + "/"), f"{container_path} is not under {wd}"
    rel = container_path[len(wd) + 1 :]
    for src, dest in copied():
        target = dest.rstrip("/").removeprefix("./")
        if target in ("", "."):
            target = src
        if rel == target or rel.startswith(target + "/"):
            return REPO / src / rel[len(target) :].lstrip("/")
    raise AssertionError(f"{container_path}: the Dockerfile copies nothing there")


def option(command: list[str], flag: str) -> str:
    assert flag in command, f"{flag} missing in {command}"
    return command[command.index(flag) + 1]


def flags(argv: list[str]) -> list[str]:
    return [a for a in argv if a.startswith("--")]


@cache
def help_text(binary: str) -> str:
    done = subprocess.run(
        [binary, "--help"], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


@cache
def consortium() -> ConsortiumConfig:
    return load_consortium_config(in_repo(option(service("coordinator")["command"], "--config")))


@cache
def node(name: str) -> NodeConfig:
    return load_node_config(in_repo(option(service(name)["command"], "--config")))


def volume_mounts(name: str) -> dict[str, str]:
    """container path -> volume name of a service's named-volume mounts."""
    mounts = {}
    for spec in service(name).get("volumes", []):
        source, target, *_ = spec.split(":")
        mounts[target] = source
    return mounts


# --------------------------------------------------------------------------- the image
def test_every_service_runs_the_projects_image() -> None:
    assert set(compose()["services"]) == {"anvil", "credentials", "coordinator", *SILOS, "auditor"}
    assert re.search(r"^FROM python:3\.11-slim\b", dockerfile(), re.M)
    for name, svc in compose()["services"].items():
        assert svc.get("build") == ".", name
        assert svc.get("image") == "fedsettle:latest", name
    for src, _ in copied():
        assert (REPO / src).exists(), f"Dockerfile copies {src}, which is not in the repository"
    ignored = {
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert not ignored & {src for src, _ in copied()}, "the build context drops a copied path"


def test_image_pins_cpu_torch_and_the_toolchain() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    pin = next(d for d in pyproject["project"]["dependencies"] if d.startswith("torch"))
    assert re.search(
        r"pip install --index-url https://download\.pytorch\.org/whl/cpu " + re.escape(pin),
        dockerfile(),
    )
    assert "npm ci" in dockerfile()
    assert {"package.json", "package-lock.json"} <= {src for src, _ in copied()}
    assert "ENV PATH=/app/node_modules/.bin:$PATH" in dockerfile()
    lock = json.loads((REPO / "package-lock.json").read_text())
    anvil = lock["packages"]["node_modules/@foundry-rs/anvil"]
    assert anvil["bin"]["anvil"]
    # every platform binary anvil may pull in is locked (npm ci refuses a lock missing one), so
    # the image builds on arm64 hosts too
    for name, version in anvil["optionalDependencies"].items():
        entry = lock["packages"][f"node_modules/{name}"]
        assert entry["version"] == version and entry["optional"] and entry["integrity"]
    platforms = {(e["os"][0], e["cpu"][0]) for k, e in lock["packages"].items()
                 if k.startswith("node_modules/@foundry-rs/anvil-")}  # fmt: skip
    assert {("linux", "x64"), ("linux", "arm64")} <= platforms


# --------------------------------------------------------------------------- commands
FEDSETTLE_MODULES = {
    "credentials": "fl_node.cli.coordinator",
    "coordinator": "fl_node.cli.coordinator",
    "silo-1": "fl_node.cli.node",
    "silo-2": "fl_node.cli.node",
    "silo-3": "fl_node.cli.node",
    "auditor": "fl_node.cli.audit",
}


@pytest.mark.parametrize("name", sorted(FEDSETTLE_MODULES))
def test_fedsettle_commands_parse_with_the_real_cli(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    command = service(name)["command"]
    assert command[0] == "fedsettle" and (BIN / "fedsettle").is_file()
    try:
        args = build_parser().parse_args(command[1:])
    except SystemExit:
        pytest.fail(f"{name}: {shlex.join(command)} is rejected: {capsys.readouterr().err}")
    assert args.func.__module__ == FEDSETTLE_MODULES[name]
    if getattr(args, "config", None) is not None:
        assert in_repo(str(args.config)).is_file()


def test_anvil_command_uses_real_flags_and_starts(tmp_path: Path) -> None:
    command = service("anvil")["command"]
    binary = find_anvil()
    assert command[0] == "anvil" and binary.name == "anvil"
    # mainnet's per-tx gas cap; the chain on disk every few seconds, so a SIGKILL keeps it
    assert "--enable-tx-gas-limit" in command
    assert option(command, "--state").startswith("/var/lib/fedsettle/")
    assert 1 <= int(option(command, "--state-interval")) <= 10
    text = help_text(str(binary))
    for flag in flags(command):
        assert re.search(rf"\s{re.escape(flag)}[\s,=<]", text), f"anvil has no {flag}"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    argv = [str(binary), *command[1:]]
    argv[argv.index("--port") + 1] = str(port)
    argv[argv.index("--host") + 1] = "127.0.0.1"
    argv[argv.index("--state") + 1] = str(tmp_path / "chain-state.json")
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

        def rpc(method: str) -> Any:
            body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": []})
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}",
                data=body.encode(),
                headers={"Content-Type": "application/json"},
            )
            with opener.open(request, timeout=5) as response:
                return json.loads(response.read())["result"]

        deadline = time.monotonic() + 60
        while True:
            try:
                chain_id = int(rpc("eth_chainId"), 16)
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "anvil did not start"
                time.sleep(0.2)
        assert chain_id == int(option(command, "--chain-id"))
        accounts = rpc("eth_accounts")
        assert len(accounts) == int(option(command, "--accounts"))
        # the compose configs use dev accounts 0 .. 4
        assert accounts[4].lower() == dev_account(4).address.lower()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_superlink_and_supernode_commands_use_real_flags() -> None:
    deployment = consortium().deployment
    assert deployment is not None and deployment.start_superlink
    argv = superlink_argv(deployment, Path("/var/lib/fedsettle/superlink.db"), "flower-superlink")
    text = help_text(str(BIN / "flower-superlink"))
    for flag in flags(argv):
        assert re.search(rf"\s{re.escape(flag)}\s", text), f"flower-superlink has no {flag}"
    assert "--enable-supernode-auth" in argv and "--insecure" not in argv
    text = help_text(str(BIN / "flower-supernode"))
    for name in SILOS:
        settings = node(name).supernode
        assert settings is not None and not settings.insecure
        argv = supernode_argv(settings, Path("/x/node-config.toml"), "flower-supernode")
        for flag in flags(argv):
            assert re.search(rf"\s{re.escape(flag)}\s", text), f"flower-supernode has no {flag}"
        assert "--auth-supernode-private-key" in argv


# --------------------------------------------------------------------------- agreement
def _host_port(url: str) -> tuple[str, int]:
    parsed = urlparse(url)
    assert parsed.hostname and parsed.port, url
    return parsed.hostname, parsed.port


def test_published_ports_are_bound_to_loopback() -> None:
    # the dev keys are public: nothing is reachable from other machines by default
    published = {n: s.get("ports", []) for n, s in compose()["services"].items()}
    assert {n for n, p in published.items() if p} == {"anvil", "coordinator", "auditor"}
    for name, ports in published.items():
        for spec in ports:
            assert str(spec).startswith("127.0.0.1:"), f"{name} publishes {spec} on every interface"


def test_every_chain_client_reaches_the_anvil_service() -> None:
    anvil = service("anvil")
    port = int(option(anvil["command"], "--port"))
    assert option(anvil["command"], "--host") == "0.0.0.0"
    assert f"127.0.0.1:{port}:{port}" in anvil["ports"]
    rpcs = [consortium().rpc_url, option(service("auditor")["command"], "--rpc")]
    rpcs += [node(n).chain.rpc_url for n in SILOS]
    assert {_host_port(url) for url in rpcs} == {("anvil", port)}
    for name in ("coordinator", *SILOS, "auditor"):
        assert "anvil" in service(name)["depends_on"], name


def test_silos_read_the_contract_the_coordinator_deployed() -> None:
    config = consortium()
    assert config.contract is None  # the coordinator deploys, and records it in its state dir
    deployment = config.state_dir / "deployment.json"
    (volume, inside), *_ = (
        (v, str(deployment)[len(t) :])
        for t, v in volume_mounts("coordinator").items()
        if str(deployment).startswith(t + "/")
    )
    for name in SILOS:
        chain = node(name).chain
        assert chain.contract is None and chain.deployment_file is not None
        # the silo mounts the coordinator's state volume read-only and reads that very file
        (target,) = [t for t, v in volume_mounts(name).items() if v == volume]
        assert str(chain.deployment_file) == target + inside
        assert f"{volume}:{target}:ro" in service(name)["volumes"]
        assert "coordinator" in service(name)["depends_on"]
    # the auditor names the address of the operator's first deployment on the fresh chain
    assert config.operator.dev_account is not None
    expected = first_deployment_address(dev_account(config.operator.dev_account).address)
    assert option(service("auditor")["command"], "--contract") == expected


def test_silo_names_accounts_endpoints_and_data_agree_with_the_consortium() -> None:
    config = consortium()
    assert [s.name for s in config.silos] == list(SILOS)
    for silo in config.silos:
        cfg = node(silo.name)
        assert cfg.name == silo.name
        assert cfg.key.dev_account is not None
        assert dev_account(cfg.key.dev_account).address == silo.account
        host, port = _host_port(silo.endpoint)
        assert host == silo.name  # the compose service of that silo
        assert cfg.agent.host == "0.0.0.0" and cfg.agent.port == port
        assert str(port) in service(silo.name)["expose"]
        assert cfg.cost.F[-1] == silo.F_max
        assert cfg.data.partition_id == silo.partition_id
        size = len(load_silo({**cfg.data.node_config(), "silo-name": cfg.name}).data)
        assert size == silo.s, f"{silo.name}: its data holds {size} samples, registered {silo.s}"
    keys = [node(n).key.dev_account for n in SILOS]
    assert len(set(keys)) == len(keys)
    assert config.coordinator_key is not None
    assert config.coordinator_key.dev_account not in keys


def test_supernodes_dial_the_coordinators_superlink() -> None:
    deployment = consortium().deployment
    assert deployment is not None
    assert f"127.0.0.1:{deployment.port}:{deployment.port}" in service("coordinator")["ports"]
    hosts = option(service("credentials")["command"], "--hosts").split(",")
    for name in SILOS:
        settings = node(name).supernode
        assert settings is not None
        host, port = settings.superlink.rsplit(":", 1)
        assert (host, int(port)) == ("coordinator", deployment.port)
        assert host in hosts  # the server certificate is valid for the name they dial
    cli_host = deployment.superlink.rsplit(":", 1)[0]
    assert cli_host in hosts and deployment.host == "0.0.0.0"
    ports = [node(n).supernode.port for n in SILOS]  # type: ignore[union-attr]
    assert all(1 <= p < 65536 for p in ports)


def test_each_service_state_lives_in_its_own_declared_volume() -> None:
    declared = set(compose()["volumes"])
    used: dict[str, list[str]] = {}
    for name in compose()["services"]:
        for volume in volume_mounts(name).values():
            assert volume in declared, f"{name} mounts undeclared volume {volume}"
            used.setdefault(volume, []).append(name)
    for name in SILOS:
        state = str(node(name).state_dir)
        mounts = volume_mounts(name)
        data_volumes = [v for t, v in mounts.items() if state.startswith(t + "/")]
        assert data_volumes == [f"{name}-data"], name
        assert used[f"{name}-data"] == [name]  # not shared with any other service
    coordinator_state = str(consortium().state_dir)
    assert any(coordinator_state.startswith(t + "/") for t in volume_mounts("coordinator")), (
        coordinator_state
    )
    # one credentials volume per silo: a silo sees its own private key, no other
    assert used["credentials"] == ["credentials", "coordinator"]
    for name in SILOS:
        assert used[f"{name}-credentials"] == ["credentials", name]
    for name in ("coordinator", *SILOS):
        volume = "credentials" if name == "coordinator" else f"{name}-credentials"
        assert f"{volume}:/credentials:ro" in service(name)["volumes"], (
            f"{name} must mount its credentials read-only"
        )


def _generated(tmp_path: Path, name: str, path: Path | None) -> Path:
    """Where the credentials service, run with its paths under ``tmp_path``, wrote the file
    ``name`` sees at ``path`` (through the volume both mount)."""
    assert path is not None
    (target, volume), *_ = (
        (t, v) for t, v in volume_mounts(name).items() if str(path).startswith(t + "/")
    )
    (source,) = [t for t, v in volume_mounts("credentials").items() if v == volume]
    return tmp_path / source.lstrip("/") / str(path)[len(target) + 1 :]


def test_credential_paths_are_what_the_credentials_service_writes(tmp_path: Path) -> None:
    command = service("credentials")["command"]
    argv = [str(BIN / "fedsettle"), *command[1:]]
    for flag in ("--out", "--per-silo"):
        argv[argv.index(flag) + 1] = str(tmp_path / option(command, flag).lstrip("/"))
    subprocess.run(argv, check=True, capture_output=True, timeout=120)
    config = consortium()
    assert config.deployment is not None
    referenced = [
        ("coordinator", config.deployment.root_certificates),
        ("coordinator", config.deployment.ssl_certfile),
        ("coordinator", config.deployment.ssl_keyfile),
        *(("coordinator", s.supernode_public_key) for s in config.silos),
    ]
    for name in SILOS:
        settings = node(name).supernode
        assert settings is not None
        referenced += [(name, settings.root_certificates), (name, settings.auth_private_key)]
    for name, path in referenced:
        assert _generated(tmp_path, name, path).is_file(), (
            f"{name}: {path} is not produced by the credentials service"
        )
    # each silo's private key pairs with the public key the coordinator registers, and the
    # coordinator's volume holds no silo's private key
    from cryptography.hazmat.primitives import serialization

    for silo in config.silos:
        private = _generated(tmp_path, silo.name, node(silo.name).supernode.auth_private_key)  # type: ignore[union-attr]
        public = _generated(tmp_path, "coordinator", silo.supernode_public_key)
        key = serialization.load_ssh_private_key(private.read_bytes(), password=None)
        derived = key.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        assert public.read_bytes().split()[:2] == derived.split()[:2]
        assert not public.with_suffix("").exists()
