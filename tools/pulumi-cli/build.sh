#!/usr/bin/env bash
# Builds the Pulumi CLI from its Go modules into $2 (e.g. .tools/pulumi-v3.274.0-<hash>/pulumi).
# Without a Go toolchain it says so and stops: the integration suite then skips, unless
# STEPLADDER_PULUMI_TESTS_REQUIRED=1 (CI), where that is a failure.
set -euo pipefail
version="$1"
target="$2"
here="$(cd "$(dirname "$0")" && pwd)"
if ! command -v go >/dev/null 2>&1; then
  echo "pulumi-cli: no Go toolchain on PATH; the Pulumi integration suite will be skipped" >&2
  [ "${STEPLADDER_PULUMI_TESTS_REQUIRED:-}" = "1" ] && exit 1
  exit 0
fi
mkdir -p "$(dirname "$target")"
started=$(date +%s)
echo "pulumi-cli: building pulumi $version from Go modules (first time only, several minutes)" >&2
# Stamped like Pulumi's own packagers do, so `pulumi version` and the SDK's version check agree.
(cd "$here" && go build \
  -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version" \
  -o "$target.partial" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
mv "$target.partial" "$target"
echo "pulumi-cli: built $("$target" version) in $(( $(date +%s) - started )) s" >&2
