"""Authentication for the local cluster: bearer tokens, as kube-apiserver checks them.

Off by default (``LocalCluster(auth=False)``): every request is served as it always was. With
``auth=True`` every HTTP request must carry ``Authorization: Bearer <token>`` naming one of:

- the **static admin token** the cluster writes into its kubeconfig. It authenticates as user
  ``kubernetes-super-admin`` in group ``system:masters`` (the identity of kubeadm's
  ``super-admin.conf``; since kubeadm 1.29 ``admin.conf`` is ``kubernetes-admin`` in
  ``kubeadm:cluster-admins``, bound to ``cluster-admin`` through RBAC; ``system:masters`` is the privileged group the apiserver's authorizer chain allows
  before RBAC, ``apiserver/pkg/authentication/user/user.go`` SystemPrivilegedGroup);
- a **ServiceAccount token** issued by the TokenRequest subresource
  (``POST /api/v1/namespaces/{ns}/serviceaccounts/{name}/token``, as ``kubectl create token``
  and the kubelet's projected volumes ask for it). Tokens are RS256 JWTs shaped as real bound
  tokens (``pkg/serviceaccount/claims.go``: ``iss``, ``sub``, ``aud``, ``exp``, ``iat``,
  ``nbf``, ``jti`` and the private ``kubernetes.io`` claim with the namespace and the
  ServiceAccount's name and uid), signed with a key the cluster generates on first use, or, with
  a state file, keeps in ``<state>.pki/sa.key`` (``tls.py``) so tokens outlive a restart. They
  authenticate as ``system:serviceaccount:<ns>:<name>`` with groups ``system:serviceaccounts``,
  ``system:serviceaccounts:<ns>`` and ``system:authenticated``. As the real validator does
  (``pkg/serviceaccount/claims.go`` validator.Validate), a token stops working once its
  ServiceAccount is deleted or replaced by one with another uid, and once it expires.

A request with a bearer token that does not verify gets 401 with the Status body
``apiserver/pkg/endpoints/handlers/responsewriters/status.go`` writes for Unauthorized. A request
with no bearer token at all runs as ``system:anonymous`` (group ``system:unauthenticated``), as
kube-apiserver does with its default ``--anonymous-auth=true`` (kubeadm keeps it on): the
authenticator chain is ``union.NewFailOnError(tokens, anonymous)``
(``pkg/kubeapiserver/authenticator/config.go``), so only a failing token is an error; RBAC then
lets anonymous requests read ``/version`` and the health endpoints
(``system:public-info-viewer``) and answers 403 to everything else.

Requests the cluster's own controllers make never pass through here: they call
:class:`~gitops.localcluster.api.Api` in-process.
"""

from __future__ import annotations

import base64
import hmac
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from gitops.localcluster import errors, tls
from gitops.localcluster.store import Store

ADMIN_USER = "kubernetes-super-admin"
SYSTEM_MASTERS = "system:masters"
AUTHENTICATED = "system:authenticated"
SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"
SERVICE_ACCOUNTS_GROUP = "system:serviceaccounts"
# kubeadm's --service-account-issuer and the default --api-audiences (the issuer).
ISSUER = "https://kubernetes.default.svc.cluster.local"
DEFAULT_AUDIENCES = (ISSUER,)
# TokenRequest defaults and limits (pkg/apis/authentication/v1/defaults.go: 1 hour;
# pkg/apis/authentication/validation: "may not specify a duration less than 10 minutes",
# and not more than 2^32 seconds).
DEFAULT_EXPIRATION_SECONDS = 3600
MIN_EXPIRATION_SECONDS = 600
MAX_EXPIRATION_SECONDS = 1 << 32
LEEWAY_SECONDS = 60  # go-jose jwt.DefaultLeeway


@dataclass(frozen=True)
class UserInfo:
    """Who made a request (``apiserver/pkg/authentication/user.Info``)."""

    name: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: dict[str, list[str]] = field(default_factory=dict, compare=False, hash=False)

    def to_json(self) -> dict[str, Any]:
        """The ``UserInfo`` of authentication.k8s.io/v1 (SelfSubjectReview status)."""
        out: dict[str, Any] = {"username": self.name}
        if self.uid:
            out["uid"] = self.uid
        if self.groups:
            out["groups"] = list(self.groups)
        if self.extra:
            out["extra"] = self.extra
        return out


ADMIN = UserInfo(ADMIN_USER, groups=(SYSTEM_MASTERS, AUTHENTICATED))
# apiserver/pkg/authentication/request/anonymous: who a request without credentials is when
# anonymous access is on (kube-apiserver's default): no bearer token, or authentication off.
ANONYMOUS = UserInfo("system:anonymous", groups=("system:unauthenticated",))


def service_account_username(namespace: str, name: str) -> str:
    """``system:serviceaccount:<ns>:<name>`` (``apiserver/pkg/authentication/serviceaccount``)."""
    return f"{SERVICE_ACCOUNT_PREFIX}{namespace}:{name}"


def service_account_user(namespace: str, name: str, uid: str) -> UserInfo:
    return UserInfo(
        service_account_username(namespace, name),
        uid=uid,
        groups=(SERVICE_ACCOUNTS_GROUP, f"{SERVICE_ACCOUNTS_GROUP}:{namespace}", AUTHENTICATED),
    )


def unauthorized() -> errors.StatusError:
    """401 as ``responsewriters`` writes it: Status Failure, reason and message "Unauthorized"."""
    return errors.StatusError(401, "Unauthorized", "Unauthorized")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenIssuer:
    """Signs and verifies ServiceAccount JWTs (RS256) with a key made on first use.

    With ``key_file`` the key is kept there: read now when the file exists (a file that cannot be
    used raises :class:`~gitops.localcluster.tls.KeyFileError` naming it), else made on first
    use and written (0600, atomically) before any token signed with it is handed out."""

    def __init__(self, key_file: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._key_file = key_file
        self._key: rsa.RSAPrivateKey | None = None
        self._public: rsa.RSAPublicKey | None = None  # made once: verify runs per request
        self._kid = ""
        if key_file is not None:
            key = tls.read_private_key(key_file)
            if isinstance(key, rsa.RSAPrivateKey):
                self._use(key)
            elif key is not None:
                raise tls.KeyFileError(key_file, f"holds a {type(key).__name__}; tokens are signed RS256")

    def _use(self, key: rsa.RSAPrivateKey) -> None:
        der = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        # The apiserver's key id: unpadded base64url of the SHA-256 of the DER public key
        # (pkg/serviceaccount/jwt.go keyIDFromPublicKey).
        digest = hashes.Hash(hashes.SHA256())
        digest.update(der)
        self._kid = _b64(digest.finalize())
        self._public = key.public_key()
        self._key = key

    def _private_key(self) -> rsa.RSAPrivateKey:
        with self._lock:
            if self._key is None:
                key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                if self._key_file is not None:
                    tls.write_file(self._key_file, tls.private_key_pem(key), tls.PRIVATE_MODE)
                self._use(key)
            assert self._key is not None
            return self._key

    def ensure_key(self) -> None:
        """Make (and with a key file, write) the key now rather than at the first token."""
        self._private_key()

    def issue(
        self,
        namespace: str,
        name: str,
        uid: str,
        *,
        expiration_seconds: int = DEFAULT_EXPIRATION_SECONDS,
        audiences: tuple[str, ...] = DEFAULT_AUDIENCES,
        now: float | None = None,
    ) -> tuple[str, int]:
        """A signed token and its expiry (seconds since the epoch)."""
        key = self._private_key()
        issued = int(now if now is not None else time.time())
        exp = issued + expiration_seconds
        claims = {
            "aud": list(audiences),
            "exp": exp,
            "iat": issued,
            "iss": ISSUER,
            "jti": str(uuid.uuid4()),
            "kubernetes.io": {
                "namespace": namespace,
                "serviceaccount": {"name": name, "uid": uid},
            },
            "nbf": issued,
            "sub": service_account_username(namespace, name),
        }
        header = {"alg": "RS256", "kid": self._kid}
        signing_input = f"{_b64(orjson.dumps(header))}.{_b64(orjson.dumps(claims))}"
        signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64(signature)}", exp

    def verify(self, token: str, now: float | None = None) -> dict[str, Any] | None:
        """The claims of a token this issuer signed and that is valid now, else None."""
        public = self._public
        if public is None or token.count(".") != 2:
            return None
        head, body, sig = token.split(".")
        try:
            public.verify(_unb64(sig), f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
            claims = orjson.loads(_unb64(body))
        except Exception:
            return None
        if not isinstance(claims, dict) or claims.get("iss") != ISSUER:
            return None
        # go-jose's Claims.Validate, as pkg/serviceaccount/claims.go calls it, allows a minute
        # of clock skew (DefaultLeeway) on both ends.
        t = now if now is not None else time.time()
        if not isinstance(claims.get("exp"), int) or t > claims["exp"] + LEEWAY_SECONDS:
            return None
        if isinstance(claims.get("nbf"), int) and t < claims["nbf"] - LEEWAY_SECONDS:
            return None
        return claims


class Authenticator:
    """Maps a request's ``Authorization`` header to a :class:`UserInfo` (or 401)."""

    def __init__(self, store: Store, issuer: TokenIssuer | None = None) -> None:
        self.store = store
        # Random at each start and never kept, unlike the signing key: the cluster rewrites its
        # kubeconfig at every start, so clients that read it follow.
        self.admin_token = secrets.token_urlsafe(32)
        self.issuer = issuer if issuer is not None else TokenIssuer()

    def authenticate(self, authorization: str | None) -> UserInfo:
        """Who sent a request with this ``Authorization`` header, as the chain
        ``union.NewFailOnError(tokens, anonymous)`` decides: a header without a bearer token is
        :data:`ANONYMOUS`; a bearer token that does not verify raises 401 (:func:`unauthorized`).

        The header is read as ``bearertoken.Authenticator`` reads it: trimmed, split on the
        first two spaces, "Bearer" matched case-insensitively, the token the second part. An
        empty token (``Bearer  x``, two spaces) is no token at all, not a bad one."""
        parts = (authorization or "").strip().split(" ", 2)
        if len(parts) < 2 or parts[0].lower() != "bearer" or not parts[1]:
            return ANONYMOUS
        user = self._authenticate_token(parts[1])
        if user is None:
            raise unauthorized()
        return user

    def _authenticate_token(self, token: str) -> UserInfo | None:
        if hmac.compare_digest(token.encode(), self.admin_token.encode()):
            return ADMIN
        claims = self.issuer.verify(token)
        if claims is None:
            return None
        # The token authenticator accepts only tokens meant for the API server: their audiences
        # must intersect --api-audiences (apiserver/pkg/authentication/authenticator/audiences.go).
        aud = claims.get("aud")
        if not isinstance(aud, list) or not set(aud) & set(DEFAULT_AUDIENCES):
            return None
        private = claims.get("kubernetes.io")
        if not isinstance(private, dict):
            return None
        namespace = private.get("namespace")
        sa = private.get("serviceaccount") or {}
        name, uid = sa.get("name"), sa.get("uid")
        if not isinstance(namespace, str) or not isinstance(name, str):
            return None
        # A bound token is valid only while its ServiceAccount exists with the same uid.
        live = self.store.get(("", "serviceaccounts"), (namespace, name))
        if live is None or live["metadata"].get("uid") != uid or live["metadata"].get("deletionTimestamp"):
            return None
        return service_account_user(namespace, name, str(uid))

    def service_account(self, namespace: str, name: str) -> dict[str, Any]:
        """The ServiceAccount a token is requested for (404 NotFound when there is none)."""
        sa = self.store.get(("", "serviceaccounts"), (namespace, name))
        if sa is None:
            raise errors.not_found("serviceaccounts", "", name)
        return dict(sa)

    def token_for(
        self,
        namespace: str,
        name: str,
        *,
        expiration_seconds: int = DEFAULT_EXPIRATION_SECONDS,
        audiences: tuple[str, ...] = DEFAULT_AUDIENCES,
    ) -> tuple[str, int]:
        """A token for an existing ServiceAccount (404 NotFound when there is none)."""
        sa = self.service_account(namespace, name)
        return self.issuer.issue(
            namespace,
            name,
            str(sa["metadata"].get("uid", "")),
            expiration_seconds=expiration_seconds,
            audiences=audiences,
        )
