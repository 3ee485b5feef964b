"""TLS for the listeners: a provided certificate, or a self-signed one made for the desk.

The self-signed certificate is made once into the data folder's tls/ folder and reused, so
browsers that were told to trust it keep trusting it. It names this machine (host name,
localhost and its addresses) and is renewed a month before it expires.
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
import os
import socket
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

log = logging.getLogger(__name__)

VALID_DAYS = 825
RENEW_BEFORE = datetime.timedelta(days=30)


def server_context(cert: Path | str, key: Path | str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    return context


def _machine_names() -> tuple[list[str], list[ipaddress.IPv4Address | ipaddress.IPv6Address]]:
    hostname = socket.gethostname()
    names = sorted({hostname, socket.getfqdn(), "localhost"} - {""})
    addresses = {ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")}
    try:
        for info in socket.getaddrinfo(hostname, None):
            addresses.add(ipaddress.ip_address(str(info[4][0]).split("%")[0]))
    except (OSError, ValueError):
        pass
    return names, sorted(addresses, key=lambda a: (a.version, int(a)))


def _still_good(cert_path: Path, now: datetime.datetime) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (OSError, ValueError):
        return False
    return cert.not_valid_after_utc - RENEW_BEFORE > now


def self_signed(folder: Path, now: datetime.datetime | None = None) -> tuple[Path, Path]:
    """The desk's self-signed certificate and key files, made when missing or nearly expired."""
    now = now or datetime.datetime.now(datetime.UTC)
    cert_path, key_path = folder / "desk-cert.pem", folder / "desk-key.pem"
    if key_path.exists() and _still_good(cert_path, now):
        return cert_path, key_path
    folder.mkdir(parents=True, exist_ok=True)
    names, addresses = _machine_names()
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, names[0]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "OnlineSupport desk"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(n) for n in names] + [x509.IPAddress(a) for a in addresses]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    partial = key_path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(key_bytes)
    os.replace(partial, key_path)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    fingerprint = cert.fingerprint(hashes.SHA256()).hex(":").upper()
    log.warning(
        "made a self-signed certificate for the desk (%s); SHA-256 fingerprint %s",
        ", ".join(names),
        fingerprint,
    )
    return cert_path, key_path
