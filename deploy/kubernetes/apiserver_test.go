//go:build apiserver

// The manifests, applied to a real API server: `make k8s-test`, part of
// `make test`. Where manifests_test.go decodes each object offline, this
// sends it, as `kubectl apply --server-side` would, to a real
// kube-apiserver and etcd (cluster_test.go), which default its fields,
// validate them against the API's schema and run admission, Pod Security
// among it, and then reads every object back from the server.

package kubernetes

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"
)

// podSecurity is the level and version the namespace enforces, as the API
// server names it in its messages.
const podSecurity = `PodSecurity "restricted:v1.37"`

// TestAPIServer applies each kustomization, in turn, to one API server:
// the base, then the overlay built on it, as a user would move from one
// to the other.
func TestAPIServer(t *testing.T) {
	c := startCluster(t)
	for _, dir := range kustomizations {
		t.Run(dir, func(t *testing.T) {
			built := buildUnstructured(t, dir)

			// Every object, with server-side apply: the server refuses
			// what its schema or its admission refuses, and warns of what
			// Pod Security's warn label finds.
			refused := false
			for _, u := range built {
				if err := c.apply(u, false); err != nil {
					t.Errorf("%s: the API server refused it: %v", describe(u), err)
					refused = true
				}
				if w := c.warnings.take(); len(w) > 0 {
					t.Errorf("%s: the API server warned: %q", describe(u), w)
				}
			}
			if refused {
				t.FailNow()
			}
			// The namespace's default ServiceAccount, which the
			// controller-manager would make: pods need it to be admitted.
			c.ensureDefaultServiceAccount(t)

			back := c.readBack(t, built)
			t.Run("Pod Security", func(t *testing.T) { checkPodSecurity(t, c, back) })
			t.Run("NetworkPolicies", func(t *testing.T) { checkPoliciesReadBack(t, dir, back) })
			t.Run("unknown fields", func(t *testing.T) { checkUnknownFields(t, c, built) })
		})
	}
}

// buildUnstructured runs `kustomize build dir`, the Namespace first, as
// kubectl orders what it applies.
func buildUnstructured(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	out, err := exec.Command(*kustomizeBin, "build", dir).Output()
	if err != nil {
		t.Fatalf("kustomize build %s: %v\n%s", dir, err, stderrOf(err))
	}
	var objs []*unstructured.Unstructured
	for _, doc := range strings.Split(string(out), "\n---\n") {
		j, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(j); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, u)
	}
	slices.SortStableFunc(objs, func(a, b *unstructured.Unstructured) int {
		return boolInt(b.GetKind() == "Namespace") - boolInt(a.GetKind() == "Namespace")
	})
	return objs
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func describe(u *unstructured.Unstructured) string {
	return u.GetKind() + " " + u.GetName()
}

// resource is where the API serves u's kind, in u's namespace.
func (c *cluster) resource(u *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	gvk := u.GroupVersionKind()
	m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, err
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		return c.dynamic.Resource(m.Resource).Namespace(u.GetNamespace()), nil
	}
	return c.dynamic.Resource(m.Resource), nil
}

// apply sends u with server-side apply, with the strict field validation
// that kubectl uses; with dryRun, the server does everything but store it.
func (c *cluster) apply(u *unstructured.Unstructured, dryRun bool) error {
	r, err := c.resource(u)
	if err != nil {
		return err
	}
	data, err := u.MarshalJSON()
	if err != nil {
		return err
	}
	opts := metav1.PatchOptions{FieldManager: "tracingdemo-test", Force: ptr.To(true), FieldValidation: "Strict"}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	_, err = r.Patch(context.Background(), u.GetName(), types.ApplyPatchType, data, opts)
	return err
}

// create creates u, in a dry run: admitted or refused, it is not stored.
func (c *cluster) create(u *unstructured.Unstructured) error {
	r, err := c.resource(u)
	if err != nil {
		return err
	}
	_, err = r.Create(context.Background(), u, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict"})
	return err
}

func (c *cluster) ensureDefaultServiceAccount(t *testing.T) {
	t.Helper()
	sa := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ServiceAccount",
		"metadata": map[string]any{"name": "default", "namespace": namespace},
	}}
	if err := c.apply(sa, false); err != nil {
		t.Fatalf("ServiceAccount default: %v", err)
	}
}

// readBack gets every object of built from the server, and decodes it
// strictly into the API's types, as the offline check decodes the build:
// what the checks below read is what the server stored, defaults and all.
func (c *cluster) readBack(t *testing.T, built []*unstructured.Unstructured) objects {
	t.Helper()
	var back objects
	for _, u := range built {
		r, err := c.resource(u)
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.Get(context.Background(), u.GetName(), metav1.GetOptions{})
		if err != nil {
			t.Errorf("%s: not read back: %v", describe(u), err)
			continue
		}
		j, err := got.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if err := back.add(j); err != nil {
			t.Errorf("%s, as read back: %v", describe(u), err)
		}
		if got.GetUID() == "" || got.GetResourceVersion() == "" {
			t.Errorf("%s, as read back, has no uid or resourceVersion: not stored", describe(u))
		}
	}
	if len(back.named) != len(built) {
		t.Errorf("read back %d objects of %d", len(back.named), len(built))
	}
	return back
}

// checkPodSecurity: the namespace enforces Pod Security restricted, and
// the API server admits a pod made from each workload's template, as the
// workload's controller would make it. (A Deployment itself is never
// refused: Pod Security enforces on pods; on a workload's template it
// only warns.) Two variants of each template, one with runAsNonRoot:
// false, one without capabilities.drop: [ALL], are refused, with the
// server's own message.
func checkPodSecurity(t *testing.T, c *cluster, back objects) {
	if len(back.namespaces) != 1 || back.namespaces[0].Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Fatalf("the namespace, as read back, does not enforce Pod Security restricted: %v", back.namespaces)
	}
	if len(back.workloads()) == 0 {
		t.Fatal("no workloads to check")
	}
	for _, w := range back.workloads() {
		if err := c.create(podOf(t, w.name, w.template)); err != nil {
			t.Errorf("%s: the API server refuses its pods: %v", w.kind+" "+w.name, err)
		}
		if warned := c.warnings.take(); len(warned) > 0 {
			t.Errorf("%s: its pods are admitted with warnings: %q", w.kind+" "+w.name, warned)
		}

		for _, v := range []struct {
			name, want string
			change     func(*corev1.PodSpec)
		}{
			{"runAsNonRoot: false", "runAsNonRoot != true", func(s *corev1.PodSpec) {
				s.SecurityContext.RunAsNonRoot = ptr.To(false)
			}},
			{"no capabilities.drop: [ALL]", "unrestricted capabilities", func(s *corev1.PodSpec) {
				s.Containers[0].SecurityContext.Capabilities = nil
			}},
		} {
			template := *w.template.DeepCopy()
			v.change(&template.Spec)

			// The workload with that template: stored, but with a warning.
			variant := w.withTemplate(t, template)
			if err := c.apply(variant, true); err != nil {
				t.Errorf("%s with %s: refused, where the API server stores a workload and warns: %v", w.kind+" "+w.name, v.name, err)
			}
			warned := strings.Join(c.warnings.take(), "\n")
			if !strings.Contains(warned, "would violate "+podSecurity) || !strings.Contains(warned, v.want) {
				t.Errorf("%s with %s: the API server's warnings %q do not say it would violate %s: %s", w.kind+" "+w.name, v.name, warned, podSecurity, v.want)
			}
			// Its pods: refused.
			err := c.create(podOf(t, w.name, template))
			if err == nil || !strings.Contains(err.Error(), "violates "+podSecurity) || !strings.Contains(err.Error(), v.want) {
				t.Errorf("%s with %s: a pod of it was not refused for violating %s (%s): %v", w.kind+" "+w.name, v.name, podSecurity, v.want, err)
				continue
			}
			t.Logf("%s with %s: the API server refuses its pods: %v", w.kind+" "+w.name, v.name, err)
		}
	}
}

// podOf is the pod that a workload's controller makes from its template.
func podOf(t *testing.T, name string, template corev1.PodTemplateSpec) *unstructured.Unstructured {
	t.Helper()
	pod := corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name + "-0", Namespace: namespace, Labels: template.Labels},
		Spec:       template.Spec,
	}
	return toUnstructured(t, &pod)
}

// withTemplate is the workload w, with its template replaced.
func (w workload) withTemplate(t *testing.T, template corev1.PodTemplateSpec) *unstructured.Unstructured {
	t.Helper()
	u := toUnstructured(t, w.object.DeepCopyObject())
	if err := unstructured.SetNestedField(u.Object, toUnstructured(t, &template).Object, "spec", "template"); err != nil {
		t.Fatal(err)
	}
	// What the server added when it stored it, which an apply must not send.
	unstructured.RemoveNestedField(u.Object, "metadata", "managedFields")
	unstructured.RemoveNestedField(u.Object, "metadata", "resourceVersion")
	unstructured.RemoveNestedField(u.Object, "metadata", "uid")
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u.Object, "status")
	return u
}

func toUnstructured(t *testing.T, obj any) *unstructured.Unstructured {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: m}
}

// checkPoliciesReadBack: the policies the server stored, with its
// defaults, let through what the offline check's table says; every pod is
// selected by some policy for its ingress, so none is open by default; and
// the backend takes connections from the frontend's pods only.
func checkPoliciesReadBack(t *testing.T, dir string, back objects) {
	if len(back.networkPolicies) == 0 {
		t.Fatal("no NetworkPolicy read back")
	}
	checkReaches(t, dir, back)
	for _, w := range back.workloads() {
		selected := slices.ContainsFunc(back.networkPolicies, func(p networkingv1.NetworkPolicy) bool {
			sel, err := metav1.LabelSelectorAsSelector(&p.Spec.PodSelector)
			return err == nil && sel.Matches(labels.Set(w.template.Labels)) && slices.Contains(p.Spec.PolicyTypes, networkingv1.PolicyTypeIngress)
		})
		if !selected {
			t.Errorf("%s %s: no NetworkPolicy selects its pods for ingress", w.kind, w.name)
		}
	}
	backend := back.workload(t, "backend")
	for _, w := range back.workloads() {
		from := peer{w.name, w.template.Labels, true}
		if got, want := allowed(back.networkPolicies, from, backend, 8081), w.name == "frontend"; got != want {
			t.Errorf("%s to backend:8081: allowed %v, want %v: only the frontend's pods reach the backend", w.name, got, want)
		}
	}
}

// checkUnknownFields: each object, sent with one field misspelt, is
// refused by the server, which names the field. A workload is also sent
// with livenessProbee in its first container. So a manifest with a typo
// can never pass this test.
func checkUnknownFields(t *testing.T, c *cluster, built []*unstructured.Unstructured) {
	for _, u := range built {
		for _, path := range typoPaths(u) {
			bad := u.DeepCopy()
			typo := path[len(path)-1]
			if err := setAt(bad.Object, path, map[string]any{}); err != nil {
				t.Fatal(err)
			}
			err := c.apply(bad, true)
			if err == nil || !strings.Contains(err.Error(), typo) {
				t.Errorf("%s with the unknown field %s: want it refused, naming the field; got %v", describe(u), strings.Join(path, "."), err)
			}
		}
	}
	c.warnings.take()
}

// typoPaths are the misspelt fields to try on u: one at its top, after its
// first field of content (specc, dataa), and for a workload, livenessProbee
// in its first container.
func typoPaths(u *unstructured.Unstructured) [][]string {
	top := "metadataa"
	for _, field := range []string{"spec", "data", "rules"} {
		if _, ok := u.Object[field]; ok {
			top = field + field[len(field)-1:]
			break
		}
	}
	paths := [][]string{{top}}
	if u.GetKind() == "Deployment" || u.GetKind() == "StatefulSet" {
		paths = append(paths, []string{"spec", "template", "spec", "containers", "0", "livenessProbee"})
	}
	return paths
}

// setAt sets the field at path in obj; a number in the path is an index
// into a list.
func setAt(obj map[string]any, path []string, value any) error {
	var cur any = obj
	for i, key := range path {
		last := i == len(path)-1
		switch node := cur.(type) {
		case map[string]any:
			if last {
				node[key] = value
				return nil
			}
			cur = node[key]
		case []any:
			var n int
			if _, err := fmt.Sscan(key, &n); err != nil || n >= len(node) {
				return fmt.Errorf("no item %s in %s", key, strings.Join(path[:i], "."))
			}
			cur = node[n]
		default:
			return fmt.Errorf("nothing at %s", strings.Join(path[:i+1], "."))
		}
	}
	return nil
}
