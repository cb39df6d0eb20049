//go:build e2e || compose

package e2e

import (
	"fmt"
	"regexp"
)

// The lesson docs/lessons/network.md: the network's share of a call.

// networkSpans is theTree with the network's steps as child spans of the
// CLIENT span (NETWORK_SPANS=true): on a new connection, http.getconn holds
// http.connect (and http.dns, for a host name; here the backend's URL has
// an IP address).
func networkSpans(newConnection bool) []wantSpan {
	tree := theTree(nil)
	step := func(name, parent string) wantSpan {
		return wantSpan{service: "frontend", name: name, kind: "client", parent: parent}
	}
	tree = append(tree, step("http.getconn", "HTTP GET"), step("http.headers", "HTTP GET"),
		step("http.send", "HTTP GET"), step("http.receive", "HTTP GET"))
	tree[5].tags = map[string]string{"http.conn.reused": fmt.Sprint(!newConnection)}
	if newConnection {
		tree = append(tree, step("http.connect", "http.getconn"))
	}
	return tree
}

// connectEvent is the name of a connect event, which holds the address.
var connectEvent = regexp.MustCompile(`^http\.connect\..*\.(start|done)$`)

// networkEvents returns the names of the span's events, the connect
// events' without their address, and the value of http.conn.reused.
func networkEvents(s jaegerSpan) (names []string, reused string) {
	for _, l := range s.Logs {
		for _, f := range l.Fields {
			switch f.Key {
			case "event":
				names = append(names, connectEvent.ReplaceAllString(fmt.Sprint(f.Value), "http.connect.$1"))
			case "http.conn.reused":
				reused = fmt.Sprint(f.Value)
			}
		}
	}
	return names, reused
}
