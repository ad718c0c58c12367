//go:build tools

// Package tools pins the Pulumi CLI as a Go module dependency, so `go build` can build it from
// the module proxy (`go install ...@version` refuses it: its go.mod has replace lines).
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
