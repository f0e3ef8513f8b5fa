"""The local simulated Kubernetes API server.

Real HTTP on loopback, Kubernetes 1.32 semantics (../shared/K8S-API.md), simulated controllers,
no containers. Nothing but ``gitops.cli`` and the tests import it: to the engine it is a cluster
like any other, reached through a kubeconfig.

Modules: ``runner`` (start/stop, kubeconfig), ``server`` (HTTP), ``api`` (verbs and the write
pipeline), ``store`` (objects, resourceVersions, watch events, state file), ``lifecycle``
(garbage collection, namespace termination), and pure helpers: ``resources``, ``schema``,
``discovery``, ``patch``, ``managedfields``, ``defaults``, ``validation``, ``quantity``,
``selectors``, ``tables``, ``clock``, ``errors``.
"""

from gitops.localcluster.runner import LocalCluster

__all__ = ["LocalCluster"]
