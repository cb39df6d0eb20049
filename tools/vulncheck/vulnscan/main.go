// Command vulnscan runs govulncheck over every part of the project that is
// built or shipped, and fails on any known vulnerability that the code can
// reach, unless tools/vulncheck/allowlist.txt names it, with a reason, for
// one of the tools (never for our own services).
//
//	vulnscan -govulncheck bin/govulncheck -db file:///…/bin/vulndb \
//	    -allow tools/vulncheck/allowlist.txt \
//	    -ours "source:. binary:bin/tracingdemo image:tracingdemo/frontend …" \
//	    -tools "binary:bin/jaeger …"
//
// A target is source:DIR (the module in DIR, ./...), binary:FILE, or
// image:NAME (the binary /tracingdemo inside a Docker image). A source scan
// takes in the module's tests, with the build tags given. "Reachable" is
// govulncheck's own word: a finding whose trace ends in a vulnerable
// function that the code calls (source) or that the binary holds (binary).
// Findings in packages or modules that are present but not called are
// counted, not failed on.
//
// It prints one line per target and ends with one line for the whole scan.
// An allowlist line that no longer matches a finding also fails the scan,
// so that the list only ever holds what is really still there.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

func main() {
	govulncheck := flag.String("govulncheck", "govulncheck", "the govulncheck binary")
	db := flag.String("db", "https://vuln.go.dev", "the vulnerability database, as govulncheck's -db")
	allowFile := flag.String("allow", "", "the allowlist: lines of TARGET ID REASON, for the tools only")
	ours := flag.String("ours", "", "the targets that are our own code, space-separated: nothing may be allowed in them")
	tools := flag.String("tools", "", "the targets that are tools we build, space-separated")
	tags := flag.String("tags", "", "build tags for the source scans, as govulncheck's -tags")
	flag.Parse()

	allow, err := readAllowlist(*allowFile, strings.Fields(*ours), strings.Fields(*tools))
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulnscan:", err)
		os.Exit(2)
	}
	s := scanner{govulncheck: *govulncheck, db: *db, tags: *tags}
	failed := false
	var total, allowed int
	for _, target := range slices.Concat(strings.Fields(*ours), strings.Fields(*tools)) {
		r, err := s.scan(target)
		if err != nil {
			fmt.Printf("vulnscan: %s: %v\n", target, err)
			failed = true
			continue
		}
		fmt.Printf("vulnscan: %-36s %s\n", r.target, r.summary())
		for _, f := range r.reachable {
			total++
			if reason, ok := allow.take(r.target, f.id); ok {
				allowed++
				fmt.Printf("    allowed  %s  %s (%s)\n", f, f.summary, reason)
				continue
			}
			failed = true
			fmt.Printf("    FAIL     %s  %s\n             %s\n", f, f.summary, f.example)
		}
	}
	for _, e := range allow.unused() {
		failed = true
		fmt.Printf("vulnscan: FAIL: %s:%d allows %s in %s, which the scan no longer finds: remove the line\n", *allowFile, e.line, e.id, e.target)
	}
	fmt.Printf("vulnscan: database %s (%s)\n", *db, s.dbModified)
	if failed {
		fmt.Printf("vulnscan: FAIL: %d reachable vulnerabilities, %d of them allowlisted\n", total, allowed)
		os.Exit(1)
	}
	fmt.Printf("vulnscan: ok: %d reachable vulnerabilities, all in tools and allowlisted with a reason; none in our services\n", total)
}

type scanner struct {
	govulncheck string
	db          string
	tags        string
	dbModified  string // as the database says, from the first scan
}

// result is what one target holds.
type result struct {
	target    string
	reachable []finding // one per vulnerability, sorted by ID
	imported  int       // vulnerable packages imported, nothing called
	required  int       // vulnerable modules required, no package imported
}

func (r result) summary() string {
	return fmt.Sprintf("%2d reachable   (%d more imported, %d more required, not called)", len(r.reachable), r.imported, r.required)
}

type finding struct {
	id, module, version, fixed string
	summary                    string // the database's one line
	example                    string // one call path, as govulncheck gives it
}

func (f finding) String() string {
	// govulncheck leaves the fixed version out where the vulnerable package
	// and the module it reports differ: the report has it.
	fixed := "fixed version: see the report"
	if f.fixed != "" {
		fixed = "fixed in " + f.fixed
	}
	return fmt.Sprintf("%s  %s@%s (%s)", f.id, f.module, f.version, fixed)
}

// scan runs govulncheck on one target and sorts what it finds by level.
func (s *scanner) scan(target string) (result, error) {
	kind, what, ok := strings.Cut(target, ":")
	args := []string{"-db", s.db, "-format", "json"}
	switch {
	case ok && kind == "source":
		// With the tests: they are our code too, and the end-to-end
		// tests are nothing else.
		args = append(args, "-C", what, "-test", "-tags", s.tags, "./...")
	case ok && kind == "binary":
		args = append(args, "-mode", "binary", what)
	case ok && kind == "image":
		bin, cleanup, err := imageBinary(what)
		if err != nil {
			return result{}, err
		}
		defer cleanup()
		args = append(args, "-mode", "binary", bin)
	default:
		return result{}, errors.New("a target is source:DIR, binary:FILE or image:NAME")
	}
	var stderr bytes.Buffer
	cmd := exec.Command(s.govulncheck, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	// govulncheck exits 0 with -format json whatever it finds; any other
	// exit is a scan that did not happen.
	if err != nil {
		return result{}, fmt.Errorf("%s %s: %v\n%s", s.govulncheck, strings.Join(args, " "), err, stderr.String())
	}
	return s.parse(target, bytes.NewReader(out))
}

// The messages of govulncheck's JSON stream that matter here (its
// protocol v1.0.0: golang.org/x/vuln/internal/govulncheck).
type message struct {
	Config *struct {
		DBLastModified string `json:"db_last_modified"`
	} `json:"config"`
	OSV *struct {
		ID      string `json:"id"`
		Summary string `json:"summary"`
	} `json:"osv"`
	Finding *struct {
		OSV          string `json:"osv"`
		FixedVersion string `json:"fixed_version"`
		Trace        []frame
	} `json:"finding"`
}

type frame struct {
	Module, Version, Package, Function, Receiver string
	Position                                     *struct {
		Filename     string
		Line, Column int
	}
}

func (f frame) String() string {
	name := f.Function
	if f.Receiver != "" {
		name = strings.TrimPrefix(f.Receiver, "*") + "." + name
	}
	name = filepath.Base(f.Package) + "." + name
	if f.Position != nil && f.Position.Filename != "" {
		return fmt.Sprintf("%s (%s:%d)", name, f.Position.Filename, f.Position.Line)
	}
	return name
}

func (s *scanner) parse(target string, r io.Reader) (result, error) {
	res := result{target: target}
	summaries := map[string]string{}
	level := map[string]int{} // per vulnerability, the deepest level found: 1 module, 2 package, 3 symbol
	found := map[string]finding{}
	dec := json.NewDecoder(r)
	for {
		var m message
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			return res, fmt.Errorf("reading govulncheck's output: %v", err)
		}
		switch {
		case m.Config != nil && s.dbModified == "":
			s.dbModified = m.Config.DBLastModified
		case m.OSV != nil:
			summaries[m.OSV.ID] = m.OSV.Summary
		case m.Finding != nil && len(m.Finding.Trace) > 0:
			f := m.Finding
			// The trace starts at the vulnerable code and, in source mode,
			// ends where our code calls it.
			vuln := f.Trace[0]
			l := 1
			if vuln.Package != "" {
				l = 2
			}
			if vuln.Function != "" {
				l = 3
			}
			if l <= level[f.OSV] {
				continue
			}
			level[f.OSV] = l
			path := make([]string, 0, len(f.Trace))
			for _, fr := range slices.Backward(f.Trace) {
				path = append(path, fr.String())
			}
			found[f.OSV] = finding{id: f.OSV, module: vuln.Module, version: vuln.Version, fixed: f.FixedVersion, example: strings.Join(path, " -> ")}
		}
	}
	for id, l := range level {
		switch l {
		case 1:
			res.required++
		case 2:
			res.imported++
		case 3:
			f := found[id]
			f.summary = summaries[id]
			res.reachable = append(res.reachable, f)
		}
	}
	slices.SortFunc(res.reachable, func(a, b finding) int { return strings.Compare(a.id, b.id) })
	return res, nil
}

// imageBinary copies /tracingdemo out of a Docker image into a temporary file.
func imageBinary(image string) (string, func(), error) {
	out, err := exec.Command("docker", "create", image).CombinedOutput()
	if err != nil {
		return "", nil, fmt.Errorf("docker create %s: %v: %s (make compose-test builds the service images)", image, err, bytes.TrimSpace(out))
	}
	container := strings.TrimSpace(string(out))
	defer exec.Command("docker", "rm", container).Run()
	dir, err := os.MkdirTemp("", "vulnscan")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	bin := filepath.Join(dir, "service")
	if out, err := exec.Command("docker", "cp", container+":/tracingdemo", bin).CombinedOutput(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("docker cp %s:/tracingdemo: %v: %s", image, err, bytes.TrimSpace(out))
	}
	return bin, cleanup, nil
}

// allowlist holds the lines of the allowlist file, each used at most once.
type allowlist struct {
	entries []*entry
}

type entry struct {
	target, id, reason string
	line               int
	used               bool
}

func readAllowlist(path string, ours, tools []string) (*allowlist, error) {
	a := &allowlist{}
	if path == "" {
		return a, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 3 {
			return nil, fmt.Errorf("%s:%d: want TARGET ID REASON, got %q", path, n, line)
		}
		switch {
		case slices.Contains(ours, fields[0]):
			return nil, fmt.Errorf("%s:%d: %s is our own code: a vulnerability it reaches must be fixed, not allowed", path, n, fields[0])
		case !slices.Contains(tools, fields[0]):
			return nil, fmt.Errorf("%s:%d: %s is none of the tools scanned (%s)", path, n, fields[0], strings.Join(tools, " "))
		}
		a.entries = append(a.entries, &entry{target: fields[0], id: fields[1], reason: strings.Join(fields[2:], " "), line: n})
	}
	return a, sc.Err()
}

func (a *allowlist) take(target, id string) (string, bool) {
	for _, e := range a.entries {
		if e.target == target && e.id == id {
			e.used = true
			return e.reason, true
		}
	}
	return "", false
}

func (a *allowlist) unused() []*entry {
	var out []*entry
	for _, e := range a.entries {
		if !e.used {
			out = append(out, e)
		}
	}
	return out
}
