package rewrite

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

var (
	webContainer = []string{"spec", "containers", "[name=web]"}
	podSC        = []string{"spec", "securityContext"}
)

func path(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestFileEdits(t *testing.T) {
	one := 1
	tests := []struct {
		name  string
		in    string
		edits []Edit
		want  string
	}{
		{
			name: "empty flow securityContext becomes a block mapping",
			in: `kind: Pod
spec:
  containers:
  - name: web
    securityContext: {}
`,
			edits: []Edit{{Sets: []Set{{Path: path(webContainer, []string{"securityContext", "runAsNonRoot"}), Value: true}}}},
			want: `kind: Pod
spec:
  containers:
  - name: web
    securityContext:
      runAsNonRoot: true
`,
		},
		{
			name: "null securityContext becomes a mapping",
			in: `kind: Pod
spec:
  securityContext:
  containers:
  - name: web
`,
			edits: []Edit{{Sets: []Set{{Path: path(podSC, []string{"seccompProfile"}), Value: map[string]any{"type": "RuntimeDefault"}}}}},
			want: `kind: Pod
spec:
  securityContext:
    seccompProfile:
      type: RuntimeDefault
  containers:
  - name: web
`,
		},
		{
			name: "missing mappings are created in block style at the end",
			in: `kind: Pod
metadata:
  name: p
spec:
  containers:
    - name: web
      image: nginx
`,
			edits: []Edit{{Sets: []Set{
				{Path: path(webContainer, []string{"securityContext", "capabilities", "drop"}), Value: []string{"ALL"}},
				{Path: path(webContainer, []string{"securityContext", "allowPrivilegeEscalation"}), Value: false},
			}}},
			want: `kind: Pod
metadata:
  name: p
spec:
  containers:
    - name: web
      image: nginx
      securityContext:
        capabilities:
          drop:
            - ALL
        allowPrivilegeEscalation: false
`,
		},
		{
			name: "non-empty flow mapping stays flow",
			in: `kind: Deployment
spec:
  template:
    metadata:
      labels: {app: web}
`,
			edits: []Edit{{Sets: []Set{{Path: []string{"spec", "template", "metadata", "labels", "tier"}, Value: "front"}}}},
			want: `kind: Deployment
spec:
  template:
    metadata:
      labels: {app: web, tier: front}
`,
		},
		{
			name: "annotation key with dots and slashes is one path element",
			in: `kind: Pod
metadata:
  annotations:
    seccomp.security.alpha.kubernetes.io/pod: runtime/default
    team: a
`,
			edits: []Edit{{Deletes: []Delete{{Path: []string{"metadata", "annotations", "seccomp.security.alpha.kubernetes.io/pod"}}}}},
			want: `kind: Pod
metadata:
  annotations:
    team: a
`,
		},
		{
			name: "deleting the only annotation removes the emptied annotations",
			in: `kind: Pod
metadata:
  name: p
  annotations:
    seccomp.security.alpha.kubernetes.io/pod: unconfined
spec: {}
`,
			edits: []Edit{{Deletes: []Delete{{Path: []string{"metadata", "annotations", "seccomp.security.alpha.kubernetes.io/pod"}}}}},
			want: `kind: Pod
metadata:
  name: p
spec: {}
`,
		},
		{
			name: "deleting a missing field changes nothing",
			in: `kind: Pod   # odd   spacing   kept
metadata:
    name: p
`,
			edits: []Edit{{Deletes: []Delete{{Path: []string{"metadata", "annotations", "x"}}}}},
			want: `kind: Pod   # odd   spacing   kept
metadata:
    name: p
`,
		},
		{
			name: "replaced value keeps its line comment",
			in: `kind: Pod
spec:
  securityContext:
    runAsUser: 0 # root, for the legacy entrypoint
    fsGroup: 2000
`,
			edits: []Edit{{Sets: []Set{{Path: path(podSC, []string{"runAsUser"}), Value: int64(1000)}}}},
			want: `kind: Pod
spec:
  securityContext:
    runAsUser: 1000 # root, for the legacy entrypoint
    fsGroup: 2000
`,
		},
		{
			name: "replaced string keeps its quotes",
			in: `kind: Pod
spec:
  securityContext:
    seccompProfile:
      type: 'Unconfined'
`,
			edits: []Edit{{Sets: []Set{{Path: path(podSC, []string{"seccompProfile", "type"}), Value: "RuntimeDefault"}}}},
			want: `kind: Pod
spec:
  securityContext:
    seccompProfile:
      type: 'RuntimeDefault'
`,
		},
		{
			name: "quoted number replaced by an integer loses its quotes",
			in: `kind: Pod
spec:
  securityContext:
    runAsUser: "0"
`,
			edits: []Edit{{Sets: []Set{{Path: path(podSC, []string{"runAsUser"}), Value: int64(1000)}}}},
			want: `kind: Pod
spec:
  securityContext:
    runAsUser: 1000
`,
		},
		{
			name: "values of other JSON-compatible types",
			in: `kind: Pod
spec:
  containers:
  - name: web
`,
			edits: []Edit{{Sets: []Set{
				{Path: path(podSC, []string{"supplementalGroups"}), Value: []int64{3000, 3001}},
				{Path: path(podSC, []string{"seLinuxOptions"}), Value: map[string]string{"level": "s0:c1", "type": "spc_t"}},
				{Path: path(webContainer, []string{"securityContext", "seccompProfile"}), Value: corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: ptr.To("audit.json")}},
			}}},
			want: `kind: Pod
spec:
  containers:
  - name: web
    securityContext:
      seccompProfile:
        localhostProfile: audit.json
        type: Localhost
  securityContext:
    supplementalGroups:
    - 3000
    - 3001
    seLinuxOptions:
      level: s0:c1
      type: spc_t
`,
		},
		{
			name: "strings a YAML 1.1 reader would retype are quoted",
			in: `kind: Namespace
metadata:
  labels:
    team: a
`,
			edits: []Edit{{Sets: []Set{
				{Path: []string{"metadata", "labels", "audit"}, Value: "on"},
				{Path: []string{"metadata", "labels", "version"}, Value: "1.25"},
			}}},
			want: `kind: Namespace
metadata:
  labels:
    team: a
    audit: "on"
    version: "1.25"
`,
		},
		{
			name: "blank lines and comments between sections are kept",
			in: `# licence header
apiVersion: v1
kind: Pod

metadata:
  name: p   # the name

  # the spec
spec:
  containers:
  - name: web

    image: nginx   # pinned later
`,
			edits: []Edit{{Sets: []Set{
				{Path: []string{"metadata", "labels", "app"}, Value: "web"},
				{Path: path(webContainer, []string{"securityContext", "runAsNonRoot"}), Value: true},
			}}},
			want: `# licence header
apiVersion: v1
kind: Pod

metadata:
  name: p   # the name
  labels:
    app: web

  # the spec
spec:
  containers:
  - name: web

    image: nginx   # pinned later
    securityContext:
      runAsNonRoot: true
`,
		},
		{
			name:  "CRLF line endings are kept",
			in:    "kind: Pod\r\nspec:\r\n  hostPID: true\r\n",
			edits: []Edit{{Sets: []Set{{Path: []string{"spec", "hostPID"}, Value: false}}}},
			want:  "kind: Pod\r\nspec:\r\n  hostPID: false\r\n",
		},
		{
			name:  "file without a final newline",
			in:    "kind: Pod\nspec:\n  hostPID: true",
			edits: []Edit{{Sets: []Set{{Path: []string{"spec", "hostPID"}, Value: false}}}},
			want:  "kind: Pod\nspec:\n  hostPID: false",
		},
		{
			// Merging the new field beside lines indented unlike the rest
			// would not parse; the document is written re-encoded instead.
			name: "inconsistent indentation falls back to the re-encoded document",
			in: `kind: Pod
spec:
  containers:
  - name: web
    securityContext:
        privileged: true
`,
			edits: []Edit{{Sets: []Set{{Path: path(webContainer, []string{"securityContext", "runAsNonRoot"}), Value: true}}}},
			want: `kind: Pod
spec:
  containers:
  - name: web
    securityContext:
      privileged: true
      runAsNonRoot: true
`,
		},
		{
			name: "List item addressed by Item",
			in: `apiVersion: v1
kind: List
items:
- kind: Pod
  metadata: {name: a}
  spec:
    hostNetwork: true
- kind: Pod
  metadata: {name: b}
  spec:
    hostNetwork: true
`,
			edits: []Edit{{Item: &one, Sets: []Set{{Path: []string{"spec", "hostNetwork"}, Value: false}}}},
			want: `apiVersion: v1
kind: List
items:
- kind: Pod
  metadata: {name: a}
  spec:
    hostNetwork: true
- kind: Pod
  metadata: {name: b}
  spec:
    hostNetwork: false
`,
		},
		{
			name: "only the addressed document changes",
			in: `# header
---
kind: A
spec:   {x: 1}
---
kind: B   # b
spec:
  x: 1
---
kind: C
spec:   {x: 1}
`,
			edits: []Edit{{Document: 1, Sets: []Set{{Path: []string{"spec", "x"}, Value: int64(2)}}}},
			want: `# header
---
kind: A
spec:   {x: 1}
---
kind: B   # b
spec:
  x: 2
---
kind: C
spec:   {x: 1}
`,
		},
		{
			name: "four-space indentation is kept",
			in: `kind: Pod
spec:
    containers:
        - name: web
          image: nginx
`,
			edits: []Edit{{Sets: []Set{{Path: path(podSC, []string{"runAsNonRoot"}), Value: true}}}},
			want: `kind: Pod
spec:
    containers:
        - name: web
          image: nginx
    securityContext:
        runAsNonRoot: true
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := File([]byte(tt.in), tt.edits)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got:\n%s\nwant:\n%s", got, tt.want)
			}
			again, err := File(got, tt.edits)
			if err != nil {
				t.Fatalf("second application: %v", err)
			}
			if string(again) != string(got) {
				t.Fatalf("second application changed the file:\n%s", again)
			}
		})
	}
}

func TestFileErrors(t *testing.T) {
	const pod = `kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: web
    image: nginx
`
	two := 2
	tests := []struct {
		name  string
		in    string
		edits []Edit
		want  string // a part of the error message
	}{
		{
			name:  "missing list item is an error naming the path",
			in:    pod,
			edits: []Edit{{Sets: []Set{{Path: []string{"spec", "containers", "[name=api]", "securityContext", "privileged"}, Value: false}}}},
			want:  "path spec.containers[name=api]: no list item with name=api",
		},
		{
			name:  "missing list item is an error for a delete too",
			in:    pod,
			edits: []Edit{{Deletes: []Delete{{Path: []string{"spec", "containers", "[name=api]", "securityContext"}}}}},
			want:  "path spec.containers[name=api]: no list item",
		},
		{
			name:  "list selector on a missing list does not create it",
			in:    pod,
			edits: []Edit{{Sets: []Set{{Path: []string{"spec", "initContainers", "[name=init]", "image"}, Value: "x"}}}},
			want:  "path spec.initContainers[name=init]: is a mapping, not a list",
		},
		{
			name:  "document past the end",
			in:    pod,
			edits: []Edit{{Document: 1, Sets: []Set{{Path: []string{"spec", "hostPID"}, Value: false}}}},
			want:  "document 1: the file has documents 0 to 0",
		},
		{
			name:  "empty document",
			in:    "kind: A\n---\n---\nkind: B\n",
			edits: []Edit{{Document: 1, Sets: []Set{{Path: []string{"spec", "hostPID"}, Value: false}}}},
			want:  "document 1 (line 3): the document is empty",
		},
		{
			name:  "content on the --- line",
			in:    "kind: A\n--- {kind: B}\n",
			edits: []Edit{{Document: 1, Sets: []Set{{Path: []string{"spec", "hostPID"}, Value: false}}}},
			want:  "document 1 (line 2): content on the document's --- line is not supported",
		},
		{
			name:  "path through a scalar",
			in:    pod,
			edits: []Edit{{Sets: []Set{{Path: []string{"metadata", "name", "x"}, Value: "y"}}}},
			want:  `path metadata.name: is a scalar "p", not a mapping`,
		},
		{
			name:  "path ending in a list item",
			in:    pod,
			edits: []Edit{{Sets: []Set{{Path: []string{"spec", "containers", "[name=web]"}, Value: "y"}}}},
			want:  "ends in a list item",
		},
		{
			name:  "item of a document that is not a List",
			in:    pod,
			edits: []Edit{{Item: &two, Sets: []Set{{Path: []string{"spec", "hostPID"}, Value: false}}}},
			want:  "item 2: the document has no items list",
		},
		{
			name:  "item past the end of a List",
			in:    "kind: List\nitems:\n- kind: Pod\n",
			edits: []Edit{{Item: &two, Sets: []Set{{Path: []string{"spec", "hostPID"}, Value: false}}}},
			want:  "item 2: the list has 1 items",
		},
		{
			name:  "value that is not JSON-compatible",
			in:    pod,
			edits: []Edit{{Sets: []Set{{Path: []string{"spec", "x"}, Value: make(chan int)}}}},
			want:  "path spec.x: value of type chan int is not JSON-compatible",
		},
		{
			name:  "JSON file has only document 0",
			in:    `{"kind": "Pod"}`,
			edits: []Edit{{Document: 1}},
			want:  "document 1: the file has documents 0 to 0",
		},
		{
			name:  "invalid JSON stream",
			in:    "{\"kind\": \"Pod\"}\n{\"kind\": ",
			edits: []Edit{{Document: 0}},
			want:  "document 1 (line 2): invalid JSON",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := File([]byte(tt.in), tt.edits)
			if err == nil {
				t.Fatalf("no error, want one containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestFormatPath(t *testing.T) {
	got := FormatPath([]string{"spec", "template", "metadata", "annotations", "seccomp.security.alpha.kubernetes.io/pod"})
	if want := `spec.template.metadata.annotations["seccomp.security.alpha.kubernetes.io/pod"]`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	got = FormatPath([]string{"spec", "containers", "[name=web]", "securityContext"})
	if want := "spec.containers[name=web].securityContext"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
