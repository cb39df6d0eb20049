//go:build apiserver

package kubernetes

// cluster is a real etcd and kube-apiserver, built from source by
// `make kubernetes`, run by the test on 127.0.0.1 only, with a
// certificate authority, a service-account key and a token made for the
// run. Nothing else of a cluster runs: no controller-manager, no
// scheduler, no kubelet, so no pod ever runs.

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"flag"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

var (
	apiserverBin = flag.String("kube-apiserver", "../../bin/kube-apiserver", "kube-apiserver, built by `make kubernetes`")
	etcdBin      = flag.String("etcd", "../../bin/etcd", "etcd, built by `make kubernetes`")
)

type cluster struct {
	dynamic  *dynamic.DynamicClient
	mapper   *restmapper.DeferredDiscoveryRESTMapper
	warnings *warnings
}

// startCluster starts etcd, then kube-apiserver, and waits until the API
// server is ready. Both are stopped when the test ends, pass or fail.
func startCluster(t *testing.T) *cluster {
	t.Helper()
	for _, bin := range []string{*etcdBin, *apiserverBin} {
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("%v: run make kubernetes first, or make k8s-test, which does", err)
		}
	}
	dir := t.TempDir()
	start := time.Now()

	clientPort, peerPort := freePort(t), freePort(t)
	etcdURL := "http://127.0.0.1:" + clientPort
	peerURL := "http://127.0.0.1:" + peerPort
	etcd := startProcess(t, "etcd", *etcdBin,
		"--name=test", "--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=test="+peerURL,
		"--unsafe-no-fsync", // its data lasts as long as the test
		"--log-level=warn")
	waitFor(t, etcd, "etcd", func() bool {
		resp, err := http.Get(etcdURL + "/health")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	ca, caPEM := newCA(t)
	certFile, keyFile := filepath.Join(dir, "apiserver.crt"), filepath.Join(dir, "apiserver.key")
	ca.issue(t, certFile, keyFile)
	saKey := filepath.Join(dir, "service-account.key")
	writeKey(t, saKey, newKey(t))
	token := randomHex(t)
	tokens := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(tokens, []byte(token+`,admin,admin,"system:masters"`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	apiserver := startProcess(t, "kube-apiserver", *apiserverBin,
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1", "--secure-port="+port, "--advertise-address=127.0.0.1",
		"--tls-cert-file="+certFile, "--tls-private-key-file="+keyFile, "--cert-dir="+dir,
		"--token-auth-file="+tokens, "--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+saKey, "--service-account-signing-key-file="+saKey,
		// Addresses the API server hands out, in its own records only:
		// nothing here routes to them.
		"--service-cluster-ip-range=10.96.0.0/24",
		// The kubernetes Service's endpoint would be 127.0.0.1, which
		// Endpoints refuse; nothing here calls the API server through it.
		"--endpoint-reconciler-type=none",
		// The default admission chain, which holds PodSecurity, named to
		// be sure.
		"--enable-admission-plugins=PodSecurity",
		"--profiling=false")

	cfg := &rest.Config{
		Host:            "https://127.0.0.1:" + port,
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{CAData: caPEM},
	}
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, apiserver, "kube-apiserver", func() bool {
		resp, err := client.Get(cfg.Host + "/readyz")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	t.Logf("etcd and kube-apiserver ready on 127.0.0.1 in %s", time.Since(start).Round(100*time.Millisecond))
	checkLoopbackOnly(t, etcd, apiserver)

	w := &warnings{}
	cfg.WarningHandler = w
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &cluster{dynamic: dyn, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc)), warnings: w}
}

// warnings gathers the Warning headers of the API server's answers, such
// as Pod Security's "would violate PodSecurity".
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

// take returns the warnings since the last take.
func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	list := w.list
	w.list = nil
	return list
}

// process is one program the test started, and what it printed.
type process struct {
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{} // closed when it has exited
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(b)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// startProcess starts bin, stopped when the test ends, and killed if the
// test binary itself dies (Pdeathsig). What it printed is logged if the
// test failed.
func startProcess(t *testing.T, name, bin string, args ...string) process {
	t.Helper()
	p := process{cmd: exec.Command(bin, args...), out: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s printed (the last 4 KB):\n%s", name, tail(p.out.String(), 4096))
		}
	})
	return p
}

// waitFor polls ready for up to two minutes; it fails the test, with what
// the process printed, if the process exits first or the time runs out.
func waitFor(t *testing.T, p process, name string, ready func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if ready() {
			return
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited before it was ready:\n%s", name, tail(p.out.String(), 4096))
		default:
		}
	}
	t.Fatalf("%s was not ready within 2 min:\n%s", name, tail(p.out.String(), 4096))
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// freePort is a port of 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// checkLoopbackOnly: every socket the processes listen on is bound to
// 127.0.0.1, read from /proc: the socket inodes each holds open, and the
// kernel's table of TCP sockets in LISTEN state.
func checkLoopbackOnly(t *testing.T, procs ...process) {
	t.Helper()
	listening := map[string]string{} // inode: local address
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) > 9 && f[3] == "0A" { // LISTEN
				listening[f[9]] = f[1]
			}
		}
	}
	for _, p := range procs {
		fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.cmd.Process.Pid))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, fd := range fds {
			link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", p.cmd.Process.Pid, fd.Name()))
			if err != nil || !strings.HasPrefix(link, "socket:[") {
				continue
			}
			addr, ok := listening[strings.Trim(link, "socket:[]")]
			if !ok {
				continue
			}
			n++
			// 0100007F is 127.0.0.1 in /proc/net/tcp's byte order.
			if !strings.HasPrefix(addr, "0100007F:") {
				t.Errorf("%s listens on %s (hex, from /proc/net/tcp), not on 127.0.0.1", filepath.Base(p.cmd.Path), addr)
			}
		}
		if n == 0 {
			t.Errorf("%s listens on no socket that /proc shows", filepath.Base(p.cmd.Path))
		}
	}
}

// certificateAuthority signs the API server's serving certificate.
type certificateAuthority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newCA(t *testing.T) (certificateAuthority, []byte) {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "tracingdemo test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return certificateAuthority{cert, key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// issue writes a serving certificate for 127.0.0.1 and localhost, and its
// key.
func (ca certificateAuthority) issue(t *testing.T, certFile, keyFile string) {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "kube-apiserver"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	writeKey(t, keyFile, key)
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func writeKey(t *testing.T, file string, key *ecdsa.PrivateKey) {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func randomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
