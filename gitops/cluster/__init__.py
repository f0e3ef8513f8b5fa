"""The only code that uses the kubernetes client: connection, discovery, list, apply, delete (I/O).

``Cluster.connect(ClusterOptions(kubeconfig=..., context=...))`` or ``in_cluster=True``; then
``resources()``/``scope()`` (discovery), ``list`` (one LIST per kind), ``apply`` (server-side
apply), ``delete``. Retries and error conversion live here so that nothing above sees the
client library.
"""

from gitops.cluster.client import USER_AGENT, ApiResource, Cluster, ClusterOptions, Watch

__all__ = ["USER_AGENT", "ApiResource", "Cluster", "ClusterOptions", "Watch"]
