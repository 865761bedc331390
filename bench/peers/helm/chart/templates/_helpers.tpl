{{- define "u.labels" -}}
app.kubernetes.io/instance: {{ .Values.tenant.name }}-{{ .Values.name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/name: {{ .Values.name }}
app.kubernetes.io/part-of: {{ .Values.partOf }}
app.kubernetes.io/version: {{ .Values.image.tag | quote }}
example.com/cost-center: {{ .Values.tenant.costCenter | quote }}
tenant: {{ .Values.tenant.name }}
environment: {{ .Values.tenant.environment }}
{{- range $k, $v := .Values.labels }}
{{ $k }}: {{ $v | quote }}
{{- end }}
{{- end }}

{{- define "u.selector" -}}
app.kubernetes.io/instance: {{ .Values.tenant.name }}-{{ .Values.name }}
app.kubernetes.io/name: {{ .Values.name }}
{{- end }}

{{- define "u.securityContext" -}}
allowPrivilegeEscalation: false
capabilities:
  drop: [ALL]
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: 1000
runAsGroup: 1000
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* A probe from {path, periodSeconds, timeoutSeconds, failureThreshold}: httpGet on a path, tcpSocket without one. */}}
{{- define "u.probe" -}}
{{- $p := index . 0 }}{{ $port := index . 1 }}{{ $period := index . 2 }}{{ $failures := index . 3 -}}
{{- if $p.path }}
httpGet:
  path: {{ $p.path }}
  port: {{ $port }}
{{- else }}
tcpSocket:
  port: {{ $port }}
{{- end }}
periodSeconds: {{ $p.periodSeconds | default $period }}
timeoutSeconds: {{ $p.timeoutSeconds | default 2 }}
failureThreshold: {{ $p.failureThreshold | default $failures }}
{{- end }}
