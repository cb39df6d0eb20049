//go:build compose

package e2e

// The README shows, as text, what each of its curls answers. The compose
// test makes those very requests against the Quick start's stack and
// checks each answer, line by line, against the README's: the same text,
// but for the trace IDs and the durations, which change with every run.

import (
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
)

// readmeCurl is one curl of the README and the answer it shows.
type readmeCurl struct {
	path   string   // e.g. /?fail=true
	answer []string // its lines
}

var (
	fenced   = regexp.MustCompile("(?s)```(\\w*)\n(.*?)```")
	curlLine = regexp.MustCompile(`^(?:\$ )?curl '(?:http://)?localhost:8080(/[^']*)'`)
	// What changes from run to run: a trace ID, or a duration.
	variable = regexp.MustCompile(`[0-9a-f]{32}|\d+(?:\.\d+)?(?:ns|µs|ms|s)\b`)
)

// readmeCurls finds every curl of the frontend in the README's code blocks,
// and its answer: the lines after it in a console block, up to the next
// prompt, or else the text block right after its own.
func readmeCurls(t *testing.T) []readmeCurl {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := fenced.FindAllStringSubmatch(string(b), -1)
	var curls []readmeCurl
	for i, block := range blocks {
		lines := strings.Split(strings.TrimRight(block[2], "\n"), "\n")
		for j, line := range lines {
			m := curlLine.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			c := readmeCurl{path: m[1]}
			switch {
			case block[1] == "console":
				for _, next := range lines[j+1:] {
					if strings.HasPrefix(next, "$ ") {
						break
					}
					c.answer = append(c.answer, next)
				}
			case i+1 < len(blocks) && blocks[i+1][1] == "text":
				c.answer = strings.Split(strings.TrimRight(blocks[i+1][2], "\n"), "\n")
			}
			if len(c.answer) == 0 {
				t.Errorf("the README's curl '%s' shows no answer: follow it with the lines it prints", line)
			}
			curls = append(curls, c)
		}
	}
	return curls
}

// answerPattern makes a README answer line into a pattern: its text as it
// is, but for trace IDs and durations, which match any.
func answerPattern(line string) *regexp.Regexp {
	var pattern strings.Builder
	last := 0
	for _, loc := range variable.FindAllStringIndex(line, -1) {
		pattern.WriteString(regexp.QuoteMeta(line[last:loc[0]]) + "(?:" + variable.String() + ")")
		last = loc[1]
	}
	pattern.WriteString(regexp.QuoteMeta(line[last:]))
	return regexp.MustCompile("^" + pattern.String() + "$")
}

// checkReadmeAnswers makes each of the README's requests to the frontend at
// base and compares the answer with the README's.
func checkReadmeAnswers(t *testing.T, base string) {
	curls := readmeCurls(t)
	for _, want := range []string{"/?user=alice", "/?fail=true", "/?delay=500ms", "/?async=true&delay=300ms"} {
		found := false
		for _, c := range curls {
			found = found || c.path == want
		}
		if !found {
			t.Errorf("the README no longer shows curl 'localhost:8080%s' and its answer", want)
		}
	}
	for _, c := range curls {
		resp, err := http.Get(base + c.path)
		if err != nil {
			t.Errorf("GET %s: %v", c.path, err)
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		ok := len(got) == len(c.answer)
		for i := 0; ok && i < len(got); i++ {
			ok = answerPattern(c.answer[i]).MatchString(got[i])
		}
		if !ok {
			t.Errorf("curl 'localhost:8080%s' answered (%d):\n%s\nThe README shows:\n%s",
				c.path, resp.StatusCode, strings.Join(got, "\n"), strings.Join(c.answer, "\n"))
		}
	}
	t.Logf("%d of the README's answers checked", len(curls))
}
