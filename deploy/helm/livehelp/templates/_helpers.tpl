{{/*
Names, labels and the two tables every template shares: the parts of livehelp and the
ingress routes.
*/}}

{{- define "livehelp.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* RELEASE-livehelp, or RELEASE when it already contains the chart name; 63 chars max. */}}
{{- define "livehelp.fullname" -}}
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

{{- define "livehelp.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels of one component: (dict "root" $ "component" "chat-gateway"). */}}
{{- define "livehelp.selectorLabels" -}}
app.kubernetes.io/name: {{ include "livehelp.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Standard labels of one component: (dict "root" $ "component" "chat-gateway"). */}}
{{- define "livehelp.labels" -}}
helm.sh/chart: {{ include "livehelp.chart" .root }}
{{ include "livehelp.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: livehelp
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end }}

{{/* Labels of resources that belong to no single component. */}}
{{- define "livehelp.commonLabels" -}}
helm.sh/chart: {{ include "livehelp.chart" . }}
app.kubernetes.io/name: {{ include "livehelp.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: livehelp
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
The parts: values key -> component name (= image suffix), probe paths, whether it is a
livehelp service (settings, /metrics) and whether it can be turned off.
*/}}
{{- define "livehelp.parts" -}}
chatGateway:
  component: chat-gateway
  service: true
  live: /healthz
  ready: /readyz
sessionMonitor:
  component: session-monitor
  service: true
  live: /healthz
  ready: /readyz
screenMirror:
  component: screen-mirror
  service: true
  live: /healthz
  ready: /readyz
voiceForwarder:
  component: voice-forwarder
  service: true
  live: /healthz
  ready: /readyz
demoHost:
  component: demo-host
  service: false
  live: /healthz
  ready: /healthz
static:
  component: static
  service: false
  live: /static/livehelp/widget.js
  ready: /static/livehelp/widget.js
{{- end }}

{{/* Whether a part (values key) is deployed. */}}
{{- define "livehelp.enabled" -}}
{{- $part := index .root.Values.parts .key }}
{{- if hasKey $part "enabled" }}{{ ternary "true" "" $part.enabled }}{{ else }}true{{ end }}
{{- end }}

{{/*
The ingress routes: deploy/routes.toml, the one truth (deploy/check compares the rendered
Ingresses with it). `part` is the values key of the part that owns the path.
*/}}
{{- define "livehelp.routes" -}}
- path: /chat/
  part: chatGateway
  websocket: true
- path: /monitor/
  part: sessionMonitor
  websocket: true
- path: /mirror/
  part: screenMirror
  websocket: true
- path: /voice/
  part: voiceForwarder
  websocket: false
- path: /static/livehelp/
  part: static
  websocket: false
- path: /
  part: demoHost
  websocket: false
{{- end }}

{{- define "livehelp.image" -}}
{{- printf "%s-%s:%s" .root.Values.image.repository .component (.root.Values.image.tag | default .root.Chart.AppVersion) }}
{{- end }}

{{- define "livehelp.secretName" -}}
{{- .Values.secrets.existingSecret | default (include "livehelp.fullname" .) }}
{{- end }}

{{- define "livehelp.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "livehelp.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The public base URL, for NOTES.txt and voice.public_base_url. */}}
{{- define "livehelp.publicUrl" -}}
{{- printf "%s://%s" (ternary "https" "http" (ne .Values.ingress.tlsSecretName "")) .Values.ingress.host }}
{{- end }}

{{/* Stop with a clear message when values contradict each other. */}}
{{- define "livehelp.validate" -}}
{{- if le (int .Values.terminationGracePeriodSeconds) (int .Values.config.shutdownGraceSeconds) }}
{{- fail (printf "terminationGracePeriodSeconds (%v) must be longer than config.shutdownGraceSeconds (%v): pods would be killed while draining" .Values.terminationGracePeriodSeconds .Values.config.shutdownGraceSeconds) }}
{{- end }}
{{- if and (not .Values.redis.bundled.enabled) (eq .Values.redis.mode "single") (not .Values.redis.url) (not .Values.secrets.existingSecret) }}
{{- fail "set redis.url (or LIVEHELP__REDIS__URL in secrets.existingSecret), or turn redis.bundled.enabled on" }}
{{- end }}
{{- if and (not .Values.redis.bundled.enabled) (ne .Values.redis.mode "single") (not .Values.redis.nodes) (not .Values.secrets.existingSecret) }}
{{- fail (printf "redis.mode %s needs redis.nodes (or LIVEHELP__REDIS__NODES in secrets.existingSecret)" .Values.redis.mode) }}
{{- end }}
{{- if and .Values.voice.enabled (not .Values.secrets.twilioAuthToken) (not .Values.secrets.existingSecret) }}
{{- fail "voice.enabled needs secrets.twilioAuthToken (or LIVEHELP__VOICE__AUTH_TOKEN in secrets.existingSecret)" }}
{{- end }}
{{- if and .Values.voice.enabled (or (not .Values.voice.accountSid) (not .Values.voice.number)) }}
{{- fail "voice.enabled needs voice.accountSid and voice.number" }}
{{- end }}
{{- end }}
