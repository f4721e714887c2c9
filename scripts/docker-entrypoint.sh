#!/bin/sh
# The container's entrypoint. APP_SECRET and ADMIN_TOKEN, when not set, are generated on the
# first start and kept in $SECRETS_DIR (a volume), so an image or compose file never ships a
# known secret and links already sent keep working after a restart. Then it runs the command.
set -eu
secrets_dir=${SECRETS_DIR:-/app/secrets}

use_or_generate() {
  name=$1
  eval "current=\${$name:-}"
  [ -n "$current" ] && return 0
  file="$secrets_dir/$name"
  if [ ! -s "$file" ]; then
    umask 077
    tmp="$file.$$"
    tr -dc 'A-Za-z0-9' </dev/urandom | head -c 48 >"$tmp"
    # ln fails if another container got there first; everyone then reads the same file.
    ln "$tmp" "$file" 2>/dev/null && echo "entrypoint: generated $name in $file" >&2 || true
    rm -f "$tmp"
  fi
  export "$name=$(cat "$file")"
}

use_or_generate APP_SECRET
use_or_generate ADMIN_TOKEN
exec "$@"
