package inventory

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/internal/testinputs"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func corpusFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	for _, sub := range []string{"psp", "workloads"} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Name() != "INDEX.tsv" {
				files = append(files, filepath.Join(dir, sub, e.Name()))
			}
		}
	}
	sort.Strings(files)
	return files
}

// TestCorpusInventory loads every corpus file and compares a summary of
// what the inventory found with testdata/inventory/corpus.golden.
func TestCorpusInventory(t *testing.T) {
	dir := testinputs.CorpusDir(t)
	var b strings.Builder
	for _, file := range corpusFiles(t, dir) {
		inv, errs := FromDocuments(readDocuments(t, file), "")
		for _, err := range errs {
			t.Errorf("%v", err)
		}
		rel, _ := filepath.Rel(dir, file)
		fmt.Fprintf(&b, "%s\n", rel)
		summarise(&b, inv)
	}
	golden := filepath.Join(fixtures, "corpus.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if b.String() != string(want) {
		t.Errorf("corpus inventory differs from %s (run with -update and review the diff):\n%s", golden, b.String())
	}
}

func summarise(b *strings.Builder, inv *Inventory) {
	for _, ns := range inv.Namespaces {
		fmt.Fprintf(b, "  Namespace %s\n", ns.Name)
	}
	for _, sa := range inv.ServiceAccounts {
		fmt.Fprintf(b, "  ServiceAccount %s/%s\n", sa.Namespace, sa.Name)
	}
	for _, r := range inv.Roles {
		fmt.Fprintf(b, "  Role %s/%s rules=%d\n", r.Namespace, r.Name, len(r.Rules))
	}
	for _, r := range inv.ClusterRoles {
		fmt.Fprintf(b, "  ClusterRole %s rules=%d\n", r.Name, len(r.Rules))
	}
	for _, rb := range inv.RoleBindings {
		fmt.Fprintf(b, "  RoleBinding %s/%s -> %s %s subjects=%d\n", rb.Namespace, rb.Name, rb.RoleRef.Kind, rb.RoleRef.Name, len(rb.Subjects))
	}
	for _, crb := range inv.ClusterRoleBindings {
		fmt.Fprintf(b, "  ClusterRoleBinding %s -> %s %s subjects=%d\n", crb.Name, crb.RoleRef.Kind, crb.RoleRef.Name, len(crb.Subjects))
	}
	for _, w := range inv.Workloads {
		fmt.Fprintf(b, "  %s %s %s/%s sa=%s template=%q containers=%d initContainers=%d\n", w.APIVersion, w.Kind, w.Namespace, w.Name,
			w.ServiceAccount, strings.Join(w.TemplatePath, "."), len(w.Template.Spec.Containers), len(w.Template.Spec.InitContainers))
	}
	var unknown []string
	for k, n := range inv.Unknown {
		unknown = append(unknown, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(unknown)
	if len(unknown) > 0 {
		fmt.Fprintf(b, "  unknown: %s\n", strings.Join(unknown, " "))
	}
}
