# The gitops daemon image: `docker build -t REGISTRY/gitops:0.1.0 .`, then set the chart's
# image.repository / image.tag. Runs as the non-root user 10001 on a read-only root filesystem
# (the chart mounts /var/lib/gitops, /var/cache/gitops and /tmp writable).

# kubectl builds kustomizations (`kubectl kustomize`, gitops/manifests/kustomize.py); fetched in
# its own stage, checked against its published SHA-256, so curl never reaches the final image.
FROM python:3.11-slim AS kubectl
ARG KUBECTL_VERSION=v1.32.3
ARG TARGETARCH=amd64
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && curl -fsSLo /kubectl "https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/${TARGETARCH}/kubectl" \
    && echo "$(curl -fsSL "https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/${TARGETARCH}/kubectl.sha256")  /kubectl" \
       | sha256sum --check \
    && chmod 0755 /kubectl

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# git for the clone cache; openssh-client for SSH repositories (git only recommends it, and
# recommends are not installed).
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates git openssh-client \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 gitops \
    && useradd --system --uid 10001 --gid 10001 --home-dir /home/gitops --create-home \
       --shell /usr/sbin/nologin gitops

COPY --from=kubectl /kubectl /usr/local/bin/kubectl

# The package from this repository, with the helm extra (Helm charts rendered in-process).
WORKDIR /src
COPY pyproject.toml README.md ./
COPY gitops ./gitops
RUN pip install --no-cache-dir ".[helm]" \
    && rm -rf /src

RUN mkdir -p /etc/gitops /var/lib/gitops /var/cache/gitops \
    && chown 10001:10001 /var/lib/gitops /var/cache/gitops

USER 10001:10001
ENV HOME=/home/gitops
WORKDIR /var/lib/gitops
EXPOSE 8080
VOLUME ["/var/lib/gitops", "/var/cache/gitops"]

ENTRYPOINT ["gitops", "daemon"]
CMD ["--config", "/etc/gitops/gitops.yaml", "--listen", "0.0.0.0:8080", \
     "--history", "/var/lib/gitops/history.db", "--cache-dir", "/var/cache/gitops"]
