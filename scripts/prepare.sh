#!/usr/bin/env bash
# Makes this machine ready for the service or the tests, and is silent when it already is.
#
#   scripts/prepare.sh service   Redis and PostgreSQL answering (REDIS_URL, DATABASE_URL)
#   scripts/prepare.sh test      the same for TEST_REDIS_URL / TEST_PG_URL, plus the
#                                redis-server binary (tests start private ones), the databases
#                                `test` and `root`, and Chromium (CHROMIUM_PATH or
#                                /usr/bin/chromium) for the browser tests
#
# Servers on this machine (localhost, 127.0.0.1, ::1) are started when installed but stopped,
# and installed with apt-get when missing and running as root. Servers elsewhere are only
# checked. Anything it cannot fix ends in one line saying what to do, and exit code 1.
# Pure bash (it runs before `npm ci` in .ci/run), so it needs nothing from node_modules.
set -euo pipefail

mode=${1:-test}
case $mode in
  service | test) ;;
  *)
    echo "usage: scripts/prepare.sh [service|test]" >&2
    exit 2
    ;;
esac
root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

say() { echo "prepare: $*" >&2; }

if [ "$mode" = test ]; then
  redis_var=TEST_REDIS_URL pg_var=TEST_PG_URL
else
  redis_var=REDIS_URL pg_var=DATABASE_URL
fi
redis_url=${!redis_var:-redis://127.0.0.1:6379}
pg_url=${!pg_var:-postgres://postgres@127.0.0.1:5432/postgres}

# Splits scheme://[user[:password]@]host[:port][/path][?query] into url_user, url_password,
# url_host, url_port (empty when absent; an IPv6 host loses its brackets).
split_url() {
  local rest=${1#*://} auth=''
  rest=${rest%%/*}
  rest=${rest%%\?*}
  if [[ $rest == *@* ]]; then
    auth=${rest%@*}
    rest=${rest##*@}
  fi
  url_user=${auth%%:*}
  url_password=''
  [[ $auth == *:* ]] && url_password=${auth#*:}
  if [[ $rest == \[* ]]; then
    url_host=${rest%%]*}
    url_host=${url_host#[}
    rest=${rest#*]}
  else
    url_host=${rest%%:*}
    rest=${rest#"$url_host"}
  fi
  url_port=${rest#:}
}

is_local() { [[ -z $1 || $1 == localhost || $1 == 127.0.0.1 || $1 == ::1 ]]; }

# A TCP connection within 3 s (bash's /dev/tcp: no client needed, works before apt-get).
answers() { timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null; }

split_url "$redis_url"
redis_host=${url_host:-127.0.0.1} redis_port=${url_port:-6379}
split_url "$pg_url"
pg_host=${url_host:-127.0.0.1} pg_port=${url_port:-5432} pg_user=${url_user:-postgres}
pg_password=$url_password

is_root=false
[ "$(id -u)" = 0 ] && is_root=true
has() { command -v "$1" >/dev/null 2>&1; }

chromium=${CHROMIUM_PATH:-/usr/bin/chromium}
problems=() # what this script cannot fix, each a short clause
packages=() # Debian packages that would fix what is missing
needs=()    # the same, in words

# 1. What is missing. A running server needs nothing installed; the tests always need
#    redis-server itself, because some of them start private ones.
redis_up=false pg_up=false
answers "$redis_host" "$redis_port" && redis_up=true
if has pg_isready; then
  pg_isready -q -h "$pg_host" -p "$pg_port" -t 3 && pg_up=true
else
  answers "$pg_host" "$pg_port" && pg_up=true
fi
if { [ "$mode" = test ] || { ! $redis_up && is_local "$redis_host"; }; } && ! has redis-server; then
  packages+=(redis-server) needs+=("Redis (redis-server)")
fi
if is_local "$pg_host"; then
  if ! $pg_up && ! has pg_ctlcluster; then
    packages+=(postgresql) needs+=("PostgreSQL")
  fi
fi
if [ "$mode" = test ] && [ ! -x "$chromium" ]; then
  if [ -n "${CHROMIUM_PATH:-}" ]; then
    problems+=("CHROMIUM_PATH=$CHROMIUM_PATH is not an executable file")
  else
    packages+=(chromium) needs+=("Chromium (/usr/bin/chromium, for the browser tests)")
  fi
fi

# 2. Install it, or say how.
if [ ${#packages[@]} -gt 0 ]; then
  if $is_root && has apt-get; then
    say "installing ${packages[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${packages[@]}" >/dev/null
  else
    how="install them with your package manager"
    has apt-get && how="run: sudo apt-get install -y ${packages[*]}"
    [[ " ${packages[*]} " == *" postgresql "* ]] && how+=" (or set $pg_var to a running server)"
    joined=$(printf '%s, ' "${needs[@]}")
    problems=("missing ${joined%, }; $how" ${problems[@]+"${problems[@]}"})
  fi
fi

# 3. Start what is installed but stopped, on this machine only.
if ! $redis_up && ! answers "$redis_host" "$redis_port"; then
  if ! is_local "$redis_host"; then
    problems+=("Redis at $redis_host:$redis_port ($redis_var) does not answer; start it there")
  elif has redis-server; then
    say "starting Redis on 127.0.0.1:$redis_port"
    mkdir -p "$root_dir/var/redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$redis_port" --save "" \
      --appendonly no --dir "$root_dir/var/redis" --logfile "$root_dir/var/redis/redis.log" || true
    for _ in $(seq 1 50); do answers 127.0.0.1 "$redis_port" && break; sleep 0.1; done
    answers 127.0.0.1 "$redis_port" ||
      problems+=("Redis did not start; see $root_dir/var/redis/redis.log")
  fi
fi

if ! $pg_up; then
  if ! is_local "$pg_host"; then
    problems+=("PostgreSQL at $pg_host:$pg_port ($pg_var) does not answer; start it there")
  elif has pg_ctlcluster; then
    version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1 || true)
    if ! $is_root; then
      problems+=("PostgreSQL is installed but stopped; run: sudo pg_ctlcluster ${version:-<version>} main start")
    else
      say "starting PostgreSQL"
      if [ -z "$version" ]; then
        version=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1 || true)
        pg_createcluster "$version" main >/dev/null
      fi
      pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
      for _ in $(seq 1 60); do pg_isready -q -h "$pg_host" -p "$pg_port" && break; sleep 1; done
      if pg_isready -q -h "$pg_host" -p "$pg_port"; then
        pg_up=true
      else
        problems+=("PostgreSQL $version did not start on port $pg_port; see /var/log/postgresql")
      fi
    fi
  fi
fi

# 4. On this machine, the service and the tests log in over TCP with no password (trust), as
#    the README says; the tests also expect the databases `test` and `root` to exist.
if $pg_up && is_local "$pg_host" && has psql; then
  admin_url="postgresql://$pg_user${pg_password:+:$pg_password}@$pg_host:$pg_port/postgres"
  [[ $pg_host == *:* ]] && admin_url="postgresql://$pg_user${pg_password:+:$pg_password}@[$pg_host]:$pg_port/postgres"
  sql() { psql "$admin_url" -X -tAq -v ON_ERROR_STOP=1 -c "$1"; }
  if ! sql 'SELECT 1' >/dev/null 2>&1 && [ -z "$pg_password" ] && $is_root && has runuser; then
    say "allowing trust auth on 127.0.0.1 and ::1 for PostgreSQL"
    hba=$(runuser -u postgres -- psql -X -tAc 'SHOW hba_file')
    sed -i -E 's/^(host[[:space:]]+all[[:space:]]+all[[:space:]]+(127\.0\.0\.1\/32|::1\/128)[[:space:]]+)[a-z0-9-]+/\1trust/' "$hba"
    runuser -u postgres -- psql -X -tAc 'SELECT pg_reload_conf()' >/dev/null
    for _ in $(seq 1 20); do sql 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.25; done
  fi
  if ! login_error=$(sql 'SELECT 1' 2>&1 >/dev/null); then
    problems+=("cannot log in to PostgreSQL as $pg_user: ${login_error%%$'\n'*}")
  elif [ "$mode" = test ]; then
    present=$(sql "SELECT string_agg(datname, ' ') FROM pg_database WHERE datname IN ('test', 'root')")
    for db in test root; do
      [[ " $present " == *" $db "* ]] && continue
      say "creating database $db"
      sql "CREATE DATABASE $db" >/dev/null
    done
  fi
fi

if [ ${#problems[@]} -gt 0 ]; then
  joined=$(printf '%s; ' "${problems[@]}")
  echo "prepare ($mode): ${joined%; }" >&2
  exit 1
fi
