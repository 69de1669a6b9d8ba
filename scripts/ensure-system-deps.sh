#!/usr/bin/env bash
# Installs the Debian packages the tests and the local stack need, when they are missing.
# As root it uses apt-get; otherwise it names what to install and fails.
set -euo pipefail

packages=()
command -v redis-server >/dev/null 2>&1 || packages+=(redis-server)
# The gateway's interop tests talk to peers of other stacks: nghttp2's h2load and nghttp, curl, and
# gRPC C-core through Debian's python3 (always /usr/bin/python3: another python3 may come first on PATH).
command -v h2load >/dev/null 2>&1 || packages+=(nghttp2-client)
command -v curl >/dev/null 2>&1 || packages+=(curl)
# The TLS tests make their certificates with the openssl CLI (testkit generateTestCertificates).
command -v openssl >/dev/null 2>&1 || packages+=(openssl)
# The Kubernetes manifests test renders deploy/kubernetes with `kubectl kustomize`, offline. Any kubectl
# does: Debian's kubernetes-client (1.20, kustomize v2.0.3) renders the base the same as a current one.
command -v kubectl >/dev/null 2>&1 || packages+=(kubernetes-client)
# The admin page's browser test drives Debian's chromium (always /usr/bin/chromium) with playwright-core.
[ -x /usr/bin/chromium ] || packages+=(chromium)
if ! /usr/bin/python3 -c 'import grpc, grpc_tools' >/dev/null 2>&1; then
  packages+=(python3-grpcio python3-grpc-tools python3-protobuf)
fi
for extra in "$@"; do
  case "$extra" in
    bench)
      command -v nginx >/dev/null 2>&1 || packages+=(nginx-light)
      command -v haproxy >/dev/null 2>&1 || packages+=(haproxy)
      ;;
  esac
done

[ ${#packages[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "missing system packages: ${packages[*]}" >&2
  echo "install them with: sudo apt-get install -y ${packages[*]}" >&2
  exit 1
fi
echo "installing system packages: ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
# The Debian package starts a system redis on :6379; the tests and the local stack run their own.
if [[ " ${packages[*]} " == *" redis-server "* ]] && command -v systemctl >/dev/null 2>&1; then
  systemctl disable --now redis-server >/dev/null 2>&1 || true
fi
