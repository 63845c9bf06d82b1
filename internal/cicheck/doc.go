// Package cicheck holds the tests of the GitHub Actions workflows in .github/workflows (they parse,
// pin every action by version, call only make targets that exist, name only stacks that exist, use
// OIDC instead of static AWS keys, and guard prod's destroy) and of the local quick-start scripts.
package cicheck
