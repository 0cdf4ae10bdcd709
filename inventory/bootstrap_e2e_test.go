package inventory

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/internal/testcluster"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

func TestMain(m *testing.M) { os.Exit(testcluster.Main(m, "v1.24", "v1.37")) }

// TestBootstrapAggregatorsAreTheAPIServers: the admin, edit and view the
// inventory assumes are those the apiserver creates, in the oldest and the
// newest release: the same aggregation rules and aggregation labels.
func TestBootstrapAggregatorsAreTheAPIServers(t *testing.T) {
	for _, version := range []string{"v1.24", "v1.37"} {
		t.Run(version, func(t *testing.T) {
			cs := kubernetes.NewForConfigOrDie(testcluster.Get(t, version).AdminConfig())
			for _, want := range BootstrapAggregators() {
				got, err := cs.RbacV1().ClusterRoles().Get(context.Background(), want.Name, metav1.GetOptions{})
				if err != nil {
					t.Fatalf("ClusterRole %s: %v", want.Name, err)
				}
				if !equality.Semantic.DeepEqual(got.AggregationRule, want.AggregationRule) {
					t.Errorf("%s aggregates %+v, the apiserver's %+v", want.Name, want.AggregationRule, got.AggregationRule)
				}
				if g, w := aggregationLabels(got.Labels), aggregationLabels(want.Labels); !equality.Semantic.DeepEqual(g, w) {
					t.Errorf("%s is labelled %v, the apiserver's %v", want.Name, w, g)
				}
			}
		})
	}
}

func aggregationLabels(labels map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range labels {
		if strings.HasPrefix(k, "rbac.authorization.k8s.io/aggregate-to-") {
			out[k] = v
		}
	}
	return out
}
