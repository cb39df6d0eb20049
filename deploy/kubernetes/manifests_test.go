// The manifests, checked offline: no cluster can run here, so each
// kustomization is built with the real kustomize, every object it makes is
// decoded strictly into the Kubernetes API's own Go types, and the configs
// the ConfigMaps carry are loaded by the real Jaeger. `make manifests` runs
// it, and `make test` runs that.
package kubernetes

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"
)

var (
	kustomizeBin = flag.String("kustomize", "../../bin/kustomize", "kustomize, built by `make kustomize`")
	jaegerBin    = flag.String("jaeger", "../../bin/jaeger", "Jaeger v2, built by `make jaeger`")
	otelcolBin   = flag.String("otelcol", "../../bin/otelcol", "the OpenTelemetry Collector, built by `make otelcol`")
)

// kustomizations are the folders a user can `kubectl apply -k`.
var kustomizations = []string{"base", "overlays/tail-sampling-at-scale"}

// objects is what one kustomization makes, decoded.
type objects struct {
	namespaces      []corev1.Namespace
	configMaps      []corev1.ConfigMap
	services        []corev1.Service
	deployments     []appsv1.Deployment
	statefulSets    []appsv1.StatefulSet
	networkPolicies []networkingv1.NetworkPolicy
	budgets         []policyv1.PodDisruptionBudget
	named           []name // every object, of every kind
}

// name is where an object is: its kind, name and namespace.
type name struct{ Kind, Name, Namespace string }

// build runs `kustomize build dir` and decodes each object strictly: a
// field that the API does not know, or a value of the wrong type, is an
// error, as the API server would refuse it.
func build(t *testing.T, dir string) objects {
	t.Helper()
	out, err := exec.Command(*kustomizeBin, "build", dir).Output()
	if err != nil {
		t.Fatalf("kustomize build %s: %v\n%s", dir, err, stderrOf(err))
	}
	var objs objects
	for _, doc := range strings.Split(string(out), "\n---\n") {
		if err := objs.add([]byte(doc)); err != nil {
			t.Errorf("kustomize build %s: %v\n%s", dir, err, doc)
		}
	}
	return objs
}

func (o *objects) add(doc []byte) error {
	var head struct {
		APIVersion, Kind string
		Metadata         struct{ Name, Namespace string }
	}
	if err := yaml.Unmarshal(doc, &head); err != nil {
		return err
	}
	o.named = append(o.named, name{head.Kind, head.Metadata.Name, head.Metadata.Namespace})
	switch head.APIVersion + " " + head.Kind {
	case "v1 Namespace":
		return decodeInto(doc, &o.namespaces)
	case "networking.k8s.io/v1 NetworkPolicy":
		return decodeInto(doc, &o.networkPolicies)
	case "policy/v1 PodDisruptionBudget":
		return decodeInto(doc, &o.budgets)
	case "v1 ConfigMap":
		return decodeInto(doc, &o.configMaps)
	case "v1 Service":
		return decodeInto(doc, &o.services)
	case "apps/v1 Deployment":
		return decodeInto(doc, &o.deployments)
	case "apps/v1 StatefulSet":
		return decodeInto(doc, &o.statefulSets)
	}
	return fmt.Errorf("%s %s: a kind this check does not know; teach it", head.APIVersion, head.Kind)
}

func decodeInto[T any](doc []byte, list *[]T) error {
	var obj T
	if err := yaml.UnmarshalStrict(doc, &obj); err != nil {
		return err
	}
	*list = append(*list, obj)
	return nil
}

func stderrOf(err error) string {
	if exitErr, ok := err.(*exec.ExitError); ok {
		return string(exitErr.Stderr)
	}
	return ""
}

// workload is a Deployment's or a StatefulSet's name and pod template.
type workload struct {
	kind, name string
	replicas   int32
	template   corev1.PodTemplateSpec
	object     runtime.Object // the Deployment or StatefulSet itself
}

func (o objects) workloads() []workload {
	var ws []workload
	for _, d := range o.deployments {
		ws = append(ws, workload{"Deployment", d.Name, ptr.Deref(d.Spec.Replicas, 1), d.Spec.Template, &d})
	}
	for _, s := range o.statefulSets {
		ws = append(ws, workload{"StatefulSet", s.Name, ptr.Deref(s.Spec.Replicas, 1), s.Spec.Template, &s})
	}
	return ws
}

// workload returns the workload called name, or fails the test.
func (o objects) workload(t *testing.T, name string) workload {
	t.Helper()
	for _, w := range o.workloads() {
		if w.name == name {
			return w
		}
	}
	t.Fatalf("no workload %s", name)
	return workload{}
}

// TestStrictDecoding: the check itself refuses what the API server would.
func TestStrictDecoding(t *testing.T) {
	var objs objects
	ok := "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  ports:\n    - port: 80\n"
	if err := objs.add([]byte(ok)); err != nil {
		t.Fatalf("a valid Service: %v", err)
	}
	for name, doc := range map[string]string{
		"unknown field":  strings.Replace(ok, "  ports:", "  portz:", 1),
		"wrong type":     strings.Replace(ok, "port: 80", "port: eighty", 1),
		"duplicated key": ok + "  ports: []\n",
		"unknown kind":   "apiVersion: v1\nkind: Servise\n",
	} {
		if err := objs.add([]byte(doc)); err == nil {
			t.Errorf("%s: decoded without error:\n%s", name, doc)
		}
	}
}

// imagePinned: a tag other than latest, or a digest.
var imagePinned = regexp.MustCompile(`^[^:@]+(:[\w][\w.-]*|@sha256:[0-9a-f]{64})$`)

// TestManifests builds every kustomization and checks what a cluster
// operator expects of each container, and that the objects fit together.
func TestManifests(t *testing.T) {
	for _, dir := range kustomizations {
		t.Run(dir, func(t *testing.T) {
			objs := build(t, dir)
			if len(objs.workloads()) == 0 {
				t.Fatal("no workload")
			}
			for _, w := range objs.workloads() {
				checkPod(t, w, objs)
			}
			for _, svc := range objs.services {
				checkService(t, svc, objs.workloads())
			}
		})
	}
}

func checkPod(t *testing.T, w workload, objs objects) {
	pod := w.template.Spec
	podNonRoot := pod.SecurityContext != nil && pod.SecurityContext.RunAsNonRoot != nil && *pod.SecurityContext.RunAsNonRoot
	for _, c := range pod.Containers {
		where := w.name + "/" + c.Name
		if !imagePinned.MatchString(c.Image) || strings.HasSuffix(c.Image, ":latest") {
			t.Errorf("%s: image %q is not pinned to a tag or a digest", where, c.Image)
		}
		if c.ReadinessProbe == nil || c.LivenessProbe == nil {
			t.Errorf("%s: wants a readiness and a liveness probe", where)
		}
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if _, ok := c.Resources.Requests[r]; !ok {
				t.Errorf("%s: no %s request", where, r)
			}
			if _, ok := c.Resources.Limits[r]; !ok {
				t.Errorf("%s: no %s limit", where, r)
			}
		}
		sc := c.SecurityContext
		nonRoot := podNonRoot || sc != nil && sc.RunAsNonRoot != nil && *sc.RunAsNonRoot
		if !nonRoot {
			t.Errorf("%s: runAsNonRoot is not set", where)
		}
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			t.Errorf("%s: readOnlyRootFilesystem is not set", where)
		}
		if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Errorf("%s: allowPrivilegeEscalation is not false", where)
		}
		// A probe or a Service may name a port: it must exist.
		for _, p := range []*corev1.Probe{c.ReadinessProbe, c.LivenessProbe} {
			if p != nil && p.HTTPGet != nil && p.HTTPGet.Port.StrVal != "" && !hasPort(c, p.HTTPGet.Port.StrVal) {
				t.Errorf("%s: a probe asks port %q, which the container does not name", where, p.HTTPGet.Port.StrVal)
			}
		}
		for _, from := range c.EnvFrom {
			if from.ConfigMapRef != nil && !slices.ContainsFunc(objs.configMaps, named(from.ConfigMapRef.Name)) {
				t.Errorf("%s: envFrom names ConfigMap %q, which the build does not make", where, from.ConfigMapRef.Name)
			}
		}
	}
	for _, v := range pod.Volumes {
		if v.ConfigMap != nil && !slices.ContainsFunc(objs.configMaps, named(v.ConfigMap.Name)) {
			t.Errorf("%s: volume %q names ConfigMap %q, which the build does not make", w.name, v.Name, v.ConfigMap.Name)
		}
	}
}

func named(name string) func(corev1.ConfigMap) bool {
	return func(cm corev1.ConfigMap) bool { return cm.Name == name }
}

func hasPort(c corev1.Container, name string) bool {
	return slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == name })
}

// checkService: a Service selects at least one workload, and every port it
// targets by name is a port of the selected containers.
func checkService(t *testing.T, svc corev1.Service, workloads []workload) {
	var selected []workload
	for _, w := range workloads {
		if len(svc.Spec.Selector) > 0 && matches(svc.Spec.Selector, w.template.Labels) {
			selected = append(selected, w)
		}
	}
	if len(selected) == 0 {
		t.Errorf("Service %s selects no workload", svc.Name)
		return
	}
	for _, p := range svc.Spec.Ports {
		name := p.TargetPort.StrVal
		if name == "" {
			continue
		}
		for _, w := range selected {
			if !slices.ContainsFunc(w.template.Spec.Containers, func(c corev1.Container) bool { return hasPort(c, name) }) {
				t.Errorf("Service %s targets port %q, which %s does not name", svc.Name, name, w.name)
			}
		}
	}
}

func matches(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// TestConfigsLoad: every config that a ConfigMap carries, and the
// production store's, loads in the real binary it is for (`validate`):
// Jaeger's in Jaeger, the routing tier's in the Collector, each with its
// components and their settings.
func TestConfigsLoad(t *testing.T) {
	type config struct{ bin, content string }
	configs := map[string]config{} // where: the config
	for _, dir := range kustomizations {
		for _, cm := range build(t, dir).configMaps {
			switch {
			case strings.HasPrefix(cm.Name, "jaeger-"):
				configs[dir+", ConfigMap "+cm.Name] = config{*jaegerBin, cm.Data["config.yaml"]}
			case strings.HasPrefix(cm.Name, "otel-collector-"):
				configs[dir+", ConfigMap "+cm.Name] = config{*otelcolBin, cm.Data["config.yaml"]}
			}
		}
	}
	production, _ := filepath.Glob("production/jaeger-*.yaml")
	for _, file := range production {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		configs[file] = config{*jaegerBin, string(b)}
	}
	if len(configs) < 5 {
		t.Errorf("found %d configs, want Jaeger's of the base, the sampler, the store and production, and the Collector's", len(configs))
	}
	for where, c := range configs {
		file := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(file, []byte(c.content), 0o600); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		cmd := exec.Command(c.bin, "validate", "--config", "file:"+file)
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Errorf("%s: %s validate: %v\n%s", where, filepath.Base(c.bin), err, out.String())
		}
	}
	t.Logf("%d configs loaded", len(configs))
}

// TestSamplerPoliciesMatch: the tail samplers at scale decide as the
// single Jaeger of jaeger/tail-sampling.yaml, whose policies the sampling
// tests prove.
func TestSamplerPoliciesMatch(t *testing.T) {
	policies := func(file string) any {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var cfg struct {
			Processors map[string]any `json:"processors"`
		}
		if err := yaml.Unmarshal(b, &cfg); err != nil {
			t.Fatal(err)
		}
		return cfg.Processors["tail_sampling"]
	}
	want := policies("../../jaeger/tail-sampling.yaml")
	got := policies("overlays/tail-sampling-at-scale/jaeger-sampler-config.yaml")
	if want == nil || !reflect.DeepEqual(got, want) {
		t.Errorf("the sampler's tail_sampling differs from jaeger/tail-sampling.yaml's:\n got %v\nwant %v", got, want)
	}
}
