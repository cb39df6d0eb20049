package kubernetes

import (
	"maps"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// namespace is the demo's own, which every kustomization puts its objects in.
const namespace = "tracingdemo"

// TestNamespace: every object lands in the demo's namespace, and the build
// makes that namespace, enforcing Pod Security "restricted".
func TestNamespace(t *testing.T) {
	for _, dir := range kustomizations {
		t.Run(dir, func(t *testing.T) {
			objs := build(t, dir)
			if len(objs.namespaces) != 1 || objs.namespaces[0].Name != namespace {
				t.Fatalf("want the one Namespace %s, got %v", namespace, objs.namespaces)
			}
			if level := objs.namespaces[0].Labels["pod-security.kubernetes.io/enforce"]; level != "restricted" {
				t.Errorf("Namespace %s enforces Pod Security %q, want restricted", namespace, level)
			}
			for _, n := range objs.named {
				if n.Kind != "Namespace" && n.Namespace != namespace {
					t.Errorf("%s %s is in namespace %q, want %s", n.Kind, n.Name, n.Namespace, namespace)
				}
			}
		})
	}
}

// TestDisruptionBudgets: every workload of two replicas or more has a
// PodDisruptionBudget that keeps one serving during a drain, and lets the
// drain go on (it does not ask for every replica).
func TestDisruptionBudgets(t *testing.T) {
	for _, dir := range kustomizations {
		t.Run(dir, func(t *testing.T) {
			objs := build(t, dir)
			for _, w := range objs.workloads() {
				if w.replicas < 2 {
					continue
				}
				var found bool
				for _, b := range objs.budgets {
					sel, err := metav1.LabelSelectorAsSelector(b.Spec.Selector)
					if err != nil || !sel.Matches(labels.Set(w.template.Labels)) {
						continue
					}
					found = true
					min, max := b.Spec.MinAvailable, b.Spec.MaxUnavailable
					keeps := min != nil && min.IntVal >= 1 && min.IntVal < w.replicas || max != nil && max.IntVal >= 1 && max.IntVal < w.replicas
					if !keeps {
						t.Errorf("PodDisruptionBudget %s: want minAvailable or maxUnavailable from 1 to %d for %s's %d replicas", b.Name, w.replicas-1, w.name, w.replicas)
					}
				}
				if !found {
					t.Errorf("%s runs %d replicas and no PodDisruptionBudget selects it", w.name, w.replicas)
				}
			}
		})
	}
}

// A peer is a pod that opens a connection: one of the workloads, or a
// stranger (inside the namespace, or outside it).
type peer struct {
	name          string
	labels        map[string]string
	sameNamespace bool
}

// reach is one connection, and whether the policies must allow it.
type reach struct {
	from, to string // peer, workload
	port     int32
	allowed  bool
}

// TestNetworkPolicies: the policies let through exactly what each tier
// needs, and nothing else: only the frontend reaches the backend, only the
// services reach the OTLP ports (in the overlay: the routing tier's, and
// its own reach the samplers, whose writes reach the store), and anyone
// reaches the frontend and the UI. The policies are read here as a network
// plugin that enforces them reads them.
func TestNetworkPolicies(t *testing.T) {
	for _, dir := range kustomizations {
		t.Run(dir, func(t *testing.T) {
			checkReaches(t, dir, build(t, dir))
		})
	}
}

var (
	outsider  = peer{"a pod of another namespace", map[string]string{"app": "intruder"}, false}
	neighbour = peer{"a pod of this namespace", map[string]string{"app.kubernetes.io/name": "debug"}, true}
)

// reaches are the connections that each kustomization's policies must
// allow, and some they must not.
var reaches = map[string][]reach{
	"base": {
		{"frontend", "backend", 8081, true},
		{"frontend", "backend", 9999, false},
		{"frontend", "jaeger", 4318, true},
		{"backend", "jaeger", 4317, true},
		{"backend", "jaeger", 4318, true},
		{"jaeger", "backend", 8081, false},
		{"backend", "backend", 8081, false},
		{outsider.name, "frontend", 8080, true},
		{outsider.name, "backend", 8081, false},
		{neighbour.name, "backend", 8081, false},
		{outsider.name, "jaeger", 4317, false},
		{outsider.name, "jaeger", 4318, false},
		{neighbour.name, "jaeger", 4318, false},
		{outsider.name, "jaeger", 16686, true},
		{outsider.name, "jaeger", 13133, false},
	},
	"overlays/tail-sampling-at-scale": {
		{"frontend", "backend", 8081, true},
		{outsider.name, "backend", 8081, false},
		{"frontend", "otel-collector", 4318, true},
		{"backend", "otel-collector", 4317, true},
		{outsider.name, "otel-collector", 4318, false},
		{"otel-collector", "jaeger-sampler", 4317, true},
		{"frontend", "jaeger-sampler", 4317, false},
		{neighbour.name, "jaeger-sampler", 8888, false},
		{"jaeger-sampler", "jaeger", 4316, true},
		{"jaeger-sampler", "jaeger", 17271, true},
		{"backend", "jaeger", 4316, false},
		{"frontend", "jaeger", 17271, false},
		{outsider.name, "jaeger", 4316, false},
		{outsider.name, "jaeger", 16686, true},
	},
}

// checkReaches checks the connections of reaches[dir] against the
// policies of objs, and that every port a Service opens is reached by
// someone: a policy that forgot one would make the Service dead.
func checkReaches(t *testing.T, dir string, objs objects) {
	t.Helper()
	peers := map[string]peer{outsider.name: outsider, neighbour.name: neighbour}
	for _, w := range objs.workloads() {
		peers[w.name] = peer{w.name, w.template.Labels, true}
	}
	for _, r := range reaches[dir] {
		from, ok := peers[r.from]
		if !ok {
			t.Fatalf("no workload %s", r.from)
		}
		to := objs.workload(t, r.to)
		if got := allowed(objs.networkPolicies, from, to, r.port); got != r.allowed {
			t.Errorf("%s to %s:%d: allowed %v, want %v", r.from, r.to, r.port, got, r.allowed)
		}
	}
	for _, svc := range objs.services {
		for _, w := range objs.workloads() {
			if !matches(svc.Spec.Selector, w.template.Labels) {
				continue
			}
			for _, p := range svc.Spec.Ports {
				target := p.TargetPort
				if target.IntVal == 0 && target.StrVal == "" {
					target = intstr.FromInt32(p.Port) // targetPort defaults to port
				}
				port := containerPort(w, target)
				if !slices.ContainsFunc(slices.Collect(maps.Values(peers)), func(from peer) bool { return allowed(objs.networkPolicies, from, w, port) }) {
					t.Errorf("Service %s's port %s (%s:%d) is reached by no pod", svc.Name, p.Name, w.name, port)
				}
			}
		}
	}
}

// allowed reports whether policies let from connect to a pod of to, on
// port (TCP): a pod that no policy selects for Ingress takes any
// connection; one that some do takes only what one of their rules allows.
func allowed(policies []networkingv1.NetworkPolicy, from peer, to workload, port int32) bool {
	isolated := false
	for _, p := range policies {
		sel, err := metav1.LabelSelectorAsSelector(&p.Spec.PodSelector)
		if err != nil || !sel.Matches(labels.Set(to.template.Labels)) {
			continue
		}
		if len(p.Spec.PolicyTypes) > 0 && !slices.Contains(p.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) {
			continue
		}
		isolated = true
		for _, rule := range p.Spec.Ingress {
			if portsMatch(rule.Ports, to, port) && peersMatch(rule.From, from) {
				return true
			}
		}
	}
	return !isolated
}

// portsMatch: no ports means every port; a named port is the container
// port of that name.
func portsMatch(ports []networkingv1.NetworkPolicyPort, to workload, port int32) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		if p.Protocol != nil && *p.Protocol != corev1.ProtocolTCP {
			continue
		}
		if p.Port == nil || containerPort(to, *p.Port) == port {
			return true
		}
	}
	return false
}

// peersMatch: no peers means every source. A podSelector alone selects
// pods of the policy's own namespace; a namespaceSelector or an ipBlock,
// which these manifests do not use, is read as matching nothing.
func peersMatch(peers []networkingv1.NetworkPolicyPeer, from peer) bool {
	if len(peers) == 0 {
		return true
	}
	for _, p := range peers {
		if p.PodSelector == nil || p.NamespaceSelector != nil || p.IPBlock != nil || !from.sameNamespace {
			continue
		}
		if sel, err := metav1.LabelSelectorAsSelector(p.PodSelector); err == nil && sel.Matches(labels.Set(from.labels)) {
			return true
		}
	}
	return false
}

// containerPort is the number a port names in w's pods: itself, or the
// container port of that name (-1 if there is none).
func containerPort(w workload, port intstr.IntOrString) int32 {
	if port.Type == intstr.Int {
		return port.IntVal
	}
	for _, c := range w.template.Spec.Containers {
		for _, p := range c.Ports {
			if p.Name == port.StrVal {
				return p.ContainerPort
			}
		}
	}
	return -1
}
