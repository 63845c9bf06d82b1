// Package cicheck holds the tests of what is particular to this project's GitHub Actions workflows in
// .github/workflows (every action pinned to a commit with its release in a comment and the Pulumi CLI
// by .pulumi.version, only make targets and stacks that exist, OIDC instead of static AWS keys, one
// concurrency group per stack, jobs that use the deploy role's whole session and end before it,
// prod's destroy guarded, previews as documented, the render diff posted to the right pull request;
// a call of the reusable pulumi-stack.yml is checked as the job it runs) and of the local quick-start
// scripts.
// Whether the workflows are valid at all is actionlint's job, in `make lint`.
package cicheck
