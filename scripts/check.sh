#!/usr/bin/env bash
# Static checks: the server, tests and tools type-check; the shared protocol type-checks without Node's types (so it
# stays usable in the browser).
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc --noEmit -p tsconfig.json
npx tsc --noEmit -p server/protocol/tsconfig.json
# The viewer (Svelte components and their TypeScript) type-checks against the shared protocol.
npx svelte-check --tsconfig client/tsconfig.json --threshold warning --output human
# Lint, including the layout's boundaries (the viewer imports only $protocol; the protocol imports no Node module).
npx eslint .
