package params

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFromQuery(t *testing.T) {
	tests := []struct {
		query   string
		want    Hello
		wantErr string
	}{
		{query: "", want: Hello{}},
		{query: "delay=200ms&fail=true", want: Hello{Delay: 200 * time.Millisecond, Fail: true}},
		{query: "delay=10s&fail=false", want: Hello{Delay: 10 * time.Second}},
		{query: "delay=abc", wantErr: `delay="abc": want a Go duration from 0s to 10s, e.g. delay=200ms`},
		{query: "delay=10.001s", wantErr: `delay="10.001s": want a Go duration from 0s to 10s, e.g. delay=200ms`},
		{query: "delay=-1ns", wantErr: `delay="-1ns": want a Go duration from 0s to 10s, e.g. delay=200ms`},
		{query: "fail=maybe", wantErr: `fail="maybe": want true or false`},
		// ParseBool's other spellings are refused: the README promises two.
		{query: "fail=1", wantErr: `fail="1": want true or false`},
		{query: "fail=TRUE", wantErr: `fail="TRUE": want true or false`},
		{query: "fail=t", wantErr: `fail="t": want true or false`},
		{query: "async=true&delay=2s", want: Hello{Delay: 2 * time.Second, Async: true}},
		// A job is shorter, so that the queue drains (MaxJobDelay).
		{query: "async=true&delay=2.001s", wantErr: `delay="2.001s": a job (async=true) waits at most 2s`},
		{query: "delay=10s&async=true", wantErr: `delay="10s": a job (async=true) waits at most 2s`},
		{query: "async=yes", wantErr: `async="yes": want true or false`},
		// user= names one user, or up to 8, separated by commas.
		{query: "user=alice", want: Hello{Users: []string{"alice"}}},
		{query: "user=alice,bob,carol", want: Hello{Users: []string{"alice", "bob", "carol"}}},
		{query: "user=a,b,c,d,e,f,g,h", want: Hello{Users: []string{"a", "b", "c", "d", "e", "f", "g", "h"}}},
		{query: "user=a,b,c,d,e,f,g,h,i", wantErr: `user="a,b,c,d,e,f,g,h,i": want at most 8 names, separated by commas`},
		{query: "user=alice,,bob", wantErr: `user="alice,,bob": name 2: want 1 to 64 letters, digits, '_' or '-', the names separated by commas`},
		{query: "user=alice,", wantErr: `user="alice,": name 2: want 1 to 64 letters, digits, '_' or '-', the names separated by commas`},
		{query: "user=", wantErr: `user="": want 1 to 64 letters, digits, '_' or '-'`},
		// A long value is echoed cut short.
		{query: "delay=" + strings.Repeat("9", 36000), wantErr: `delay="` + strings.Repeat("9", 64) + `"… (36000 bytes): want a Go duration from 0s to 10s, e.g. delay=200ms`},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got, err := FromQuery(tt.query)
			if tt.wantErr != "" {
				assert.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestCheckUser(t *testing.T) {
	for _, ok := range []string{"alice", "A-b_9", strings.Repeat("x", 64)} {
		assert.NoError(t, CheckUser(ok), ok)
	}
	for user, want := range map[string]string{
		"":                      `user="": want 1 to 64 letters, digits, '_' or '-'`,
		"<script>":              `user="<script>": want 1 to 64 letters, digits, '_' or '-'`,
		"a\r\nb":                `user="a\r\nb": want 1 to 64 letters, digits, '_' or '-'`,
		strings.Repeat("x", 65): `user="` + strings.Repeat("x", 64) + `"… (65 bytes): want 1 to 64 letters, digits, '_' or '-'`,
	} {
		assert.EqualError(t, CheckUser(user), want)
	}
}

// TestQueryRoundTrip: what the frontend sends, the backend reads back the
// same.
func TestQueryRoundTrip(t *testing.T) {
	for _, p := range []Hello{
		{},
		{Delay: 200 * time.Millisecond},
		{Fail: true},
		{Delay: MaxDelay, Fail: true},
		{Delay: 1500 * time.Microsecond},
		{Delay: time.Second, Fail: true, Async: true},
	} {
		got, err := FromQuery(p.Query())
		require.NoError(t, err, p.Query())
		assert.Equal(t, p, got, p.Query())
	}
	assert.Equal(t, "", Hello{}.Query())
	assert.Equal(t, "", Hello{Users: []string{"alice", "bob"}}.Query(), "the users travel in the baggage")
	assert.Equal(t, "alice", Hello{Users: []string{"alice"}}.User())
	assert.Equal(t, "", Hello{Users: []string{"alice", "bob"}}.User(), "one user at most in a call's baggage")
	assert.Equal(t, "delay=200ms&fail=true", Hello{Delay: 200 * time.Millisecond, Fail: true}.Query())
}
