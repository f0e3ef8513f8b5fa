"""The only code that uses the kubernetes client: connection, discovery, list, apply, delete (I/O).

``Cluster.connect(ClusterOptions(kubeconfig=..., context=...))`` or ``in_cluster=True``
(``in_cluster_available()`` tells whether this process runs in a pod); then
``resources()``/``scope()`` (discovery), ``list`` (one LIST per kind), ``get``, ``apply``
(server-side apply), ``create``/``replace`` (Leases, Events), ``delete``, ``watch``;
``observer`` sees every response for metrics. Retries and error conversion live here so that nothing above sees the
client library.
"""

from gitops.cluster.client import (
    SERVICE_ACCOUNT_DIR,
    USER_AGENT,
    ApiResource,
    Cluster,
    ClusterOptions,
    Watch,
    in_cluster_available,
)

__all__ = [
    "SERVICE_ACCOUNT_DIR",
    "USER_AGENT",
    "ApiResource",
    "Cluster",
    "ClusterOptions",
    "Watch",
    "in_cluster_available",
]
