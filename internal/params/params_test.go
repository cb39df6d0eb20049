package params_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"example.com/tracingdemo/internal/params"
)

func TestParse(t *testing.T) {
	tests := []struct {
		query   string
		want    params.Params
		wantErr string
	}{
		{query: "", want: params.Params{}},
		{query: "delay=200ms&fail=true", want: params.Params{Delay: 200 * time.Millisecond, Fail: true}},
		{query: "delay=10s&fail=false", want: params.Params{Delay: 10 * time.Second}},
		{query: "delay=abc", wantErr: `delay="abc": want a Go duration from 0s to 10s, e.g. delay=200ms`},
		{query: "delay=10.001s", wantErr: `delay="10.001s": want a Go duration from 0s to 10s, e.g. delay=200ms`},
		{query: "delay=-1ns", wantErr: `delay="-1ns": want a Go duration from 0s to 10s, e.g. delay=200ms`},
		{query: "fail=maybe", wantErr: `fail="maybe": want true or false`},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			require.NoError(t, err)
			got, err := params.Parse(q)
			if tt.wantErr != "" {
				assert.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestQueryRoundTrip: what the frontend sends, the backend reads back the
// same.
func TestQueryRoundTrip(t *testing.T) {
	for _, p := range []params.Params{
		{},
		{Delay: 200 * time.Millisecond},
		{Fail: true},
		{Delay: params.MaxDelay, Fail: true},
		{Delay: 1500 * time.Microsecond},
	} {
		q, err := url.ParseQuery(p.Query())
		require.NoError(t, err)
		got, err := params.Parse(q)
		require.NoError(t, err, p.Query())
		assert.Equal(t, p, got, p.Query())
	}
	assert.Equal(t, "", params.Params{}.Query())
	assert.Equal(t, "delay=200ms&fail=true", params.Params{Delay: 200 * time.Millisecond, Fail: true}.Query())
}
