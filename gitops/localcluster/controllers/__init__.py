"""Simulated controllers: what kube-controller-manager, kube-scheduler and the kubelets do.

No container runs: pods are simulated by the ``pods`` module (scheduling, image pulls, starts,
readiness, crashes, exits), steered by the image name and pod-template annotations (see the
README's local-cluster section). Each module defines ``CONTROLLERS``, the controller classes it
contributes; :func:`controller_classes` collects them in a fixed order.
"""

from __future__ import annotations

import importlib

from gitops.localcluster.controllers.manager import Controller, ControllerManager, Options

# Order matters only for the first reconcile after start; every controller reacts to events.
MODULES = (
    "nodes",
    "pods",
    "replicaset",
    "deployment",
    "statefulset",
    "daemonset",
    "job",
    "cronjob",
    "endpoints",
    "hpa",
    "clusterroleaggregation",
)


def controller_classes() -> list[type[Controller]]:
    classes: list[type[Controller]] = []
    for name in MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name}":
                continue  # not built yet
            raise
        classes.extend(getattr(module, "CONTROLLERS", ()))
    return classes


def build_manager(manager: ControllerManager) -> ControllerManager:
    ctx = manager.context()
    for cls in controller_classes():
        manager.register(cls(ctx))
    return manager


__all__ = ["Controller", "ControllerManager", "Options", "build_manager", "controller_classes"]
