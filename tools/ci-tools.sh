#!/usr/bin/env bash
# Installs what the real-VS-Code tests and `npm run demo` need, outside the repo, and skips whatever is
# already there (idempotent):
#   - Debian packages chromium (the browser Playwright drives), libkrb5-dev and build-essential
#     (code-server's native modules build from source);
#   - Node 24 (npm package node@24): code-server needs exactly Node 24 to install and to run;
#   - code-server 4.139.1 (a real VS Code 1.139.1 served to the browser).
# Tools folder: $LAYERLENS_TOOLS, default ~/.cache/layerlens-tools. Layout (tools/codeserver.mjs reads it):
#   $TOOLS/node24/node_modules/node/bin/node   $TOOLS/cs/node_modules/.bin/code-server
set -euo pipefail

TOOLS="${LAYERLENS_TOOLS:-$HOME/.cache/layerlens-tools}"
NODE_SPEC="node@24"
CODE_SERVER_VERSION="4.139.1"
APT_PACKAGES=(chromium libkrb5-dev build-essential)

log() { printf '[ci-tools] %s\n' "$*"; }

install_apt_packages() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then log "apt packages present: ${APT_PACKAGES[*]}"; return; fi
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { log "need root (or sudo) to apt-get install ${missing[*]}"; exit 1; }
    sudo=(sudo)
  fi
  log "apt-get install ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" </dev/null
}

install_node24() {
  local node="$TOOLS/node24/node_modules/node/bin/node"
  if [ -f "$TOOLS/node24/.complete" ] && [ -x "$node" ] && "$node" -e 'process.exit(process.versions.node.split(".")[0] === "24" ? 0 : 1)'; then
    log "node 24 present: $("$node" -v)"; return
  fi
  log "installing $NODE_SPEC into $TOOLS/node24"
  rm -rf "$TOOLS/node24"; mkdir -p "$TOOLS/node24"
  npm i --prefix "$TOOLS/node24" --no-audit --no-fund --loglevel=error "$NODE_SPEC" </dev/null
  "$node" -v
  touch "$TOOLS/node24/.complete"
}

install_code_server() {
  local dir="$TOOLS/cs"
  if [ -f "$dir/.complete" ] && [ "$(cat "$dir/.complete")" = "$CODE_SERVER_VERSION" ] && [ -x "$dir/node_modules/.bin/code-server" ]; then
    log "code-server $CODE_SERVER_VERSION present"; return
  fi
  log "installing code-server $CODE_SERVER_VERSION into $dir (about 3 minutes: native modules compile)"
  rm -rf "$dir"; mkdir -p "$dir"
  PATH="$TOOLS/node24/node_modules/node/bin:$PATH" \
    npm i --prefix "$dir" --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION" </dev/null
  echo "$CODE_SERVER_VERSION" >"$dir/.complete"
}

mkdir -p "$TOOLS"
install_apt_packages
install_node24
install_code_server
log "tools ready in $TOOLS"
