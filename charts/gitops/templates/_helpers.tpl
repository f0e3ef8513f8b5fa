{{/* Names and labels, as `helm create` makes them. */}}
{{- define "gitops.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "gitops.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "gitops.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "gitops.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gitops.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "gitops.labels" -}}
helm.sh/chart: {{ include "gitops.chart" . }}
{{ include "gitops.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "gitops.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "gitops.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "gitops.leaseName" -}}
{{- default (include "gitops.fullname" .) .Values.leaderElection.leaseName -}}
{{- end -}}

{{- define "gitops.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* Secrets: which Secret holds each credential; "" when that credential is not configured. */}}
{{- define "gitops.gitSecret" -}}
{{- if .Values.git.existingSecret -}}
{{- if not (or .Values.git.tokenKey .Values.git.sshKeyKey) -}}
{{- fail "git.existingSecret needs git.tokenKey and/or git.sshKeyKey: the keys of that Secret holding an HTTPS token and an SSH private key" -}}
{{- end -}}
{{ .Values.git.existingSecret }}
{{- else if or .Values.git.token .Values.git.sshKey -}}{{ include "gitops.fullname" . }}
{{- end -}}
{{- end -}}

{{- define "gitops.webhookSecret" -}}
{{- if .Values.webhooks.existingSecret -}}{{ .Values.webhooks.existingSecret }}
{{- else if .Values.webhooks.secret -}}{{ include "gitops.fullname" . }}
{{- end -}}
{{- end -}}

{{- define "gitops.apiSecret" -}}
{{- if .Values.api.existingSecret -}}{{ .Values.api.existingSecret }}
{{- else if .Values.api.token -}}{{ include "gitops.fullname" . }}
{{- end -}}
{{- end -}}

{{/* Whether the chart's own Secret has any key to hold ("true" or ""). */}}
{{- define "gitops.createSecret" -}}
{{- $git := and (not .Values.git.existingSecret) (or .Values.git.token .Values.git.sshKey) -}}
{{- $hook := and (not .Values.webhooks.existingSecret) .Values.webhooks.secret -}}
{{- $api := and (not .Values.api.existingSecret) .Values.api.token -}}
{{- if or $git $hook $api -}}true{{- end -}}
{{- end -}}

{{/*
The apps as the daemon reads them (JSON list). When the chart creates the RBAC, each app is told
what that RBAC allows, so the engine refuses an object outside it before any write instead of
failing halfway with a 403: allowedNamespaces defaults to [namespace], clusterScoped to
rbac.clusterScoped. Contradictions fail the install.
*/}}
{{- define "gitops.apps" -}}
{{- $root := . -}}
{{- $explicit := .Values.rbac.namespaces -}}
{{- $out := list -}}
{{- $names := list -}}
{{- range $i, $app := .Values.apps -}}
{{- if has $app.name $names -}}
{{- fail (printf "apps[%d]: duplicate app name %q" $i $app.name) -}}
{{- end -}}
{{- $names = append $names $app.name -}}
{{- $a := deepCopy $app -}}
{{- if $root.Values.rbac.create -}}
{{- if not (hasKey $a "clusterScoped") -}}
{{- $_ := set $a "clusterScoped" $root.Values.rbac.clusterScoped -}}
{{- else if and $a.clusterScoped (not $root.Values.rbac.clusterScoped) -}}
{{- fail (printf "apps[%d] (%s): clusterScoped is true but rbac.clusterScoped is false, so the daemon could not write cluster-scoped objects; set rbac.clusterScoped=true or remove clusterScoped from the app" $i $a.name) -}}
{{- end -}}
{{- if not $a.allowedNamespaces -}}
{{- $_ := set $a "allowedNamespaces" (list (default "default" $a.namespace)) -}}
{{- end -}}
{{- if $explicit -}}
{{- range $a.allowedNamespaces -}}
{{- if not (has . $explicit) -}}
{{- fail (printf "apps[%d] (%s): namespace %q is not in rbac.namespaces %v; the daemon would have no Role there" $i $a.name . $explicit) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $out = append $out $a -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/* The namespaces that get a Role (JSON list, sorted, unique); used only when the chart creates
the RBAC, so gitops.apps has given every app its allowedNamespaces. */}}
{{- define "gitops.rbacNamespaces" -}}
{{- $ns := list -}}
{{- if .Values.rbac.namespaces -}}
{{- $ns = .Values.rbac.namespaces -}}
{{- else -}}
{{- range (include "gitops.apps" . | fromJsonArray) -}}
{{- $ns = concat $ns .allowedNamespaces -}}
{{- end -}}
{{- end -}}
{{- if not $ns -}}
{{- $ns = list .Release.Namespace -}}
{{- end -}}
{{- $ns | uniq | sortAlpha | toJson -}}
{{- end -}}

{{/* The workload kinds the health gate watches (gitops/engine/rollout.py WORKLOAD_KINDS). */}}
{{- define "gitops.watchedWorkloads" -}}
{"apps": ["deployments", "statefulsets", "daemonsets"], "batch": ["jobs"]}
{{- end -}}

{{/* Checksum of everything that, when changed, must restart the daemon. */}}
{{- define "gitops.configChecksum" -}}
{{- $parts := list (include "gitops.apps" .) .Values.git.knownHosts -}}
{{- if include "gitops.createSecret" . -}}
{{- $parts = append $parts (include (print .Template.BasePath "/secret.yaml") .) -}}
{{- end -}}
{{- $parts | toJson | sha256sum -}}
{{- end -}}

{{/* Which git credentials the pod gets ("token", "ssh": JSON map of key in the Secret). */}}
{{- define "gitops.gitKeys" -}}
{{- $keys := dict -}}
{{- if .Values.git.existingSecret -}}
{{- with .Values.git.tokenKey }}{{ $_ := set $keys "token" . }}{{ end -}}
{{- with .Values.git.sshKeyKey }}{{ $_ := set $keys "ssh" . }}{{ end -}}
{{- else -}}
{{- if .Values.git.token }}{{ $_ := set $keys "token" "git-token" }}{{ end -}}
{{- if .Values.git.sshKey }}{{ $_ := set $keys "ssh" "git-ssh-key" }}{{ end -}}
{{- end -}}
{{- toJson $keys -}}
{{- end -}}
