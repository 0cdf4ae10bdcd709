package rewrite

import (
	"encoding/json"
	"testing"

	"github.com/psp2psa/psp2psa/manifest"
)

func TestFileJSON(t *testing.T) {
	zero := 0
	tests := []struct {
		name  string
		in    string
		edits []Edit
		want  string
	}{
		{
			name: "kubectl-style JSON keeps key order and four-space indent",
			in: `{
    "kind": "Pod",
    "apiVersion": "v1",
    "metadata": {
        "name": "p",
        "annotations": {
            "seccomp.security.alpha.kubernetes.io/pod": "runtime/default"
        }
    },
    "spec": {
        "containers": [
            {
                "name": "web",
                "image": "nginx"
            }
        ]
    }
}
`,
			edits: []Edit{{
				Deletes: []Delete{{Path: []string{"metadata", "annotations", "seccomp.security.alpha.kubernetes.io/pod"}}},
				Sets: []Set{
					{Path: []string{"spec", "securityContext", "seccompProfile"}, Value: map[string]any{"type": "RuntimeDefault"}},
					{Path: []string{"spec", "containers", "[name=web]", "securityContext", "runAsUser"}, Value: int64(1000)},
					{Path: []string{"spec", "containers", "[name=web]", "securityContext", "capabilities", "drop"}, Value: []string{"ALL"}},
				},
			}},
			want: `{
    "kind": "Pod",
    "apiVersion": "v1",
    "metadata": {
        "name": "p"
    },
    "spec": {
        "containers": [
            {
                "name": "web",
                "image": "nginx",
                "securityContext": {
                    "runAsUser": 1000,
                    "capabilities": {
                        "drop": [
                            "ALL"
                        ]
                    }
                }
            }
        ],
        "securityContext": {
            "seccompProfile": {
                "type": "RuntimeDefault"
            }
        }
    }
}
`,
		},
		{
			name:  "one-line JSON stays on one line",
			in:    `{"kind":"Pod","spec":{"hostPID":true,"note":"a<b"}}`,
			edits: []Edit{{Sets: []Set{{Path: []string{"spec", "hostPID"}, Value: false}}}},
			want:  `{"kind":"Pod","spec":{"hostPID":false,"note":"a<b"}}`,
		},
		{
			name:  "edit that changes nothing keeps the text",
			in:    "{ \"kind\" : \"Pod\", \"spec\" : { \"hostPID\" : false } }\n",
			edits: []Edit{{Sets: []Set{{Path: []string{"spec", "hostPID"}, Value: false}}}},
			want:  "{ \"kind\" : \"Pod\", \"spec\" : { \"hostPID\" : false } }\n",
		},
		{
			name:  "second value of a JSON stream; the first keeps its text",
			in:    "{ \"kind\" : \"Pod\",\n  \"spec\" : { \"hostPID\" : true } }\n{\"kind\": \"Pod\", \"spec\": {\"hostPID\": true}}\n",
			edits: []Edit{{Document: 1, Sets: []Set{{Path: []string{"spec", "hostPID"}, Value: false}}}},
			want:  "{ \"kind\" : \"Pod\",\n  \"spec\" : { \"hostPID\" : true } }\n{\"kind\":\"Pod\",\"spec\":{\"hostPID\":false}}\n",
		},
		{
			name:  "CRLF JSON keeps its line endings",
			in:    "{\r\n  \"kind\": \"Pod\",\r\n  \"spec\": {\"hostIPC\": true}\r\n}\r\n",
			edits: []Edit{{Sets: []Set{{Path: []string{"spec", "hostIPC"}, Value: false}}}},
			want:  "{\r\n  \"kind\": \"Pod\",\r\n  \"spec\": {\r\n    \"hostIPC\": false\r\n  }\r\n}\r\n",
		},
		{
			name: "List item in JSON",
			in: `{
  "kind": "List",
  "items": [
    {"kind": "Pod", "spec": {"hostIPC": true, "priority": 1.5}}
  ]
}
`,
			edits: []Edit{{Item: &zero, Sets: []Set{{Path: []string{"spec", "hostIPC"}, Value: false}}}},
			want: `{
  "kind": "List",
  "items": [
    {
      "kind": "Pod",
      "spec": {
        "hostIPC": false,
        "priority": 1.5
      }
    }
  ]
}
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
			spans, err := manifest.Spans(got)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range spans {
				if !json.Valid(got[s.Start:s.End]) {
					t.Fatalf("document %d is not JSON", s.Index)
				}
			}
			again, err := File(got, tt.edits)
			if err != nil {
				t.Fatal(err)
			}
			if string(again) != string(got) {
				t.Fatalf("second application changed the file:\n%s", again)
			}
		})
	}
}
