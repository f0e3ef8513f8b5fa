"""One health function per kind, found through a registry (pure: no I/O).

:func:`check` turns a live object (and, for workloads, its pods) into a
:class:`~gitops.model.Health`: a state and one sentence an operator can act on. ``None`` (the
object is not in the cluster) is Missing; an object being deleted is Progressing; otherwise the
checker registered for its ``(group, kind)`` decides, and kinds without one are Healthy once
applied (:mod:`gitops.health.default`).

One module per kind registers its checker with :func:`register`: ``deployment``,
``statefulset``, ``daemonset``, ``job``, ``pod``, ``service``, ``pvc``, ``crd``. Pod diagnosis
shared by the workloads lives in ``pods``, which also defines the fail-fast threshold: a
workload with a pod that cannot pull its image or cannot be configured, or that crash-loops
with ``restartCount >= pods.CRASHLOOP_RESTARTS``, is Degraded at once rather than Progressing
until its progress deadline.

A status that cannot be read (a field of the wrong type) is Unknown, never an exception: health
is polled, and one odd object must not stop the others from being reported.
"""

# Imported for their side effect: each kind's module registers its checker.
from gitops.health import crd, daemonset, deployment, job, pod, pvc, service, statefulset  # noqa: F401
from gitops.health.registry import Checker, check, checker_for, register

__all__ = ["Checker", "check", "checker_for", "register"]
