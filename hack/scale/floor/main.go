// Command floor is the yardstick of the whole-process benchmark
// (hack/scale/run.sh): it reads the same manifests psp2psa plan reads,
// decodes each workload into its Kubernetes type with sigs.k8s.io/yaml, and
// evaluates each pod template once with the Pod Security Admission
// evaluator (restricted, latest), on all cores. No tool that plans every
// workload can be faster than reading and evaluating them once.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/yaml"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: floor DIR...")
		os.Exit(2)
	}
	eval, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		panic(err)
	}
	restricted := api.LevelVersion{Level: api.LevelRestricted, Version: api.LatestVersion()}
	docs := make(chan []byte, 1024)
	var workloads, allowed atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for doc := range docs {
				meta, spec, ok := template(doc)
				if !ok {
					continue
				}
				workloads.Add(1)
				if policy.AggregateCheckResults(eval.EvaluatePod(restricted, meta, spec)).Allowed {
					allowed.Add(1)
				}
			}
		})
	}
	for _, root := range os.Args[1:] {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || filepath.Ext(path) != ".yaml" {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, doc := range bytes.Split(data, []byte("\n---\n")) {
				docs <- doc
			}
			return nil
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "floor:", err)
			os.Exit(1)
		}
	}
	close(docs)
	wg.Wait()
	fmt.Printf("%d workloads, %d restricted\n", workloads.Load(), allowed.Load())
}

// template decodes a workload document into its type and returns its pod
// template; ok is false for other kinds.
func template(doc []byte) (*metav1.ObjectMeta, *corev1.PodSpec, bool) {
	// One YAML parse per document, as sigs.k8s.io/yaml.Unmarshal does;
	// the kind is read from the JSON.
	js, err := yaml.YAMLToJSON(doc)
	if err != nil {
		panic(err)
	}
	var head metav1.TypeMeta
	if err := json.Unmarshal(js, &head); err != nil {
		panic(err)
	}
	var t *corev1.PodTemplateSpec
	switch head.Kind {
	case "Deployment":
		var o appsv1.Deployment
		t = &o.Spec.Template
		decode(js, &o)
	case "StatefulSet":
		var o appsv1.StatefulSet
		t = &o.Spec.Template
		decode(js, &o)
	case "DaemonSet":
		var o appsv1.DaemonSet
		t = &o.Spec.Template
		decode(js, &o)
	case "Job":
		var o batchv1.Job
		t = &o.Spec.Template
		decode(js, &o)
	case "CronJob":
		var o batchv1.CronJob
		t = &o.Spec.JobTemplate.Spec.Template
		decode(js, &o)
	case "Pod":
		var o corev1.Pod
		decode(js, &o)
		return &o.ObjectMeta, &o.Spec, true
	default:
		return nil, nil, false
	}
	return &t.ObjectMeta, &t.Spec, true
}

func decode(js []byte, into any) {
	if err := json.Unmarshal(js, into); err != nil {
		panic(err)
	}
}
