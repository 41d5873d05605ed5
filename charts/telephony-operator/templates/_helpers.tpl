{{/* The chart's name (nameOverride wins). */}}
{{- define "telephony-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The full name of the release's objects: the release name when it already contains the chart's name. */}}
{{- define "telephony-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The labels that select the operator's pods (Deployment, PodDisruptionBudget, Service, topology spread). */}}
{{- define "telephony-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "telephony-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The labels of every object. */}}
{{- define "telephony-operator.labels" -}}
{{ include "telephony-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "telephony-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "telephony-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "telephony-operator.leaseName" -}}
{{- default (include "telephony-operator.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{- define "telephony-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
The operator's rules: deploy/base/rbac.yaml's ClusterRole (a test keeps them identical), split in
two. "rules": on namespaced kinds (with watchNamespaces, a Role per watched namespace);
"clusterRules": on cluster-scoped kinds (with watchNamespaces, a ClusterRole of their own).
*/}}
{{- define "telephony-operator.clusterRules" -}}
- apiGroups: ["telephony.agni.ai"]
  resources: ["creditgrants"]
  verbs: ["get", "list", "watch"]
{{- end }}

{{- define "telephony-operator.rules" -}}
- apiGroups: ["telephony.agni.ai"]
  resources: ["telephonyaccounts", "phonenumbers"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["telephony.agni.ai"]
  resources: ["phonenumbers"]
  verbs: ["delete"]
- apiGroups: ["telephony.agni.ai"]
  resources: ["numbersearches"]
  verbs: ["get", "list", "watch", "delete"]
- apiGroups: ["telephony.agni.ai"]
  resources: ["telephonyaccounts/status", "phonenumbers/status", "numbersearches/status"]
  verbs: ["update"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}
