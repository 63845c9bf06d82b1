#!/usr/bin/env bash
# tools.sh GROUP makes sure the tools of GROUP exist, building the missing ones from the Go module
# proxy into a cache folder outside the repository, and prints the folder that holds them all on
# stdout (progress goes to stderr):
#
#   KUBEBUILDER_ASSETS="$(scripts/tools.sh envtest)" go test ./...   # tier 3
#   PATH="$(scripts/tools.sh sim):$PATH" ...                        # tier 4 and `make sim`
#
#   envtest  etcd and kube-apiserver (the API server of tier 3)
#   sim      envtest, plus kube-controller-manager, kube-scheduler, kwok and its stages (the
#            simulated cluster), kubectl (the runbooks' scripts), the pulumi CLI and the
#            Kubernetes provider plugin (the module proxy's build of v4.25.0 unless a provider is
#            on PATH, such as the v4.32.0 release built from the pulumi-kubernetes repository)
#   lint     golangci-lint, actionlint and kube-score (built from the Go module proxy) and shellcheck (installed
#            from Debian's packages with apt-get when the pinned version is not on PATH): make lint
#
# Versions come from scripts/tool-versions.env and go.mod. The cache folder is
# ${OPENNEURO_TOOLS_CACHE:-$HOME/.cache/openneuro-infra}. No prebuilt download is reachable from the
# project's machines, so this builds from source, once: on 2 cores about 4 minutes for the Kubernetes
# binaries, 1 for kwok, 6 for the pulumi CLI, 10 for the provider and 8 for the linters (kube-score
# alone: 1). A pulumi CLI
# or Kubernetes provider that is already installed (on PATH, or the provider in Pulumi's plugin cache)
# is used instead, as a Pulumi user has them; so is setup-envtest's store for etcd and kube-apiserver.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
# shellcheck source-path=SCRIPTDIR source=tool-versions.env
. "$here/tool-versions.env"

cache="${OPENNEURO_TOOLS_CACHE:-$HOME/.cache/openneuro-infra}"
kube_dir="$cache/envtest/k8s-$KUBERNETES_VERSION"
bin_dir="$cache/bin"

log() { echo "tools: $*" >&2; }

# step NAME CMD... runs CMD and logs how long it took.
step() {
  local name="$1" start=$SECONDS
  shift
  log "$name ..."
  "$@"
  log "$name: done in $((SECONDS - start))s"
}

# reports BINARY WANT... succeeds when BINARY runs with the remaining arguments and one line of its
# output is exactly WANT (the last argument). The whole output is read before it is matched: with
# `| grep -q` the reader stops at the first match, the binary dies of SIGPIPE while still printing,
# and under pipefail the check fails at random.
reports() {
  local bin="$1" want="${*: -1}" out
  local args=("${@:2:$#-2}")
  [[ -x "$bin" ]] || return 1
  out="$("$bin" "${args[@]}" 2>/dev/null)" || return 1
  grep -qxF -- "$want" <<<"$out"
}

# stamped BINARY STAMP succeeds when BINARY exists and was built from exactly STAMP (module versions
# and Go version), for tools that do not print their own version.
stamped() { [[ -x "$1" && -f "$1.stamp" && "$(<"$1.stamp")" == "$2" ]]; }

# gomod_version MODULE prints the version of MODULE that the repository's go.mod requires.
gomod_version() { (cd "$repo" && GOFLAGS=-mod=mod go list -m -f '{{.Version}}' "$1"); }

# Builds run in throw-away modules with the environment pinned, so neither the repository's go.mod
# nor a go.work or a GOFLAGS of the caller can change what is built. Binaries are built next to
# their final name and renamed, so no reader ever sees half a file.
export GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0 GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
work=""
finish() {
  local rc=$?
  [[ -z "$work" ]] || rm -rf "$work"
  [[ $rc -eq 0 ]] || log "failed (exit $rc); the output above says why"
}
trap finish EXIT

# module_dir MODULE@VERSION downloads a module and prints its folder in the module cache.
module_dir() {
  local json
  if ! json="$(go mod download -json "$1")"; then
    log "cannot download $1: $(sed -n 's/^[[:space:]]*"Error": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")"
    return 1
  fi
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$json"
}

# module_gomod MODULE@VERSION prints the path of that module's go.mod in the module cache.
module_gomod() {
  local json
  json="$(go mod download -json "$1")" || return 1
  sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p' <<<"$json"
}

# non_local_replaces GOMOD prints the replace directives of GOMOD that point at another module
# version (a fork), not at a folder: a dependency's replaces are ignored by Go, so a throw-away main
# module must repeat them to build what upstream builds.
non_local_replaces() { grep -E '^replace [^ ]+( v[^ ]+)? => [^./][^ ]* v[^ ]+$' "$1" || true; }

# --- Kubernetes: etcd, kube-apiserver, kube-controller-manager, kube-scheduler ---------------------

have_kube() { reports "$kube_dir/$1" --version "Kubernetes v$KUBERNETES_VERSION"; }
have_etcd() { reports "$kube_dir/etcd" --version "etcd Version: $ETCD_VERSION"; }

# kube_gomod prints k8s.io/kubernetes's own go.mod, renamed and with every staging replace
# (k8s.io/X => ./staging/src/k8s.io/X) turned into the published k8s.io/X v0.<minor>.<patch>, so
# that its exact dependency versions are used.
kube_gomod() {
  local gomod staging="v0.${KUBERNETES_VERSION#*.}"
  gomod="$(module_gomod "k8s.io/kubernetes@v$KUBERNETES_VERSION")"
  sed -e 's|^module k8s.io/kubernetes$|module toolsbuild/kubernetes|' \
    -e "s|=> \./staging/src/\(k8s\.io/[^[:space:]]*\)|=> \1 $staging|" "$gomod"
  printf '\nrequire k8s.io/kubernetes v%s\n' "$KUBERNETES_VERSION"
}

# build_kube NAME... builds the named k8s.io/kubernetes commands in one go build (they share most of
# their packages).
build_kube() {
  local m="$work/kubernetes" pkg=k8s.io/component-base/version name
  local major="${KUBERNETES_VERSION%%.*}" minor="${KUBERNETES_VERSION#*.}"
  minor="${minor%%.*}"
  mkdir -p "$m" "$kube_dir/.new"
  (cd "$work" && kube_gomod) >"$m/go.mod" # outside any module: the repository stays untouched
  # The version variables are what `make` sets (hack/lib/version.sh); without them the binaries call
  # themselves v0.0.0-master and the cache check above could never match.
  local ldflags="-s -w -X $pkg.gitVersion=v$KUBERNETES_VERSION -X $pkg.gitMajor=$major"
  ldflags+=" -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  local pkgs=()
  for name in "$@"; do pkgs+=("k8s.io/kubernetes/cmd/$name"); done
  (cd "$m" && step "download Kubernetes modules" go list -deps "${pkgs[@]}" >/dev/null)
  (cd "$m" && step "build $* v$KUBERNETES_VERSION" \
    go build -trimpath -ldflags="$ldflags" -o "$kube_dir/.new/" "${pkgs[@]}")
  for name in "$@"; do mv -f "$kube_dir/.new/$name" "$kube_dir/$name"; done
}

build_etcd() {
  local m="$work/etcd"
  # etcd's server module is its own main package (server/main.go); its go.mod pins the dependencies.
  mkdir -p "$m"
  printf 'module toolsbuild/etcd\n\ngo 1.25.0\n\nrequire go.etcd.io/etcd/server/v3 v%s\n' "$ETCD_VERSION" >"$m/go.mod"
  (cd "$m" && step "download etcd modules" go list -deps go.etcd.io/etcd/server/v3 >/dev/null)
  (cd "$m" && step "build etcd v$ETCD_VERSION" \
    go build -trimpath -ldflags="-s -w" -o "$kube_dir/.etcd.new" go.etcd.io/etcd/server/v3)
  mv -f "$kube_dir/.etcd.new" "$kube_dir/etcd"
}

# try_setup_envtest uses setup-envtest's own store when it works (a laptop with internet access).
try_setup_envtest() {
  command -v setup-envtest >/dev/null || return 1
  local path
  path="$(timeout 120 setup-envtest use -p path "$KUBERNETES_VERSION" 2>/dev/null)" || return 1
  [[ -x "$path/kube-apiserver" && -x "$path/etcd" ]] || return 1
  ln -sf "$path/kube-apiserver" "$kube_dir/kube-apiserver"
  ln -sf "$path/etcd" "$kube_dir/etcd"
}

ensure_envtest() {
  if have_kube kube-apiserver && have_etcd; then
    return 0
  fi
  if try_setup_envtest && have_kube kube-apiserver && have_etcd; then
    log "using setup-envtest's binaries (linked into $kube_dir)"
    return 0
  fi
  # A half-working setup-envtest may have left links to other versions.
  local bin
  for bin in kube-apiserver etcd; do
    if [[ -L "$kube_dir/$bin" ]]; then rm -f "$kube_dir/$bin"; fi
  done
  # Plain ifs, not `have_etcd || build_etcd`: set -e is off inside the right side of || and a failed
  # build would go unnoticed.
  if ! have_etcd; then build_etcd; fi
  if ! have_kube kube-apiserver; then build_kube kube-apiserver; fi
  have_etcd || { log "etcd in $kube_dir does not report version $ETCD_VERSION"; return 1; }
  have_kube kube-apiserver || { log "kube-apiserver in $kube_dir does not report v$KUBERNETES_VERSION"; return 1; }
}

# have_kubectl: kubectl has no --version; its client version line is the check.
have_kubectl() { reports "$kube_dir/kubectl" version --client "Client Version: v$KUBERNETES_VERSION"; }

# ensure_kube_controllers builds the simulated cluster's controllers and kubectl, which the
# runbooks tier 4 runs call (scripts/dataset-writers.sh, scripts/copy-datasets.sh).
ensure_kube_controllers() {
  local missing=() name
  for name in kube-controller-manager kube-scheduler; do
    have_kube "$name" || missing+=("$name")
  done
  have_kubectl || missing+=(kubectl)
  if [[ ${#missing[@]} -gt 0 ]]; then build_kube "${missing[@]}"; fi
  for name in kube-controller-manager kube-scheduler; do
    have_kube "$name" || { log "$name in $kube_dir does not report v$KUBERNETES_VERSION"; return 1; }
  done
  have_kubectl || { log "kubectl in $kube_dir does not report v$KUBERNETES_VERSION"; return 1; }
}

# --- kwok and its stages ------------------------------------------------------------------------------

kwok_dir="$cache/kwok/v$KWOK_VERSION"

# The plain kwok binary has no default stages (kwokctl writes them into its config): take kwokctl's
# defaults from the module (node initialize + heartbeat with lease; pod ready, complete, delete).
kwok_stage_files=(
  kustomize/stage/node/fast/node-initialize.yaml
  kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml
  kustomize/stage/pod/fast/pod-ready.yaml
  kustomize/stage/pod/fast/pod-complete.yaml
  kustomize/stage/pod/fast/pod-delete.yaml
)

build_kwok() {
  local m="$work/kwok" src f
  mkdir -p "$m"
  src="$(module_dir "sigs.k8s.io/kwok@v$KWOK_VERSION")"
  sed -e 's|^module sigs.k8s.io/kwok$|module toolsbuild/kwok|' "$(module_gomod "sigs.k8s.io/kwok@v$KWOK_VERSION")" >"$m/go.mod"
  printf '\nrequire sigs.k8s.io/kwok v%s\n' "$KWOK_VERSION" >>"$m/go.mod"
  (cd "$m" && step "download kwok modules" go list -deps sigs.k8s.io/kwok/cmd/kwok >/dev/null)
  (cd "$m" && step "build kwok v$KWOK_VERSION" \
    go build -trimpath -ldflags="-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=v$KWOK_VERSION" \
    -o "$kwok_dir/.kwok.new" sigs.k8s.io/kwok/cmd/kwok)
  for f in "${kwok_stage_files[@]}"; do
    printf -- '---\n'
    cat "$src/$f"
  done >"$kwok_dir/.stages.yaml.new"
  mv -f "$kwok_dir/.stages.yaml.new" "$kwok_dir/stages.yaml"
  mv -f "$kwok_dir/.kwok.new" "$kwok_dir/kwok"
  echo "$kwok_stamp" >"$kwok_dir/kwok.stamp"
}

ensure_kwok() {
  mkdir -p "$kwok_dir"
  if ! stamped "$kwok_dir/kwok" "$kwok_stamp" || [[ ! -s "$kwok_dir/stages.yaml" ]]; then build_kwok; fi
}

# --- the pulumi CLI ----------------------------------------------------------------------------------


# find_pulumi prints a pulumi CLI on PATH, if there is one.
find_pulumi() {
  local p
  p="$(command -v pulumi)" || return 1
  [[ "$p" != "$bin_dir/pulumi" ]] || return 1
  echo "$p"
}

build_pulumi() {
  local m="$work/pulumi" gomod
  mkdir -p "$m"
  gomod="$(module_gomod "github.com/pulumi/pulumi/pkg/v3@$pulumi_version")"
  {
    printf 'module toolsbuild/pulumi\n\ngo %s\n\n' "$(sed -n 's/^go //p' "$gomod")"
    printf 'require (\n\tgithub.com/pulumi/pulumi/pkg/v3 %s\n\tgithub.com/pulumi/pulumi/sdk/v3 %s\n)\n' "$pulumi_version" "$pulumi_version"
    non_local_replaces "$gomod"
  } >"$m/go.mod"
  # Without the version the CLI calls itself v0.0.0 and the Automation API refuses it.
  local ldflags="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$pulumi_version"
  (cd "$m" && step "download pulumi modules" go list -deps github.com/pulumi/pulumi/pkg/v3/cmd/pulumi >/dev/null)
  (cd "$m" && step "build pulumi $pulumi_version" \
    go build -trimpath -ldflags="$ldflags" -o "$pulumi_dir/.pulumi.new" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
  mv -f "$pulumi_dir/.pulumi.new" "$pulumi_dir/pulumi"
}

# ensure_pulumi prints the path of the pulumi CLI to use.
ensure_pulumi() {
  local p
  if p="$(find_pulumi)"; then
    log "using the pulumi CLI on PATH: $p ($("$p" version 2>/dev/null || echo 'unknown version'))"
    echo "$p"
    return 0
  fi
  mkdir -p "$pulumi_dir"
  if ! reports "$pulumi_dir/pulumi" version "$pulumi_version"; then build_pulumi; fi
  reports "$pulumi_dir/pulumi" version "$pulumi_version" || { log "$pulumi_dir/pulumi does not report $pulumi_version"; return 1; }
  echo "$pulumi_dir/pulumi"
}

# --- the Kubernetes provider plugin -----------------------------------------------------------------

provider_dir="$cache/pulumi-kubernetes/$PULUMI_KUBERNETES_PROVIDER_MODULE_VERSION"
provider_bin=pulumi-resource-kubernetes

# find_provider prints an installed provider plugin: one on PATH, else the one of the program's
# Kubernetes SDK version in Pulumi's plugin cache.
find_provider() {
  local p
  if p="$(command -v "$provider_bin")" && [[ "$p" != "$bin_dir/$provider_bin" ]]; then
    echo "$p"
    return 0
  fi
  p="${PULUMI_HOME:-$HOME/.pulumi}/plugins/resource-kubernetes-$kubernetes_sdk_version/$provider_bin"
  [[ -x "$p" ]] || return 1
  echo "$p"
}

# The provider's own main embeds a generated schema; the engine asks for the schema only on import,
# so this main serves an empty one (up, preview, refresh and destroy never read it).
build_provider() {
  local m="$work/provider" module=github.com/pulumi/pulumi-kubernetes/provider/v4
  mkdir -p "$m"
  cat >"$m/main.go" <<'EOF'
// Command pulumi-resource-kubernetes serves the Pulumi Kubernetes provider for the project's tests.
package main

import "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"

// version is set by the linker to the Kubernetes SDK version the program asks the engine for.
var version string

func main() { provider.Serve("kubernetes", version, []byte("{}"), []byte("{}")) }
EOF
  {
    printf 'module toolsbuild/provider\n\ngo %s\n\nrequire %s %s\n' \
      "$(sed -n 's/^go //p' "$(module_gomod "$module@$PULUMI_KUBERNETES_PROVIDER_MODULE_VERSION")")" \
      "$module" "$PULUMI_KUBERNETES_PROVIDER_MODULE_VERSION"
    non_local_replaces "$(module_gomod "$module@$PULUMI_KUBERNETES_PROVIDER_MODULE_VERSION")"
  } >"$m/go.mod"
  (cd "$m" && step "download provider modules" go mod tidy >/dev/null)
  (cd "$m" && step "build $provider_bin ${kubernetes_sdk_version#v} ($PULUMI_KUBERNETES_PROVIDER_MODULE_VERSION)" \
    go build -trimpath -ldflags="-s -w -X main.version=${kubernetes_sdk_version#v}" -o "$provider_dir/.$provider_bin.new" .)
  mv -f "$provider_dir/.$provider_bin.new" "$provider_dir/$provider_bin"
  echo "$provider_stamp" >"$provider_dir/$provider_bin.stamp"
}

# describe_provider names the build of a provider plugin from its Go build information: the
# module proxy's pseudo-version (labelled with the SDK's version, so the engine accepts it), or a
# build from the provider's own source at the version its linker flags set
# (the pulumi-kubernetes repository at a release tag: what users install).
describe_provider() {
  local info proxy label
  info="$(go version -m "$1" 2>/dev/null)" || { echo "a build without Go build information"; return 0; }
  label="$(sed -n -E 's/.*(main\.version|pkg\/version\.Version)=([^ "]*).*/\2/p' <<<"$info")"
  proxy="$(awk '$1 == "dep" && $2 == "github.com/pulumi/pulumi-kubernetes/provider/v4" {print $3}' <<<"$info")"
  if [[ "$proxy" == "$PULUMI_KUBERNETES_PROVIDER_MODULE_VERSION" ]]; then
    # build_provider labels it with go.mod's SDK version (-trimpath keeps -ldflags out of the
    # build information).
    echo "the module proxy's $proxy (commit ${proxy##*-}, $PULUMI_KUBERNETES_PROVIDER_MODULE_RELEASE), labelled ${label:-${kubernetes_sdk_version#v}}; users run $PULUMI_KUBERNETES_PROVIDER_USERS_RELEASE"
  elif [[ -n "$proxy" ]]; then
    echo "a build of provider module $proxy, labelled ${label:-unknown}"
  else
    echo "built from pulumi-kubernetes source, version ${label:-unknown}"
  fi
}

# ensure_provider prints the path of the provider plugin to use.
ensure_provider() {
  local p
  if ! p="$(find_provider)"; then
    mkdir -p "$provider_dir"
    if ! stamped "$provider_dir/$provider_bin" "$provider_stamp"; then build_provider; fi
    p="$provider_dir/$provider_bin"
  fi
  log "Kubernetes provider: $p: $(describe_provider "$p")"
  echo "$p"
}

# --- linters: golangci-lint, actionlint, shellcheck ---------------------------------------------

golangci_dir="$cache/golangci-lint/v$GOLANGCI_LINT_VERSION"
actionlint_dir="$cache/actionlint/v$ACTIONLINT_VERSION"
kube_score_dir="$cache/kube-score/v$KUBE_SCORE_VERSION"
shellcheck_version="${SHELLCHECK_DEBIAN_VERSION%-*}"

# go_install MODULE/CMD VERSION DIR STAMP builds one command with `go install`, at the versions of
# its own go.mod (neither module has replace directives), and stamps it: go install prints no
# version we could check and the binaries must be rebuilt when the Go toolchain changes
# (golangci-lint refuses code of a newer Go than it was built with).
go_install() {
  local pkg="$1" version="$2" dir="$3" stamp="$4" name="${1##*/}"
  mkdir -p "$dir/.new"
  (cd "$work" && step "build $name $version" \
    env GOBIN="$dir/.new" go install -trimpath -ldflags="-s -w" "$pkg@$version")
  mv -f "$dir/.new/$name" "$dir/$name"
  echo "$stamp" >"$dir/$name.stamp"
}

# find_shellcheck prints a shellcheck that reports the pinned version: the one on PATH, else
# Debian's, installed with apt-get (as root, or through sudo), after refreshing the package lists
# when apt does not know the pinned version yet (a fresh machine).
find_shellcheck() {
  local want="version: $shellcheck_version" p sudo=()
  if p="$(command -v shellcheck)" && reports "$p" --version "$want"; then
    echo "$p"
    return 0
  fi
  command -v apt-get >/dev/null || {
    log "shellcheck $shellcheck_version is not on PATH and there is no apt-get: install it from your OS's packages"
    return 1
  }
  [[ $(id -u) -eq 0 ]] || sudo=(sudo -n)
  if ! apt-cache show "shellcheck=$SHELLCHECK_DEBIAN_VERSION" >/dev/null 2>&1; then
    step "apt-get update" "${sudo[@]}" apt-get update -qq >&2
  fi
  step "install shellcheck $SHELLCHECK_DEBIAN_VERSION (Debian)" \
    env DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "shellcheck=$SHELLCHECK_DEBIAN_VERSION" >&2
  p="$(command -v shellcheck)" || true
  if ! reports "$p" --version "$want"; then
    log "shellcheck on PATH does not report $shellcheck_version after the install"
    return 1
  fi
  echo "$p"
}

ensure_lint() {
  local stamp
  stamp="github.com/golangci/golangci-lint/v2@v$GOLANGCI_LINT_VERSION $go_version"
  if ! stamped "$golangci_dir/golangci-lint" "$stamp"; then
    go_install github.com/golangci/golangci-lint/v2/cmd/golangci-lint "v$GOLANGCI_LINT_VERSION" "$golangci_dir" "$stamp"
  fi
  stamp="github.com/rhysd/actionlint@v$ACTIONLINT_VERSION $go_version"
  if ! stamped "$actionlint_dir/actionlint" "$stamp"; then
    go_install github.com/rhysd/actionlint/cmd/actionlint "v$ACTIONLINT_VERSION" "$actionlint_dir" "$stamp"
  fi
  stamp="github.com/zegl/kube-score@v$KUBE_SCORE_VERSION $go_version"
  if ! stamped "$kube_score_dir/kube-score" "$stamp"; then
    go_install github.com/zegl/kube-score/cmd/kube-score "v$KUBE_SCORE_VERSION" "$kube_score_dir" "$stamp"
  fi
  local shellcheck_path
  shellcheck_path="$(find_shellcheck)"
  link "$golangci_dir/golangci-lint" golangci-lint
  link "$actionlint_dir/actionlint" actionlint
  link "$kube_score_dir/kube-score" kube-score
  link "$shellcheck_path" shellcheck
}

# --- main ----------------------------------------------------------------------------------------------

main() {
  group="${1:-}"
  case "$group" in
  envtest | sim | lint) ;;
  *)
    echo "usage: $0 envtest|sim|lint" >&2
    exit 2
    ;;
  esac
  go_version="$(go env GOVERSION)"
  kwok_stamp="sigs.k8s.io/kwok@v$KWOK_VERSION $go_version"
  pulumi_version="$(gomod_version github.com/pulumi/pulumi/sdk/v3)"
  pulumi_dir="$cache/pulumi/$pulumi_version"
  kubernetes_sdk_version="$(gomod_version github.com/pulumi/pulumi-kubernetes/sdk/v4)"
  provider_stamp="github.com/pulumi/pulumi-kubernetes/provider/v4@$PULUMI_KUBERNETES_PROVIDER_MODULE_VERSION as ${kubernetes_sdk_version#v} $go_version"

  mkdir -p "$kube_dir" "$bin_dir"
  # Two runs at once (two terminals, make -j) would build twice and race on the final mv.
  if command -v flock >/dev/null; then
    exec 9>"$cache/.tools.lock"
    flock 9
  fi
  work="$(mktemp -d "${TMPDIR:-/tmp}/openneuro-tools.XXXXXX")"
  local total=$SECONDS

  if [[ "$group" == lint ]]; then
    ensure_lint
    log "lint tools ready in $((SECONDS - total))s: $bin_dir"
    echo "$bin_dir"
    return 0
  fi
  ensure_envtest
  if [[ "$group" == envtest ]]; then
    log "envtest ready in $((SECONDS - total))s: $kube_dir"
    echo "$kube_dir"
    return 0
  fi

  ensure_kube_controllers
  ensure_kwok
  local pulumi_path provider_path name
  pulumi_path="$(ensure_pulumi)"
  provider_path="$(ensure_provider)"

  # One folder with every tool of the group, for PATH: links to the versioned binaries above.
  for name in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl; do link "$kube_dir/$name" "$name"; done
  link "$kwok_dir/kwok" kwok
  link "$kwok_dir/stages.yaml" kwok-stages.yaml
  link "$pulumi_path" pulumi
  link "$provider_path" "$provider_bin"
  log "sim tools ready in $((SECONDS - total))s: $bin_dir"
  echo "$bin_dir"
}

link() { ln -sfn "$1" "$bin_dir/.$2.new" && mv -Tf "$bin_dir/.$2.new" "$bin_dir/$2"; }

# Sourced (by the tests), this file only defines its functions.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
