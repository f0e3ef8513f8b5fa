"""TLS and key files of the local cluster: the CA, the serving certificate, the kept keys.

Used with ``LocalCluster(tls=True)``. The layout follows kubeadm's PKI (``/etc/kubernetes/pki``):
a self-signed CA ``kubernetes`` (``ca.crt``, ``ca.key``) and the apiserver's serving certificate
(``apiserver.crt``, ``apiserver.key``) whose subjectAltNames cover every name a client may use:
``127.0.0.1`` and ``localhost`` here, and the in-cluster names ``kubernetes``,
``kubernetes.default``, ``kubernetes.default.svc``, ``kubernetes.default.svc.cluster.local`` and
the Service IP ``10.96.0.1`` (``cmd/kubeadm/app/util/pkiutil`` GetAPIServerAltNames). The CA's PEM
is what a kubeconfig carries as ``certificate-authority-data`` and what a pod finds as
``/var/run/secrets/kubernetes.io/serviceaccount/ca.crt``.

Kept keys. Without a state file the CA lives in memory for one run. With one, the CA and the
ServiceAccount signing key (``auth.py``) are kept in a directory beside it,
:func:`key_directory` (``<state>.pki/``: ``ca.crt``, ``ca.key``, ``sa.key``), the files a real
kube-apiserver reads at start (``--client-ca-file``/``--tls-cert-file``,
``--service-account-key-file``/``--service-account-signing-key-file``), so a ``ca.crt`` or a
token handed out before a restart keeps working after it. The directory is 0700, private keys
0600; every file is written to a temporary file and renamed over its name, so a crash leaves the
old file or the new one, never half of one. A kept file that cannot be read or used raises
:class:`KeyFileError` naming it: regenerating it silently would cut off every client that holds
the old CA or an old token. The serving certificate is re-issued from the CA at each start.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gitops.localcluster import files

SERVING_DNS_NAMES = (
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
)
SERVING_IPS = ("127.0.0.1", "10.96.0.1")
CA_CERT = "ca.crt"
CA_KEY = "ca.key"
SA_KEY = "sa.key"  # kubeadm's name for the ServiceAccount signing key
DIRECTORY_MODE = 0o700
PRIVATE_MODE = 0o600
PUBLIC_MODE = 0o644

# The keys a CA may sign with here: what kubeadm makes (RSA, or ECDSA with --encryption-algorithm).
CaKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class KeyFileError(Exception):
    """A kept key or certificate file that cannot be read or used; ``path`` names it."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(
            f"{path}: {problem}. Restore it, or delete {path.parent} to start with new keys "
            "(tokens and CA certificates handed out before then stop working)"
        )
        self.path = path


@dataclass(frozen=True)
class Pki:
    ca_file: Path
    cert_file: Path
    key_file: Path

    @property
    def ca_pem(self) -> bytes:
        return self.ca_file.read_bytes()


@dataclass(frozen=True)
class CertificateAuthority:
    cert: x509.Certificate
    key: CaKey

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


# ----------------------------------------------------------------------------- key files


def key_directory(state_file: Path) -> Path:
    """Where the keys of the cluster kept in ``state_file`` live: ``<state_file>.pki``."""
    return state_file.with_name(state_file.name + ".pki")


def write_file(path: Path, data: bytes, mode: int) -> None:
    """Create or replace ``path`` with ``data`` and ``mode``, atomically (temporary file, fsync,
    rename), in a directory created 0700 when missing."""
    path.parent.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    path.parent.chmod(DIRECTORY_MODE)  # also when mkdir's mode was narrowed by the umask
    files.atomic_write(path, data, mode)


def _read(path: Path) -> bytes | None:
    """The file's bytes; None when there is no such file."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise KeyFileError(path, f"cannot be read ({exc.strerror or exc})") from exc


def read_private_key(path: Path) -> PrivateKeyTypes | None:
    """The PEM private key in ``path``; None when there is no such file."""
    data = _read(path)
    if data is None:
        return None
    try:
        return serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyFileError(path, f"is not a usable unencrypted PEM private key ({exc})") from exc


def private_key_pem(key: PrivateKeyTypes) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _public_der(key: PrivateKeyTypes) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


# ------------------------------------------------------------------------------------- CA


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    """digitalSignature and keyEncipherment (TLS), plus keyCertSign for the CA."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=True,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _key() -> ec.EllipticCurvePrivateKey:
    # ECDSA P-256: as fast to generate as it is to use (kubeadm's --encryption-algorithm ECDSA-P256).
    return ec.generate_private_key(ec.SECP256R1())


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def new_ca() -> CertificateAuthority:
    """A self-signed CA ``kubernetes``, valid ten years (kubeadm's CA lifetime)."""
    now = _now()
    key = _key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return CertificateAuthority(cert, key)


def _load_ca(cert_file: Path, cert_pem: bytes, key_file: Path) -> CertificateAuthority:
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
    except ValueError as exc:
        raise KeyFileError(cert_file, f"is not a PEM certificate ({exc})") from exc
    key = read_private_key(key_file)
    if key is None:
        # The certificate may have been handed out; a new CA would not verify this server for
        # whoever trusts it.
        raise KeyFileError(key_file, f"is missing, and {cert_file.name} beside it needs it")
    if not isinstance(key, CaKey):
        raise KeyFileError(key_file, f"holds a {type(key).__name__}; a CA key is RSA or ECDSA")
    if _public_der(key) != cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ):
        raise KeyFileError(key_file, f"is not the key of {cert_file.name}")
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is None or not constraints.ca:
        raise KeyFileError(cert_file, "is not a CA certificate (basicConstraints CA:TRUE)")
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise KeyFileError(cert_file, "is not a validly self-signed certificate") from exc
    if cert.not_valid_after_utc <= _now():
        raise KeyFileError(cert_file, f"expired on {cert.not_valid_after_utc:%Y-%m-%d}")
    return CertificateAuthority(cert, key)


def kept_ca(directory: Path) -> CertificateAuthority:
    """The CA kept in ``directory`` (``ca.crt``, ``ca.key``); made and written when there is none.

    ``ca.key`` is written before ``ca.crt``, so ``ca.crt`` marks a complete CA: a ``ca.key``
    alone is what a crash between the two writes leaves, and no client can trust a CA whose
    certificate was never written, so it is replaced. A ``ca.crt`` without its key is an error."""
    cert_file, key_file = directory / CA_CERT, directory / CA_KEY
    cert_pem = _read(cert_file)
    if cert_pem is not None:
        return _load_ca(cert_file, cert_pem, key_file)
    ca = new_ca()
    write_file(key_file, private_key_pem(ca.key), PRIVATE_MODE)
    write_file(cert_file, ca.cert_pem, PUBLIC_MODE)
    return ca


# ------------------------------------------------------------------------ serving certificate


def generate(directory: Path, ca: CertificateAuthority | None = None) -> Pki:
    """Write ``ca.crt``, ``apiserver.crt`` and ``apiserver.key`` into ``directory``: a serving
    certificate signed by ``ca`` (a new CA, held in memory only, when None)."""
    if ca is None:
        ca = new_ca()
    now = _now()
    key = _key()
    alt_names: list[x509.GeneralName] = [x509.DNSName(n) for n in SERVING_DNS_NAMES]
    alt_names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in SERVING_IPS]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        # A year (kubeadm's leaf lifetime), never past the CA's own expiry.
        .not_valid_after(min(now + datetime.timedelta(days=365), ca.cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
        )
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .sign(ca.key, hashes.SHA256())
    )

    pki = Pki(directory / CA_CERT, directory / "apiserver.crt", directory / "apiserver.key")
    write_file(pki.ca_file, ca.cert_pem, PUBLIC_MODE)
    write_file(pki.cert_file, cert.public_bytes(serialization.Encoding.PEM), PUBLIC_MODE)
    write_file(pki.key_file, private_key_pem(key), PRIVATE_MODE)
    return pki
