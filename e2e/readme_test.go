//go:build e2e || compose

package e2e

// The README shows, as text, what each of its curls answers. The compose
// test makes those very requests against the Quick start's stack and
// checks each answer, line by line, against the README's: the same text,
// but for the trace IDs and the durations, which change with every run.
// The end-to-end tests do the same for the lessons under docs/lessons.

import (
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
)

// pageCurl is one curl of a page and the answer it shows.
type pageCurl struct {
	path   string   // e.g. /?fail=true
	answer []string // its lines
}

var (
	fenced   = regexp.MustCompile("(?s)```(\\w*)\n(.*?)```")
	curlLine = regexp.MustCompile(`^(?:\$ )?curl '(?:http://)?localhost:8080(/[^']*)'`)
	// What changes from run to run: a trace ID, or a duration.
	variable = regexp.MustCompile(`[0-9a-f]{32}|\d+(?:\.\d+)?(?:ns|µs|ms|s)\b`)
)

// pageCurls finds every curl of the frontend in the code blocks of the
// page (a path from the repository's root), and its answer: the lines
// after it in a console block, up to the next prompt, or else the text
// block right after its own.
func pageCurls(t *testing.T, page string) []pageCurl {
	t.Helper()
	b, err := os.ReadFile("../" + page)
	if err != nil {
		t.Fatal(err)
	}
	blocks := fenced.FindAllStringSubmatch(string(b), -1)
	var curls []pageCurl
	for i, block := range blocks {
		lines := strings.Split(strings.TrimRight(block[2], "\n"), "\n")
		for j, line := range lines {
			m := curlLine.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			c := pageCurl{path: m[1]}
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
				t.Errorf("%s: the curl '%s' shows no answer: follow it with the lines it prints", page, line)
			}
			curls = append(curls, c)
		}
	}
	return curls
}

// answerPattern makes an answer line of a page into a pattern: its text as it
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
	checkAnswers(t, base, "", "README.md", "/?user=alice", "/?fail=true", "/?delay=500ms", "/?async=true&delay=300ms")
}

// checkAnswers makes each of the page's requests to the frontend at base,
// and compares the answer with the page's; the page must show the paths
// in must. ui, if not "", is the Jaeger UI of the answers' trace links,
// which the page shows at http://localhost:16686, as compose serves it.
func checkAnswers(t *testing.T, base, ui, page string, must ...string) {
	t.Helper()
	curls := pageCurls(t, page)
	for _, want := range must {
		found := false
		for _, c := range curls {
			found = found || c.path == want
		}
		if !found {
			t.Errorf("%s no longer shows curl 'localhost:8080%s' and its answer", page, want)
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
		answer := string(b)
		if ui != "" {
			answer = strings.ReplaceAll(answer, ui, "http://localhost:16686")
		}
		got := strings.Split(strings.TrimRight(answer, "\n"), "\n")
		ok := len(got) == len(c.answer)
		for i := 0; ok && i < len(got); i++ {
			ok = answerPattern(c.answer[i]).MatchString(got[i])
		}
		if !ok {
			t.Errorf("curl 'localhost:8080%s' answered (%d):\n%s\n%s shows:\n%s",
				c.path, resp.StatusCode, strings.Join(got, "\n"), page, strings.Join(c.answer, "\n"))
		}
	}
	t.Logf("%d of the answers of %s checked", len(curls), page)
}
