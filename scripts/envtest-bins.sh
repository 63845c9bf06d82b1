#!/usr/bin/env bash
# envtest-bins.sh makes sure the envtest binaries (etcd and kube-apiserver) of the pinned versions exist
# in a cache folder outside the repository, building them from the Go module proxy when they are missing,
# and prints that folder on stdout (progress goes to stderr), so it can be used as
#
#   KUBEBUILDER_ASSETS="$(scripts/envtest-bins.sh)" go test ./...
#
# Versions come from scripts/envtest-versions.env. The cache folder is
# ${OPENNEURO_TOOLS_CACHE:-$HOME/.cache/openneuro-infra}/envtest/k8s-<version>/.
#
# No prebuilt envtest download is reachable from the project's machines, so this builds from source:
# about 4 minutes for kube-apiserver on 2 cores, once. On a laptop with setup-envtest on PATH it is used
# first, and the build is the fallback.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=envtest-versions.env
. "$here/envtest-versions.env"

cache="${OPENNEURO_TOOLS_CACHE:-$HOME/.cache/openneuro-infra}"
dir="$cache/envtest/k8s-$KUBERNETES_VERSION"

log() { echo "envtest-bins: $*" >&2; }

# step NAME CMD... runs CMD and logs how long it took.
step() {
  local name="$1" start=$SECONDS
  shift
  log "$name ..."
  "$@"
  log "$name: done in $((SECONDS - start))s"
}

# have_kube_apiserver and have_etcd succeed when the cached binary runs and reports the pinned version.
have_kube_apiserver() {
  [[ -x "$dir/kube-apiserver" ]] &&
    "$dir/kube-apiserver" --version 2>/dev/null | grep -qx "Kubernetes v$KUBERNETES_VERSION"
}
have_etcd() {
  [[ -x "$dir/etcd" ]] &&
    "$dir/etcd" --version 2>/dev/null | grep -qx "etcd Version: $ETCD_VERSION"
}

# Binaries are built next to their final name and renamed, so a test never sees half a file.
# Builds run in a throw-away module with the environment pinned, so neither the repository's go.mod nor
# a go.work or a GOFLAGS of the caller can change what is built.
export GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0 GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
work=""
finish() {
  local rc=$?
  [[ -z "$work" ]] || rm -rf "$work"
  [[ $rc -eq 0 ]] || log "failed (exit $rc); the output above says why"
}
trap finish EXIT

# kube_gomod prints k8s.io/kubernetes's own go.mod, renamed and with every staging replace
# (k8s.io/X => ./staging/src/k8s.io/X) turned into the published k8s.io/X v0.<minor>.<patch>, so that
# its exact dependency versions are used.
kube_gomod() {
  local json gomod staging
  if ! json="$(go mod download -json "k8s.io/kubernetes@v$KUBERNETES_VERSION")"; then
    log "cannot download k8s.io/kubernetes@v$KUBERNETES_VERSION: $(sed -n 's/^[[:space:]]*"Error": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")"
    return 1
  fi
  gomod="$(sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")"
  staging="v0.${KUBERNETES_VERSION#*.}"
  sed -e 's|^module k8s.io/kubernetes$|module envtestbuild/kube-apiserver|' \
    -e "s|=> \./staging/src/\(k8s\.io/[^[:space:]]*\)|=> \1 $staging|" "$gomod"
  printf '\nrequire k8s.io/kubernetes v%s\n' "$KUBERNETES_VERSION"
}

build_kube_apiserver() {
  local m="$work/kube-apiserver" pkg=k8s.io/component-base/version
  local major="${KUBERNETES_VERSION%%.*}" minor="${KUBERNETES_VERSION#*.}"
  minor="${minor%%.*}"
  mkdir -p "$m"
  (cd "$work" && kube_gomod) >"$m/go.mod" # outside any module: the repository stays untouched
  # The version variables are what `make` sets (hack/lib/version.sh); without them the binary calls
  # itself v0.0.0-master and the cache check above could never match.
  local ldflags="-s -w -X $pkg.gitVersion=v$KUBERNETES_VERSION -X $pkg.gitMajor=$major"
  ldflags+=" -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  (cd "$m" && step "download kube-apiserver modules" go list -deps k8s.io/kubernetes/cmd/kube-apiserver >/dev/null)
  (cd "$m" && step "build kube-apiserver v$KUBERNETES_VERSION" \
    go build -trimpath -ldflags="$ldflags" -o "$dir/.kube-apiserver.new" k8s.io/kubernetes/cmd/kube-apiserver)
  mv -f "$dir/.kube-apiserver.new" "$dir/kube-apiserver"
}

build_etcd() {
  local m="$work/etcd"
  # etcd's server module is its own main package (server/main.go); its go.mod pins the dependencies.
  mkdir -p "$m"
  cat >"$m/go.mod" <<EOF
module envtestbuild/etcd

go 1.25.0

require go.etcd.io/etcd/server/v3 v$ETCD_VERSION
EOF
  (cd "$m" && step "download etcd modules" go list -deps go.etcd.io/etcd/server/v3 >/dev/null)
  (cd "$m" && step "build etcd v$ETCD_VERSION" \
    go build -trimpath -ldflags="-s -w" -o "$dir/.etcd.new" go.etcd.io/etcd/server/v3)
  mv -f "$dir/.etcd.new" "$dir/etcd"
}

# try_setup_envtest uses setup-envtest's own store when it works (a laptop with internet access).
try_setup_envtest() {
  command -v setup-envtest >/dev/null || return 1
  local path
  path="$(timeout 120 setup-envtest use -p path "$KUBERNETES_VERSION" 2>/dev/null)" || return 1
  [[ -x "$path/kube-apiserver" && -x "$path/etcd" ]] || return 1
  ln -sf "$path/kube-apiserver" "$dir/kube-apiserver"
  ln -sf "$path/etcd" "$dir/etcd"
}

mkdir -p "$dir"
# Two runs at once (two terminals, make -j) would build twice and race on the final mv.
if command -v flock >/dev/null; then
  exec 9>"$dir/.lock"
  flock 9
fi

total=$SECONDS
if have_kube_apiserver && have_etcd; then
  log "cached: kube-apiserver v$KUBERNETES_VERSION and etcd v$ETCD_VERSION in $dir"
  echo "$dir"
  exit 0
fi

if try_setup_envtest && have_kube_apiserver && have_etcd; then
  log "using setup-envtest's binaries (linked into $dir)"
  echo "$dir"
  exit 0
fi
# A half-working setup-envtest may have left links to other versions.
for bin in kube-apiserver etcd; do
  if [[ -L "$dir/$bin" ]]; then rm -f "$dir/$bin"; fi
done

work="$(mktemp -d "${TMPDIR:-/tmp}/envtest-bins.XXXXXX")"
# Plain ifs, not `have_etcd || build_etcd`: set -e is off inside the right side of || and a failed
# build would go unnoticed.
if ! have_etcd; then
  build_etcd
fi
if ! have_kube_apiserver; then
  build_kube_apiserver
fi

have_etcd || { log "etcd in $dir does not report version $ETCD_VERSION"; exit 1; }
have_kube_apiserver || { log "kube-apiserver in $dir does not report v$KUBERNETES_VERSION"; exit 1; }
log "ready in $((SECONDS - total))s: $dir"
echo "$dir"
