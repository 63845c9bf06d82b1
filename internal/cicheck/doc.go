// Package cicheck holds the tests of the GitHub Actions workflows in .github/workflows (they parse,
// pin every action by version and the Pulumi CLI by .pulumi.version, call only make targets that
// exist, name only stacks that exist, use OIDC instead of static AWS keys, keep one concurrency group
// per stack, ask for a role session that outlasts the longest wait of a run, guard prod's destroy,
// preview as documented and post the render diff to the right pull request) and of the local
// quick-start scripts.
package cicheck
