// Package docs holds no code: its tests keep the README and the pages in
// docs/ true to the code they quote and the files they link.
package docs_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// root is the top of the repository, seen from this package's folder.
const root = "../.."

// pages are the Markdown files a reader reads: the README, docs/ and the
// lessons.
func pages(t *testing.T) []string {
	t.Helper()
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	return append(append([]string{filepath.Join(root, "README.md")}, docs...), lessons(t)...)
}

// lessons are the lessons after the README's, docs/lessons/*.md.
func lessons(t *testing.T) []string {
	t.Helper()
	lessons, err := filepath.Glob(filepath.Join(root, "docs", "lessons", "*.md"))
	if err != nil || len(lessons) == 0 {
		t.Fatalf("no lessons under docs/lessons: %v", err)
	}
	return lessons
}

// TestLessonsAreShortAndLinked: each lesson is at most 1,100 words, and
// the README links to it.
func TestLessonsAreShortAndLinked(t *testing.T) {
	readme := read(t, filepath.Join(root, "README.md"))
	for _, lesson := range lessons(t) {
		if words := len(strings.Fields(read(t, lesson))); words > 1100 {
			t.Errorf("%s has %d words, want at most 1,100", lesson, words)
		}
		if name := "docs/lessons/" + filepath.Base(lesson); !strings.Contains(readme, "("+name+")") {
			t.Errorf("the README does not link to %s", name)
		}
	}
}

// snippet is a block of Go that a page quotes, and the lines it quotes.
type snippet struct {
	page, file string
	from, to   int // line numbers in file, 1-based, inclusive
	code       string
}

// quoted is a link to lines of a file, e.g. (tracing/setup.go#L30-L73),
// right before a ```go block: the block must be those lines, verbatim.
var quoted = regexp.MustCompile("(?s)\\]\\(([^)#]+)#L(\\d+)-L(\\d+)\\)\\)?:\n\n```go\n(.*?)\n```")

func snippets(t *testing.T, page string) []snippet {
	t.Helper()
	text := read(t, page)
	var out []snippet
	for _, m := range quoted.FindAllStringSubmatch(text, -1) {
		from, _ := strconv.Atoi(m[2])
		to, _ := strconv.Atoi(m[3])
		out = append(out, snippet{page: page, file: filepath.Join(filepath.Dir(page), m[1]), from: from, to: to, code: m[4]})
	}
	// Every block of Go on the page must be a checked quote.
	if blocks := strings.Count(text, "```go\n"); blocks != len(out) {
		t.Errorf("%s has %d blocks of Go, but only %d follow a link to the lines they quote, e.g. [`f.go`](f.go#L3-L9):", page, blocks, len(out))
	}
	return out
}

// TestSnippetsMatchTheCode: every Go snippet a page quotes is, verbatim,
// the lines of the file that its link names. When the code moves, the
// test says which snippet drifted and what the file holds now.
func TestSnippetsMatchTheCode(t *testing.T) {
	total := 0
	for _, page := range pages(t) {
		for _, s := range snippets(t, page) {
			total++
			lines := strings.Split(read(t, s.file), "\n")
			if s.from < 1 || s.to < s.from || s.to > len(lines) {
				t.Errorf("%s quotes %s lines %d to %d, but the file has %d lines", s.page, s.file, s.from, s.to, len(lines))
				continue
			}
			if got := strings.Join(lines[s.from-1:s.to], "\n"); got != s.code {
				t.Errorf("%s quotes %s#L%d-L%d, which drifted from the file.\nThe page quotes:\n%s\nThe file has there:\n%s%s",
					s.page, s.file, s.from, s.to, s.code, got, whereNow(lines, s.code))
			}
		}
	}
	readme := snippets(t, filepath.Join(root, "README.md"))
	if len(readme) < 5 {
		t.Errorf("the README quotes %d snippets of the code, want at least 5", len(readme))
	}
	t.Logf("%d quoted snippets checked, %d in the README", total, len(readme))
}

// whereNow says where the quoted code stands in the file now, if it does.
func whereNow(lines []string, code string) string {
	want := strings.Split(code, "\n")
	for i := 0; i+len(want) <= len(lines); i++ {
		if strings.Join(lines[i:i+len(want)], "\n") == code {
			return fmt.Sprintf("\nThe quote is at #L%d-L%d now: update the link.", i+1, i+len(want))
		}
	}
	return ""
}

// link is a Markdown link or image: [text](target) or ![alt](target).
var link = regexp.MustCompile(`!?\[[^\]]*\]\(([^)\s]+)\)`)

// TestLinksResolve: every relative link of every page leads to a file or
// folder that exists, and every anchor to a heading of that page, or to
// lines that the file has.
func TestLinksResolve(t *testing.T) {
	for _, page := range pages(t) {
		for _, m := range link.FindAllStringSubmatch(withoutCode(read(t, page)), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, anchor, _ := strings.Cut(target, "#")
			file := page
			if path != "" {
				file = filepath.Join(filepath.Dir(page), path)
			}
			info, err := os.Stat(file)
			if err != nil {
				t.Errorf("%s links to %s, which does not exist", page, target)
				continue
			}
			if anchor == "" || info.IsDir() {
				continue
			}
			if lines := lineAnchor.FindStringSubmatch(anchor); lines != nil {
				last, _ := strconv.Atoi(lines[len(lines)-1])
				if n := strings.Count(read(t, file), "\n"); last > n {
					t.Errorf("%s links to %s, but %s has %d lines", page, target, file, n)
				}
				continue
			}
			if !anchors(t, file)[anchor] {
				t.Errorf("%s links to %s, but %s has no heading with that anchor", page, target, file)
			}
		}
	}
}

var lineAnchor = regexp.MustCompile(`^L(\d+)(?:-L(\d+))?$`)

// anchors are the anchors GitHub makes for the headings of a page: lower
// case, punctuation dropped, spaces as hyphens, -1, -2 for repeats.
func anchors(t *testing.T, page string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	seen := map[string]int{}
	scanner := bufio.NewScanner(strings.NewReader(withoutCode(read(t, page))))
	for scanner.Scan() {
		heading, ok := strings.CutPrefix(strings.TrimLeft(scanner.Text(), "#"), " ")
		if !ok || !strings.HasPrefix(scanner.Text(), "#") {
			continue
		}
		slug := strings.Map(func(r rune) rune {
			switch {
			case r == ' ':
				return '-'
			case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
				return r
			}
			return -1
		}, strings.ToLower(heading))
		if n := seen[slug]; n > 0 {
			out[fmt.Sprintf("%s-%d", slug, n)] = true
		} else {
			out[slug] = true
		}
		seen[slug]++
	}
	return out
}

// withoutCode blanks out fenced code blocks, whose text is not Markdown.
func withoutCode(text string) string {
	return fence.ReplaceAllString(text, "")
}

var fence = regexp.MustCompile("(?s)```.*?```")

// TestReadmeIsShort: the README is the tutorial, not the reference.
func TestReadmeIsShort(t *testing.T) {
	if words := len(strings.Fields(read(t, filepath.Join(root, "README.md")))); words > 2200 {
		t.Errorf("the README has %d words, want at most 2,200: move reference to docs/", words)
	}
}

// TestBreakItMatchesTheTests: each edit that frontend/breakit_test.go and
// backend/breakit_test.go make is one the README's "Break it" section tells the reader to make: in the
// same function, the same text replaced by the same text. And the README
// gives no edit that no test makes.
func TestBreakItMatchesTheTests(t *testing.T) {
	readme := read(t, filepath.Join(root, "README.md"))
	if !strings.Contains(readme, "## Break it") {
		t.Fatal("the README has no section \"## Break it\"")
	}
	// The numbered items of the README's section "Break it", and of each
	// lesson's, each one edit.
	var items []string
	for _, page := range append([]string{filepath.Join(root, "README.md")}, lessons(t)...) {
		text := read(t, page)
		start := strings.Index(text, "## Break it")
		if start < 0 {
			continue
		}
		section := text[start:]
		if end := strings.Index(section[3:], "\n## "); end >= 0 {
			section = section[:end+3]
		}
		items = append(items, regexp.MustCompile(`(?m)^\d+\. `).Split(section, -1)[1:]...)
	}

	tests := read(t, filepath.Join(root, "frontend", "breakit_test.go")) + read(t, filepath.Join(root, "backend", "breakit_test.go"))
	edits := regexp.MustCompile(`testkit\.BreakIt\{Fn: "([^"]+)", Line: "([^"]*)",\s*Old: "([^"]+)", New: "([^"]+)"\}`).FindAllStringSubmatch(tests, -1)
	if len(edits) != len(items) {
		t.Errorf("the README's Break it section has %d edits, the break-it tests make %d", len(items), len(edits))
	}
	for _, e := range edits {
		fn, line, old, new := e[1], e[2], e[3], e[4]
		found := false
		for _, item := range items {
			item = strings.Join(strings.Fields(item), " ") // the README wraps its lines
			if strings.Contains(item, "In `"+fn+"`") {
				found = true
				if !strings.Contains(item, "`"+old+"`") || !strings.Contains(item, "`"+new+"`") {
					t.Errorf("the README's Break it edit in %s does not say to put `%s` in place of `%s`, as the test does:\n%s", fn, new, old, item)
				}
				checkBreakItLine(t, item, fn, line)
			}
		}
		if !found {
			t.Errorf("a break-it test edits %s, which no Break it item of the README names (\"In `%s`, …\")", fn, fn)
		}
	}
}

// checkBreakItLine: a Break it item links to the file and line of its
// edit, e.g. [`frontend/handler.go:32`](frontend/handler.go#L32), and that
// line holds the text the test edits there.
func checkBreakItLine(t *testing.T, item, fn, want string) {
	t.Helper()
	m := regexp.MustCompile("\\[`([^`:]+):(\\d+)`\\]\\(([^)#]+)#L(\\d+)\\)").FindStringSubmatch(item)
	if m == nil {
		t.Errorf("the README's Break it edit in %s names no file and line, e.g. [`frontend/handler.go:32`](frontend/handler.go#L32):\n%s", fn, item)
		return
	}
	m[3] = strings.TrimLeft(m[3], "./") // a lesson's link starts ../../
	if m[1] != m[3] || m[2] != m[4] {
		t.Errorf("the README's Break it edit in %s says %s:%s but links to %s#L%s", fn, m[1], m[2], m[3], m[4])
	}
	n, _ := strconv.Atoi(m[4])
	lines := strings.Split(read(t, filepath.Join(root, m[3])), "\n")
	if n < 1 || n > len(lines) || !strings.Contains(lines[n-1], want) {
		now := ""
		for i, l := range lines {
			if strings.Contains(l, want) {
				now = fmt.Sprintf(": it is on line %d now", i+1)
				break
			}
		}
		t.Errorf("the README's Break it edit in %s points at %s:%d, which does not hold %q%s", fn, m[3], n, want, now)
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestNamedTestsExist: every test a page names, in backquotes, is a
// test of the repository, so that a page never cites a test that was
// renamed or removed.
func TestNamedTestsExist(t *testing.T) {
	defined := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && (d.Name() == "bin" || d.Name() == ".git"):
			return filepath.SkipDir
		case strings.HasSuffix(path, "_test.go"):
			for _, m := range testFunc.FindAllStringSubmatch(read(t, path), -1) {
				defined[m[1]] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, page := range pages(t) {
		for _, m := range namedTest.FindAllStringSubmatch(read(t, page), -1) {
			if !defined[m[1]] {
				t.Errorf("%s names %s, which no _test.go file defines", page, m[1])
			}
		}
	}
}

var (
	testFunc  = regexp.MustCompile(`(?m)^func (Test\w+)\(`)
	namedTest = regexp.MustCompile("`(Test[A-Z]\\w*)`")
)

// TestImageBuildsWithGoModsToolchain: docs/security.md says every build
// uses the Go that go.mod's toolchain line names; the Dockerfile's build
// image is pinned to that release, not to a floating tag such as
// golang:1.27, whose Go changes under it.
func TestImageBuildsWithGoModsToolchain(t *testing.T) {
	toolchain := regexp.MustCompile(`(?m)^toolchain go(\S+)$`).FindStringSubmatch(read(t, filepath.Join(root, "go.mod")))
	if toolchain == nil {
		t.Fatal("go.mod has no toolchain line")
	}
	image := regexp.MustCompile(`(?m)^ARG GO_IMAGE=(\S+)$`).FindStringSubmatch(read(t, filepath.Join(root, "Dockerfile")))
	if image == nil {
		t.Fatal("the Dockerfile has no ARG GO_IMAGE=")
	}
	if want := "golang:" + toolchain[1]; image[1] != want {
		t.Errorf("the Dockerfile builds with %s; go.mod's toolchain wants %s", image[1], want)
	}
}

// TestMakeHelp: `make help` lists every target the Makefile declares, each
// line's description starting in the same column.
func TestMakeHelp(t *testing.T) {
	out, err := exec.Command("make", "-s", "-C", root, "help").Output()
	if err != nil {
		t.Fatalf("make help: %v", err)
	}
	listed := map[string]bool{}
	column := -1
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		m := regexp.MustCompile(`^  make (\S+)(\s+)\S`).FindStringSubmatchIndex(line)
		if m == nil {
			t.Errorf("make help: a line that is no target: %q", line)
			continue
		}
		listed[line[m[2]:m[3]]] = true
		if column == -1 {
			column = m[5]
		} else if m[5] != column {
			t.Errorf("make help: %q: its description starts at column %d, the first line's at %d", line, m[5], column)
		}
	}
	phony := regexp.MustCompile(`(?m)^\.PHONY: (.*)$`).FindStringSubmatch(read(t, filepath.Join(root, "Makefile")))
	if phony == nil {
		t.Fatal("the Makefile has no .PHONY line")
	}
	for _, target := range strings.Fields(phony[1]) {
		if !listed[target] {
			t.Errorf("make help does not list %s, which the Makefile declares: give its rule a ## description", target)
		}
	}
}

// TestImportsOneWay: the lesson can be copied, and the layers do not
// tangle. tracing/ imports nothing of this module, its tests included;
// internal/ never imports the lesson or the services; neither service's
// code imports the other's (their tests may run both).
func TestImportsOneWay(t *testing.T) {
	const module = "example.com/tracingdemo/"
	var out []byte
	for _, args := range [][]string{{"-test", "./tracing"}, {"./internal/...", "./frontend", "./backend"}} {
		list := exec.Command("go", append([]string{"list", "-deps", "-f", `{{.ImportPath}} {{join .Imports " "}}`}, args...)...)
		list.Dir = root
		o, err := list.Output()
		if err != nil {
			t.Fatalf("go list %v: %v", args, err)
		}
		out = append(out, o...)
	}
	for line := range strings.Lines(string(out)) {
		pkg, imports, _ := strings.Cut(strings.TrimSpace(line), " ")
		from := strings.TrimSuffix(strings.TrimPrefix(pkg, module), "_test") // an external test package
		for _, imp := range strings.Fields(imports) {
			to, ours := strings.CutPrefix(imp, module)
			if !ours || strings.HasSuffix(from, ".test") || to == from {
				continue
			}
			switch lesson := strings.Split(to, "/")[0]; {
			case strings.HasPrefix(from, "tracing"):
				t.Errorf("%s imports %s: tracing/ must import nothing of this module", from, to)
			case strings.HasPrefix(from, "internal/") && (lesson == "tracing" || lesson == "frontend" || lesson == "backend" || lesson == "cmd"):
				t.Errorf("%s imports %s: internal/ must not import the lesson or the services", from, to)
			case from == "frontend" && lesson == "backend", from == "backend" && lesson == "frontend":
				t.Errorf("%s imports %s: the services must not import each other", from, to)
			}
		}
	}
}

// TestNoWallClockIntervals: no code of the services measures an interval
// on the wall clock, whose steps (an NTP correction, a clock set back an
// hour) would silence a rate-limited warning for as long as the step, as
// the first limiter did (it compared time.Now().UnixNano()). Intervals
// come from time.Since, which reads Go's monotonic clock, through
// golang.org/x/time/rate. The machine's clock cannot be stepped in a test
// without upsetting every other test that runs beside it: so the code is
// read instead.
func TestNoWallClockIntervals(t *testing.T) {
	wallClock := regexp.MustCompile(`\.Unix(Nano|Milli|Micro)?\(\)`)
	for _, dir := range []string{"cmd/tracingdemo", "tracing", "frontend", "backend", "params", "internal"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			for i, line := range strings.Split(read(t, path), "\n") {
				if wallClock.MatchString(line) {
					t.Errorf("%s:%d reads the wall clock as a number: %s", path, i+1, strings.TrimSpace(line))
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
