package rewrite

import (
	"errors"
	"testing"
)

func TestEditsRefuseAnotherObject(t *testing.T) {
	const file = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec: {}\n" +
		"---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: p\n  spec: {}\n"
	set := []Set{{Path: []string{"spec", "x"}, Value: true}}
	item0 := 0
	tests := []struct {
		name  string
		edit  Edit
		wrong bool
	}{
		{"the object read there", Edit{Document: 0, Object: Object{Kind: "Deployment", Namespace: "shop", Name: "web"}, Sets: set}, false},
		{"a List item read there", Edit{Document: 1, Item: &item0, Object: Object{Kind: "Pod", Name: "p"}, Sets: set}, false},
		{"another name", Edit{Document: 0, Object: Object{Kind: "Deployment", Namespace: "shop", Name: "api"}, Sets: set}, true},
		{"another namespace", Edit{Document: 0, Object: Object{Kind: "Deployment", Namespace: "shop2", Name: "web"}, Sets: set}, true},
		{"a namespace the document does not state", Edit{Document: 1, Item: &item0, Object: Object{Kind: "Pod", Namespace: "default", Name: "p"}, Sets: set}, true},
		{"another kind", Edit{Document: 0, Object: Object{Kind: "StatefulSet", Namespace: "shop", Name: "web"}, Sets: set}, true},
		{"the List rather than its item", Edit{Document: 1, Object: Object{Kind: "Pod", Name: "p"}, Sets: set}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := File([]byte(file), []Edit{tt.edit})
			var wrong *WrongObjectError
			if got := errors.As(err, &wrong); got != tt.wrong {
				t.Fatalf("File: %v; want a WrongObjectError: %v", err, tt.wrong)
			}
			if tt.wrong && out != nil {
				t.Errorf("File returned output with a refused edit:\n%s", out)
			}
			if !tt.wrong && err != nil {
				t.Errorf("File: %v", err)
			}
		})
	}
}
