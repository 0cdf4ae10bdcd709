package nslabels

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

const (
	enforce        = Prefix + "enforce"
	enforceVersion = Prefix + "enforce-version"
	warn           = Prefix + "warn"
)

func TestDiff(t *testing.T) {
	planned := map[string]string{enforce: "restricted", enforceVersion: "v1.37", warn: "restricted"}
	tests := []struct {
		name      string
		live      map[string]string
		planned   map[string]string
		overwrite bool
		want      []LabelChange
		wantSet   map[string]string
	}{
		{
			name:    "namespace without labels gets every planned label",
			live:    nil,
			planned: planned,
			want: []LabelChange{
				{Key: enforce, Action: Add, Planned: "restricted"},
				{Key: enforceVersion, Action: Add, Planned: "v1.37"},
				{Key: warn, Action: Add, Planned: "restricted"},
			},
			wantSet: planned,
		},
		{
			name:    "existing different value is kept without overwrite",
			live:    map[string]string{enforce: "baseline"},
			planned: planned,
			want: []LabelChange{
				{Key: enforce, Action: Keep, Planned: "restricted", Live: "baseline"},
				{Key: enforceVersion, Action: Add, Planned: "v1.37"},
				{Key: warn, Action: Add, Planned: "restricted"},
			},
			wantSet: map[string]string{enforceVersion: "v1.37", warn: "restricted"},
		},
		{
			name:      "existing different value is replaced with overwrite",
			live:      map[string]string{enforce: "baseline"},
			planned:   planned,
			overwrite: true,
			want: []LabelChange{
				{Key: enforce, Action: Change, Planned: "restricted", Live: "baseline"},
				{Key: enforceVersion, Action: Add, Planned: "v1.37"},
				{Key: warn, Action: Add, Planned: "restricted"},
			},
			wantSet: planned,
		},
		{
			name:      "equal values need no patch, even with overwrite",
			live:      map[string]string{enforce: "restricted", enforceVersion: "v1.37", warn: "restricted"},
			planned:   planned,
			overwrite: true,
			want: []LabelChange{
				{Key: enforce, Action: Equal, Planned: "restricted", Live: "restricted"},
				{Key: enforceVersion, Action: Equal, Planned: "v1.37", Live: "v1.37"},
				{Key: warn, Action: Equal, Planned: "restricted", Live: "restricted"},
			},
			wantSet: map[string]string{},
		},
		{
			name:    "an empty live value is a value: kept without overwrite",
			live:    map[string]string{warn: ""},
			planned: map[string]string{warn: "restricted"},
			want:    []LabelChange{{Key: warn, Action: Keep, Planned: "restricted"}},
			wantSet: map[string]string{},
		},
		{
			name:    "live labels outside the plan are not mentioned",
			live:    map[string]string{"team": "shop", Prefix + "audit": "baseline", enforce: "restricted"},
			planned: map[string]string{enforce: "restricted"},
			want:    []LabelChange{{Key: enforce, Action: Equal, Planned: "restricted", Live: "restricted"}},
			wantSet: map[string]string{},
		},
		{
			name:      "planned labels without the pod-security prefix are never set",
			live:      map[string]string{"team": "shop"},
			planned:   map[string]string{"team": "other", "kubernetes.io/metadata.name": "x", enforce: "baseline"},
			overwrite: true,
			want:      []LabelChange{{Key: enforce, Action: Add, Planned: "baseline"}},
			wantSet:   map[string]string{enforce: "baseline"},
		},
		{
			name:    "a look-alike prefix is not the pod-security prefix",
			planned: map[string]string{"pod-security.kubernetes.io.evil/enforce": "privileged", "x." + enforce: "privileged"},
			want:    []LabelChange{},
			wantSet: map[string]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Diff(tt.live, tt.planned, tt.overwrite)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Diff:\n got %+v\nwant %+v", got, tt.want)
			}
			if set := ToSet(got); !reflect.DeepEqual(set, tt.wantSet) {
				t.Errorf("ToSet = %v, want %v", set, tt.wantSet)
			}
		})
	}
}

func TestMergePatch(t *testing.T) {
	t.Run("sets only the labels and the resourceVersion precondition", func(t *testing.T) {
		body, err := MergePatch(map[string]string{enforce: "restricted"}, "42")
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("patch is not JSON: %v", err)
		}
		want := map[string]any{"metadata": map[string]any{
			"labels":          map[string]any{enforce: "restricted"},
			"resourceVersion": "42",
		}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("patch = %s", body)
		}
	})
	t.Run("without a resourceVersion there is no precondition", func(t *testing.T) {
		body, err := MergePatch(map[string]string{enforce: "restricted"}, "")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(body), "resourceVersion") {
			t.Errorf("patch %s has a resourceVersion", body)
		}
	})
	t.Run("refuses a label outside the prefix", func(t *testing.T) {
		if body, err := MergePatch(map[string]string{"team": "x"}, "1"); err == nil {
			t.Errorf("MergePatch accepted a non-pod-security label: %s", body)
		}
	})
}
