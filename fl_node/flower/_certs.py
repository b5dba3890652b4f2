"""Self-signed TLS material and SuperNode authentication keys for a loopback deployment.

The SuperLink needs a CA certificate, a server certificate signed by it and the server key
(``--ssl-ca-certfile/--ssl-certfile/--ssl-keyfile``); SuperNodes and the ``flwr`` CLI verify the
server with the CA (``--root-certificates`` / ``root-certificates``). SuperNode authentication in
flwr 1.41 uses NIST elliptic-curve keys: the private key in OpenSSH format
(``--auth-supernode-private-key``), the public key in OpenSSH format
(``flwr supernode register <key.pub>``).
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["NodeKeyPair", "TlsFiles", "generate_node_key_pair", "generate_tls_files"]

_VALIDITY = _dt.timedelta(days=365)


@dataclass(frozen=True)
class TlsFiles:
    """Paths of the PEM files written by :func:`generate_tls_files`."""

    ca_cert: Path
    server_cert: Path
    server_key: Path


@dataclass(frozen=True)
class NodeKeyPair:
    """Paths of one SuperNode's OpenSSH-format authentication key pair."""

    private_key: Path
    public_key: Path


def _write_private(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    path.chmod(0o600)


def generate_tls_files(
    out_dir: Path,
    *,
    hosts: tuple[str, ...] = ("127.0.0.1", "localhost"),
    common_name: str = "fedsettle-superlink",
) -> TlsFiles:
    """Create a self-signed CA and a server certificate valid for ``hosts``.

    Parameters
    ----------
    out_dir : Path
        Directory receiving ``ca.crt``, ``server.pem`` and ``server.key`` (created if missing).
    hosts : tuple of str
        Subject alternative names of the server certificate: IP literals become IP SANs,
        anything else a DNS SAN. Clients verify the address they connect to against these.
    common_name : str
        Subject common name of the server certificate.

    Returns
    -------
    TlsFiles
    """
    if not hosts:
        raise ValueError("hosts must name at least one address, e.g. ('127.0.0.1', 'localhost')")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    now = _dt.datetime.now(_dt.UTC)

    ca_key = ec.generate_private_key(ec.SECP384R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fedsettle-loopback-ca")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )

    sans: list[x509.GeneralName] = []
    for host in hosts:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            sans.append(x509.DNSName(host))
    server_key = ec.generate_private_key(ec.SECP384R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )

    files = TlsFiles(
        ca_cert=out_dir / "ca.crt",
        server_cert=out_dir / "server.pem",
        server_key=out_dir / "server.key",
    )
    files.ca_cert.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.server_cert.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    _write_private(
        files.server_key,
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    # The CA key is not written: nothing signs further certificates after set-up.
    return files


def generate_node_key_pair(out_dir: Path, name: str) -> NodeKeyPair:
    """Create a SuperNode authentication key pair (P-384, OpenSSH format).

    Parameters
    ----------
    out_dir : Path
        Directory receiving ``<name>`` (private key) and ``<name>.pub`` (created if missing).
    name : str
        File stem, e.g. ``"supernode-0"``.

    Returns
    -------
    NodeKeyPair
    """
    if not name or "/" in name:
        raise ValueError(f"name must be a plain file name such as 'supernode-0'; got {name!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP384R1())
    pair = NodeKeyPair(private_key=out_dir / name, public_key=out_dir / f"{name}.pub")
    _write_private(
        pair.private_key,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        ),
    )
    pair.public_key.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        + b"\n"
    )
    return pair
