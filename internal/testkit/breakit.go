package testkit

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A BreakIt is one of the README's "Break it" edits: in function Fn, on the
// first line that holds Line, Old becomes New. internal/docs checks that
// the README names the same edits as the tests that make them.
type BreakIt struct {
	Fn, Line, Old, New string
}

// RunBroken copies the module, makes the edit b in file (a path from the
// module's root), runs the test named test in the copy's package pkg, and
// decodes into result what that test printed with Print. The test fails if
// the edit can no longer be made, or the broken code does not build, run
// and print.
func RunBroken(t *testing.T, b BreakIt, file, pkg, test string, result any) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a copy of the module; not with -short")
	}
	module := copyModule(t)
	path := filepath.Join(module, file)
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	broken, err := b.apply(string(src))
	if err != nil {
		t.Fatalf("the README's edit can no longer be made in %s: %v", file, err)
	}
	if err := os.WriteFile(path, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "test", "-count=1", "-v", "-run", "^"+test+"$", pkg)
	cmd.Dir = module
	cmd.Env = append(os.Environ(), brokenEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the broken code must still build and run: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`(?m)^` + printMark + `(.*)$`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("%s printed no result:\n%s", test, out)
	}
	if err := json.Unmarshal(m[1], result); err != nil {
		t.Fatalf("%s printed %s: %v", test, m[1], err)
	}
}

// brokenEnv is set in the environment of the tests RunBroken runs.
const brokenEnv = "TRACINGDEMO_PRINT_TRACES"

// printMark starts the line of JSON that Print writes.
const printMark = "break-it result: "

// SkipUnlessBroken skips a test that only RunBroken runs, in its copy of
// the module.
func SkipUnlessBroken(t *testing.T) {
	if os.Getenv(brokenEnv) == "" {
		t.Skip("run by the break-it tests, in their copy of the module")
	}
}

// Print writes v as one line of JSON, for RunBroken to read back.
func Print(t *testing.T, v any) {
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString(printMark + string(out) + "\n")
}

// apply makes the edit in src, or says why it cannot: the function, the
// line or the text the README names is gone.
func (b BreakIt) apply(src string) (string, error) {
	start := strings.Index(src, ") "+b.Fn+"(")
	if plain := strings.Index(src, "func "+b.Fn+"("); start < 0 || (plain >= 0 && plain < start) {
		start = plain
	}
	if start < 0 {
		return "", &editError{b, "no function " + b.Fn}
	}
	end := start + strings.Index(src[start:], "\n}\n")
	body := src[start:end]
	i := strings.Index(body, b.Line)
	if i < 0 {
		return "", &editError{b, "no line with " + b.Line + " in " + b.Fn}
	}
	lineStart := strings.LastIndex(body[:i], "\n") + 1
	lineEnd := len(body) // the function's last line, unless another follows
	if n := strings.Index(body[i:], "\n"); n >= 0 {
		lineEnd = i + n
	}
	line := body[lineStart:lineEnd]
	edited := strings.Replace(line, b.Old, b.New, 1)
	if edited == line {
		return "", &editError{b, "no " + b.Old + " on the line " + strings.TrimSpace(line)}
	}
	return src[:start+lineStart] + edited + src[start+lineEnd:], nil
}

type editError struct {
	b      BreakIt
	reason string
}

func (e *editError) Error() string { return e.b.Fn + ": " + e.reason }

// copyModule copies the main module's Go files and go.mod, go.sum into a
// temporary folder, and returns it.
func copyModule(t *testing.T) string {
	t.Helper()
	// A package's tests run in its folder, one level below the module's.
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			// Only the module's own packages: not the modules of their own
			// (e2e, tools, deploy), nor what the build made.
			switch rel {
			case ".git", "bin", "e2e", "tools", "deploy", "docs":
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !strings.HasSuffix(rel, ".go") && rel != "go.mod" && rel != "go.sum" && !strings.Contains(rel, "testdata") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}
