{{- define "turnup.env" -}}
{{- range $name, $value := .Values.env }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end -}}
{{- define "turnup.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag }}
{{- end -}}
