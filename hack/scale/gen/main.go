// Command gen writes a synthetic cluster for the whole-process benchmark
// (hack/scale/run.sh), shaped like a large GitOps repository:
//
//	DIR/cluster/policies.yaml            the PodSecurityPolicies
//	DIR/cluster/rbac.yaml                a ClusterRole per PSP, one cluster-wide grant
//	DIR/namespaces/NS/namespace.yaml     the Namespace, its ServiceAccounts and RoleBindings
//	DIR/namespaces/NS/workloads-NS-K.yaml   a few workloads per file
//
// N workloads of six kinds (Deployment, StatefulSet, DaemonSet, CronJob,
// Job, bare Pod; some scaled to zero, some running as root, some
// privileged) over N/20 namespaces, N/200+5 PSPs of three shapes
// (restricted, baseline, privileged) with a ClusterRole each, a
// ClusterRoleBinding that lets every service account use the first
// restricted PSP, and one or two RoleBindings per namespace. The security
// settings of the pod templates come in a few shapes, as in real
// clusters; names, labels, images, environment and resources differ per
// workload. -snapshot FILE also writes the same objects as one YAML List,
// as psp2psa snapshot writes a 1.24 cluster.
//
// The output depends only on the flags.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"sigs.k8s.io/yaml"
)

func main() {
	n := flag.Int("n", 1000, "number of workloads")
	out := flag.String("out", "", "directory to write the manifests to (must not exist)")
	perFile := flag.Int("per-file", 5, "workloads per file")
	snapshot := flag.String("snapshot", "", "also write the same objects as one YAML List to this file")
	flag.Parse()
	if *out == "" || *n < 1 || *perFile < 1 {
		fmt.Fprintln(os.Stderr, "usage: gen -n N -out DIR [-per-file K] [-snapshot FILE]")
		os.Exit(2)
	}
	if _, err := os.Stat(*out); err == nil {
		fmt.Fprintf(os.Stderr, "gen: %s exists\n", *out)
		os.Exit(2)
	}
	c := newCluster(*n)
	if err := c.writeRepo(*out, *perFile); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	if *snapshot != "" {
		if err := c.writeSnapshot(*snapshot); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
	}
}

type object = map[string]any

// cluster is the generated cluster: its objects by where they go.
type cluster struct {
	policies, clusterRBAC []object
	namespaces            []namespace
}

type namespace struct {
	name      string
	objects   []object // Namespace, ServiceAccounts, RoleBindings
	workloads []object
}

// shapes of the PSPs, in turn.
const (
	shapeRestricted = iota
	shapeBaseline
	shapePrivileged
	shapes
)

var shapeNames = [shapes]string{"restricted", "baseline", "privileged"}

func newCluster(n int) *cluster {
	nsCount := max(1, n/20)
	pspCount := n/200 + 5
	c := &cluster{}
	var pspNames []string
	for i := range pspCount {
		name := fmt.Sprintf("psp-%03d-%s", i, shapeNames[i%shapes])
		pspNames = append(pspNames, name)
		c.policies = append(c.policies, policy(name, i%shapes))
		c.clusterRBAC = append(c.clusterRBAC, object{
			"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
			"metadata": object{"name": "psp:" + name},
			"rules": []any{object{
				"apiGroups": []any{"policy"}, "resources": []any{"podsecuritypolicies"},
				"verbs": []any{"use"}, "resourceNames": []any{name},
			}},
		})
	}
	// Every service account may use the first restricted PSP.
	c.clusterRBAC = append(c.clusterRBAC, object{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
		"metadata": object{"name": "psp:all-serviceaccounts"},
		"roleRef":  object{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "psp:" + pspNames[0]},
		"subjects": []any{object{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:serviceaccounts"}},
	})
	for i := range nsCount {
		c.namespaces = append(c.namespaces, newNamespace(i, pspNames))
	}
	for w := range n {
		ns := &c.namespaces[w*nsCount/n] // neighbours share a namespace
		ns.workloads = append(ns.workloads, workload(w, ns.name))
	}
	return c
}

func policy(name string, shape int) object {
	spec := object{
		"privileged": false, "allowPrivilegeEscalation": true,
		"hostNetwork": false, "hostPID": false, "hostIPC": false,
		"runAsUser":          object{"rule": "RunAsAny"},
		"seLinux":            object{"rule": "RunAsAny"},
		"supplementalGroups": object{"rule": "RunAsAny"},
		"fsGroup":            object{"rule": "RunAsAny"},
		"volumes":            []any{"configMap", "emptyDir", "projected", "secret", "downwardAPI", "persistentVolumeClaim"},
	}
	annotations := object{}
	switch shape {
	case shapeRestricted: // the Kubernetes docs' restricted PSP
		spec["allowPrivilegeEscalation"] = false
		spec["requiredDropCapabilities"] = []any{"ALL"}
		spec["runAsUser"] = object{"rule": "MustRunAsNonRoot"}
		spec["supplementalGroups"] = object{"rule": "MustRunAs", "ranges": []any{object{"min": 1, "max": 65535}}}
		spec["fsGroup"] = object{"rule": "MustRunAs", "ranges": []any{object{"min": 1, "max": 65535}}}
		spec["readOnlyRootFilesystem"] = false
		annotations["seccomp.security.alpha.kubernetes.io/allowedProfileNames"] = "docker/default,runtime/default"
		annotations["seccomp.security.alpha.kubernetes.io/defaultProfileName"] = "runtime/default"
	case shapeBaseline:
		spec["allowedCapabilities"] = []any{"NET_BIND_SERVICE", "CHOWN"}
	case shapePrivileged:
		spec["privileged"] = true
		spec["allowedCapabilities"] = []any{"*"}
		spec["volumes"] = []any{"*"}
		spec["hostNetwork"], spec["hostPID"], spec["hostIPC"] = true, true, true
		spec["hostPorts"] = []any{object{"min": 0, "max": 65535}}
	}
	meta := object{"name": name}
	if len(annotations) > 0 {
		meta["annotations"] = annotations
	}
	return object{"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy", "metadata": meta, "spec": spec}
}

// newNamespace is the Namespace with its service accounts and bindings:
// every service account of the namespace may use one PSP, and in every
// other namespace the "agent" service account may use a privileged one.
func newNamespace(i int, psps []string) namespace {
	name := fmt.Sprintf("team-%05d", i)
	ns := namespace{name: name}
	labels := object{"team": fmt.Sprintf("team-%d", i%37), "env": []string{"prod", "staging", "dev"}[i%3]}
	ns.objects = append(ns.objects,
		object{"apiVersion": "v1", "kind": "Namespace", "metadata": object{"name": name, "labels": labels}},
		object{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": object{"name": "app", "namespace": name}},
		object{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": object{"name": "agent", "namespace": name},
			"automountServiceAccountToken": false},
		roleBinding(name, "psp:default", psps[i%len(psps)],
			object{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:serviceaccounts:" + name}),
	)
	if i%2 == 0 {
		privileged := psps[shapePrivileged+shapes*(i%(len(psps)/shapes))]
		ns.objects = append(ns.objects, roleBinding(name, "psp:agent", privileged,
			object{"kind": "ServiceAccount", "name": "agent", "namespace": name}))
	}
	return ns
}

func roleBinding(ns, name, psp string, subject object) object {
	return object{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
		"metadata": object{"name": name, "namespace": ns},
		"roleRef":  object{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "psp:" + psp},
		"subjects": []any{subject},
	}
}

var kinds = []string{"Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job", "Pod"}

// workload is the w-th workload: kinds in turn, security settings in one
// of a few shapes, everything else its own.
func workload(w int, ns string) object {
	kind := kinds[w%len(kinds)]
	name := fmt.Sprintf("%s-%06d", map[string]string{
		"Deployment": "web", "StatefulSet": "db", "DaemonSet": "agent", "CronJob": "report", "Job": "migrate", "Pod": "debug",
	}[kind], w)
	labels := object{"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": fmt.Sprintf("system-%d", w%53)}
	meta := object{"name": name, "namespace": ns, "labels": labels,
		"annotations": object{"example.com/owner": fmt.Sprintf("team-%d@example.com", w%37)}}
	spec := podSpec(w, name)
	template := object{"metadata": object{"labels": labels}, "spec": spec}
	obj := object{"metadata": meta}
	switch kind {
	case "Deployment", "StatefulSet", "DaemonSet":
		obj["apiVersion"] = "apps/v1"
		body := object{"selector": object{"matchLabels": object{"app.kubernetes.io/name": name}}, "template": template}
		if kind != "DaemonSet" {
			body["replicas"] = []int{3, 2, 1, 0}[w%4] // some scaled to zero
		}
		if kind == "StatefulSet" {
			body["serviceName"] = name
		}
		obj["spec"] = body
	case "CronJob":
		obj["apiVersion"] = "batch/v1"
		spec["restartPolicy"] = "OnFailure"
		obj["spec"] = object{"schedule": fmt.Sprintf("%d %d * * *", w%60, w%24),
			"jobTemplate": object{"spec": object{"template": template}}}
	case "Job":
		obj["apiVersion"] = "batch/v1"
		spec["restartPolicy"] = "Never"
		obj["spec"] = object{"backoffLimit": 2, "template": template}
	case "Pod":
		obj["apiVersion"] = "v1"
		obj["spec"] = spec
	}
	obj["kind"] = kind
	return obj
}

// podSpec is the workload's pod spec. The security settings take one of
// eight shapes (w*7 walks them independently of the kind): half set
// nothing, which a mutating PSP fills in.
func podSpec(w int, name string) object {
	container := object{
		"name":  "app",
		"image": fmt.Sprintf("registry.example.com/%s:%d.%d.%d", name[:len(name)-7], w%5, w%17, w),
		"ports": []any{object{"name": "http", "containerPort": 8000 + w%1000}},
		"env": []any{
			object{"name": "APP_NAME", "value": name},
			object{"name": "LOG_LEVEL", "value": []string{"info", "debug", "warn"}[w%3]},
			object{"name": "POD_IP", "valueFrom": object{"fieldRef": object{"fieldPath": "status.podIP"}}},
		},
		"resources": object{
			"requests": object{"cpu": fmt.Sprintf("%dm", 50+w%200), "memory": fmt.Sprintf("%dMi", 64+w%512)},
			"limits":   object{"cpu": fmt.Sprintf("%dm", 500+w%1000), "memory": fmt.Sprintf("%dMi", 256+w%1024)},
		},
		"volumeMounts": []any{object{"name": "config", "mountPath": "/etc/app"}},
	}
	spec := object{
		"containers": []any{container},
		"volumes":    []any{object{"name": "config", "configMap": object{"name": name}}},
	}
	if w%3 == 0 {
		spec["containers"] = append(spec["containers"].([]any), object{
			"name": "proxy", "image": "registry.example.com/proxy:2.4.1",
			"args":      []any{"--upstream=127.0.0.1:" + fmt.Sprint(8000+w%1000)},
			"resources": object{"requests": object{"cpu": "10m", "memory": "32Mi"}},
		})
	}
	switch (w * 7) % 8 {
	case 0, 1, 2, 3: // nothing set
	case 4: // already restricted
		spec["securityContext"] = object{"runAsNonRoot": true, "seccompProfile": object{"type": "RuntimeDefault"}}
		container["securityContext"] = object{"allowPrivilegeEscalation": false, "capabilities": object{"drop": []any{"ALL"}}}
	case 5:
		container["securityContext"] = object{"runAsUser": 1000, "runAsGroup": 1000}
	case 6: // runs as root
		container["securityContext"] = object{"runAsUser": 0}
	case 7: // privileged, as the agent
		spec["serviceAccountName"] = "agent"
		container["securityContext"] = object{"privileged": true}
		spec["volumes"] = append(spec["volumes"].([]any), object{"name": "host", "hostPath": object{"path": "/var/log"}})
	}
	return spec
}

// writeRepo writes the GitOps layout.
func (c *cluster) writeRepo(dir string, perFile int) error {
	if err := writeObjects(filepath.Join(dir, "cluster", "policies.yaml"), c.policies); err != nil {
		return err
	}
	if err := writeObjects(filepath.Join(dir, "cluster", "rbac.yaml"), c.clusterRBAC); err != nil {
		return err
	}
	for _, ns := range c.namespaces {
		nsDir := filepath.Join(dir, "namespaces", ns.name)
		if err := writeObjects(filepath.Join(nsDir, "namespace.yaml"), ns.objects); err != nil {
			return err
		}
		for k := 0; k*perFile < len(ns.workloads); k++ {
			part := ns.workloads[k*perFile : min(len(ns.workloads), (k+1)*perFile)]
			// Names unique in the whole repository, which psp2psa patch
			// needs to put the copies side by side.
			if err := writeObjects(filepath.Join(nsDir, fmt.Sprintf("workloads-%s-%02d.yaml", ns.name, k)), part); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeObjects writes a multi-document YAML file, each document after a
// comment naming it, as hand-kept manifests often are.
func writeObjects(path string, objects []object) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var b bytes.Buffer
	for i, obj := range objects {
		if i > 0 {
			b.WriteString("---\n")
		}
		meta := obj["metadata"].(object)
		fmt.Fprintf(&b, "# %s %s\n", obj["kind"], meta["name"])
		y, err := yaml.Marshal(obj)
		if err != nil {
			return err
		}
		b.Write(y)
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// writeSnapshot writes the objects as psp2psa snapshot writes a read of a
// 1.24 cluster: one List, kinds in the reader's order.
func (c *cluster) writeSnapshot(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriter(f)
	bw.WriteString("# psp2psa snapshot of a generated cluster (Kubernetes v1.24.17), all namespaces\n")
	bw.WriteString("apiVersion: v1\nkind: List\nmetadata:\n  annotations:\n    psp2psa.io/server-version: v1.24.17\nitems:\n")
	byKind := map[string][]object{}
	add := func(objs []object) {
		for _, o := range objs {
			byKind[o["kind"].(string)] = append(byKind[o["kind"].(string)], o)
		}
	}
	add(c.policies)
	add(c.clusterRBAC)
	for _, ns := range c.namespaces {
		add(ns.objects)
		add(ns.workloads)
	}
	for _, kind := range []string{"PodSecurityPolicy", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
		"Namespace", "ServiceAccount", "Pod", "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"} {
		for _, o := range byKind[kind] {
			y, err := yaml.Marshal(o)
			if err != nil {
				return err
			}
			for i, line := range bytes.SplitAfter(y, []byte("\n")) {
				switch {
				case i == 0:
					bw.WriteString("- ")
				case len(bytes.TrimSpace(line)) > 0:
					bw.WriteString("  ")
				}
				bw.Write(line)
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return f.Close()
}
