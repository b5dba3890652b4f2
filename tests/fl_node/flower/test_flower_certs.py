"""TLS material and SuperNode keys: a real handshake on loopback, and flwr's own key loaders."""

from __future__ import annotations

import socket
import ssl
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_ssh_private_key
from flwr.cli.supernode.register import try_load_public_key
from flwr.supercore.primitives.asymmetric import public_key_to_bytes

from fl_node.flower.deploy import generate_node_key_pair, generate_tls_files


def _serve_once(context: ssl.SSLContext, server: socket.socket) -> None:
    conn, _ = server.accept()
    with context.wrap_socket(conn, server_side=True) as tls:
        tls.sendall(b"ok")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_clients_trusting_the_ca_complete_a_handshake_with_the_server_cert(
    tmp_path: Path, host: str
) -> None:
    files = generate_tls_files(tmp_path)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(files.server_cert, files.server_key)
    client_ctx = ssl.create_default_context(cafile=str(files.ca_cert))
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        worker = threading.Thread(target=_serve_once, args=(server_ctx, server))
        worker.start()
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            client_ctx.wrap_socket(raw, server_hostname=host) as tls,
        ):
            assert tls.recv(2) == b"ok"
        worker.join(timeout=10)


def test_a_client_without_the_ca_rejects_the_server(tmp_path: Path) -> None:
    files = generate_tls_files(tmp_path)
    other = generate_tls_files(tmp_path / "other")
    cert = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert sans.get_values_for_type(x509.DNSName) == ["localhost"]
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(files.server_cert, files.server_key)
    wrong_ctx = ssl.create_default_context(cafile=str(other.ca_cert))
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        worker = threading.Thread(target=_serve_quietly, args=(server_ctx, server))
        worker.start()
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            pytest.raises(ssl.SSLCertVerificationError),
        ):
            wrong_ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        worker.join(timeout=10)


def _serve_quietly(context: ssl.SSLContext, server: socket.socket) -> None:
    conn, _ = server.accept()
    try:
        context.wrap_socket(conn, server_side=True).close()
    except (ssl.SSLError, OSError):
        conn.close()


def test_node_keys_load_the_way_flower_loads_them(tmp_path: Path) -> None:
    pair = generate_node_key_pair(tmp_path, "supernode-0")
    private = load_ssh_private_key(pair.private_key.read_bytes(), None)
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    assert pair.private_key.stat().st_mode & 0o077 == 0
    # The registration CLI's own loader accepts the public key and it matches the private one.
    assert try_load_public_key(pair.public_key) == public_key_to_bytes(private.public_key())
    with pytest.raises(ValueError, match="plain file name"):
        generate_node_key_pair(tmp_path, "a/b")
