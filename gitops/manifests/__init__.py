"""Documents from a checkout, and their validation before any write (I/O: files, a subprocess).

Data-flow steps 2 and 3 of DESIGN.md: ``load`` renders an app's path into objects (plain
YAML/JSON read as kubectl reads it, a kustomization built by ``kubectl kustomize``, a Helm chart
rendered by Helm's engine), each with its origin; ``validate`` checks the whole set — names,
scopes, namespaces, duplicates, schemas — against what the cluster serves and returns it with
default namespaces applied. Both collect every problem and raise one ``ManifestError`` listing
them all, so one bad document refuses the sync before anything is written.

    resources = manifests.load(checkout, "apps/web", manifests.LoadOptions(helm_release="web"))
    desired = manifests.validate(resources, scope=discovery.scope, default_namespace="web")
"""

from gitops.errors import ManifestError, Problem
from gitops.manifests.load import LoadOptions, load
from gitops.manifests.validate import Scope, validate

__all__ = ["LoadOptions", "ManifestError", "Problem", "Scope", "load", "validate"]
