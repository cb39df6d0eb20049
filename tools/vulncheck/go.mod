// This module exists only to build govulncheck from the Go module proxy for
// `make vulncheck`. It is kept apart from the main module so that the
// scanner's dependencies never enter the demo's go.mod.
module example.com/tracingdemo/tools/vulncheck

go 1.26

// govulncheck v1.1.4. Later releases depend on golang.org/x/telemetry
// versions that the module proxy our CI builds from does not serve.

require golang.org/x/vuln v1.1.4 // indirect

require (
	golang.org/x/mod v0.22.0 // indirect
	golang.org/x/sync v0.10.0 // indirect
	golang.org/x/sys v0.29.0 // indirect
	golang.org/x/telemetry v0.0.0-20240522233618-39ace7a40ae7 // indirect
	golang.org/x/tools v0.29.0 // indirect
)

tool golang.org/x/vuln/cmd/govulncheck
