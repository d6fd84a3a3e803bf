#!/usr/bin/env bash
# Make sure RabbitMQ and PostgreSQL answer for `make demo` / `make test`.
#
# Order: 1) already answering -> done; 2) start the locally installed server;
# 3) as root on Debian, apt-get install it and start it; 4) docker compose
# (infra/compose.yaml); 5) otherwise say what to install and exit 1.
#
# Steps 2-4 are only tried for a service whose configured address is loopback
# AND whose port is that service's default (5672 / 5432): a local or compose
# server listens on the default port, so for any other port starting one could
# never make the configured address answer, and we fail fast instead.
#
# This script never stops a service and never creates a database (the Python
# code does that). Every wait is bounded.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
COMPOSE_FILE="$SCRIPT_DIR/compose.yaml"
WAIT_SECONDS=60      # bound for each wait loop (RabbitMQ can take ~20-40 s to boot)
AMQP_DEFAULT_PORT=5672
PG_DEFAULT_PORT=5432

AMQP_URL=${RECORDSDESK_TEST_AMQP_URL:-${RECORDSDESK_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/}}
DB_URL=${RECORDSDESK_TEST_DATABASE_URL:-${RECORDSDESK_DATABASE_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432/recordsdesk}}

log() { printf 'ensure-services: %s\n' "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }

# parse_url URL DEFAULT_PORT -> sets URL_SCHEME URL_HOST URL_PORT
# Accepts scheme[+driver]://[user[:pass]@]host[:port][/path][?query],
# host may be a bracketed IPv6 literal. An empty host means 127.0.0.1.
parse_url() {
    local url=$1 default_port=$2 rest
    if [[ $url != *://* ]]; then
        log "not a URL: $url"
        exit 2
    fi
    URL_SCHEME=${url%%://*}
    URL_SCHEME=${URL_SCHEME%%+*}            # postgresql+asyncpg -> postgresql
    rest=${url#*://}
    rest=${rest%%[/?#]*}                    # authority only
    rest=${rest##*@}                        # drop user:pass@
    if [[ $rest == \[* ]]; then             # [::1]:5432
        URL_HOST=${rest%%]*}
        URL_HOST=${URL_HOST#[}
        URL_PORT=${rest#*]}
    else
        URL_HOST=${rest%%:*}
        URL_PORT=${rest#"$URL_HOST"}
    fi
    URL_PORT=${URL_PORT#:}
    URL_HOST=${URL_HOST:-127.0.0.1}
    URL_PORT=${URL_PORT:-$default_port}
    if [[ ! $URL_PORT =~ ^[0-9]+$ ]]; then
        log "bad port '$URL_PORT' in $url"
        exit 2
    fi
}

parse_url "$AMQP_URL" "$AMQP_DEFAULT_PORT"
AMQP_HOST=$URL_HOST AMQP_PORT=$URL_PORT
parse_url "$DB_URL" "$PG_DEFAULT_PORT"
PG_HOST=$URL_HOST PG_PORT=$URL_PORT

hostport() { if [[ $1 == *:* ]]; then printf '[%s]:%s' "$1" "$2"; else printf '%s:%s' "$1" "$2"; fi; }
AMQP_AT=$(hostport "$AMQP_HOST" "$AMQP_PORT")
PG_AT=$(hostport "$PG_HOST" "$PG_PORT")

is_loopback() { [[ $1 == 127.0.0.1 || $1 == localhost || $1 == ::1 ]]; }

tcp_open() { timeout 2 bash -c "</dev/tcp/$1/$2" >/dev/null 2>&1; }

rabbit_answers() { tcp_open "$AMQP_HOST" "$AMQP_PORT"; }
pg_answers() {
    tcp_open "$PG_HOST" "$PG_PORT" || return 1
    if have pg_isready; then
        pg_isready -q -t 2 -h "$PG_HOST" -p "$PG_PORT" >/dev/null 2>&1 || return 1
    fi
}

# wait_for WHAT CHECK_FUNCTION -- poll once a second, at most WAIT_SECONDS.
wait_for() {
    local what=$1 check=$2 i
    log "waiting up to ${WAIT_SECONDS}s for $what to answer"
    for ((i = 0; i < WAIT_SECONDS; i++)); do
        if "$check"; then
            log "$what answers"
            return 0
        fi
        sleep 1
    done
    log "$what still does not answer after ${WAIT_SECONDS}s"
    return 1
}

# Only these may be started/installed here (see the header comment).
rabbit_startable() { is_loopback "$AMQP_HOST" && [[ $AMQP_PORT == "$AMQP_DEFAULT_PORT" ]]; }
pg_startable() { is_loopback "$PG_HOST" && [[ $PG_PORT == "$PG_DEFAULT_PORT" ]]; }

# Version of the default (first) cluster, e.g. 15; empty when none.
pg_version() {
    local d
    for d in /etc/postgresql/*/main; do
        [[ -d $d ]] || continue
        d=${d%/main}
        echo "${d##*/}"
        return 0
    done
}

start_local_rabbit() {
    have rabbitmq-server || return 1
    log "starting local RabbitMQ: rabbitmq-server -detached"
    rabbitmq-server -detached >&2 || log "rabbitmq-server -detached failed (already running?)"
    if have rabbitmqctl; then
        log "waiting up to ${WAIT_SECONDS}s for rabbitmqctl await_startup"
        timeout "$WAIT_SECONDS" rabbitmqctl -q await_startup >/dev/null 2>&1 || true
    fi
    wait_for "RabbitMQ at $AMQP_AT" rabbit_answers
}

start_local_pg() {
    local ver
    have pg_ctlcluster && [[ -d /etc/postgresql ]] || return 1
    ver=$(pg_version)
    [[ -n $ver ]] || return 1
    log "starting local PostgreSQL: pg_ctlcluster --skip-systemctl-redirect $ver main start"
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start >&2 ||
        log "pg_ctlcluster start failed (already running?)"
    wait_for "PostgreSQL at $PG_AT" pg_answers
}

# After a fresh apt install: let user postgres in over TCP loopback without a
# password (default cluster only), then reload.
pg_trust_loopback() {
    local ver hba tmp
    ver=$(pg_version)
    hba=/etc/postgresql/$ver/main/pg_hba.conf
    [[ -f $hba ]] || { log "no $hba; not changing authentication"; return 0; }
    if ! grep -qE '^host[[:space:]]+all[[:space:]]+postgres[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
        log "allowing user postgres over 127.0.0.1/::1 without password in $hba"
        tmp=$(mktemp)
        {
            echo "# added by RecordsDesk infra/ensure-services.sh"
            echo "host    all    postgres    127.0.0.1/32    trust"
            echo "host    all    postgres    ::1/128         trust"
            cat "$hba"
        } >"$tmp"
        cat "$tmp" >"$hba"    # keep owner and mode of the original file
        rm -f "$tmp"
    fi
    pg_ctlcluster --skip-systemctl-redirect "$ver" main reload >&2 || true
}

need_rabbit() { ! rabbit_answers; }
need_pg() { ! pg_answers; }

report_ok() {
    echo "services: RabbitMQ at $AMQP_AT and PostgreSQL at $PG_AT answer"
    exit 0
}

# 1-3. Already answering?
if ! need_rabbit && ! need_pg; then
    report_ok
fi

# 4. Start what is installed locally.
if need_rabbit && rabbit_startable; then start_local_rabbit || true; fi
if need_pg && pg_startable; then start_local_pg || true; fi
if ! need_rabbit && ! need_pg; then report_ok; fi

# 5. Root on Debian: install what is missing, then start it.
if [[ -f /etc/debian_version ]] && [[ $(id -u) == 0 ]] && have apt-get; then
    pkgs=()
    if need_rabbit && rabbit_startable && ! have rabbitmq-server; then pkgs+=(rabbitmq-server); fi
    pg_fresh=0
    if need_pg && pg_startable && ! { have pg_ctlcluster && [[ -n $(pg_version) ]]; }; then
        pkgs+=(postgresql)
        pg_fresh=1
    fi
    if ((${#pkgs[@]})); then
        log "installing ${pkgs[*]} with apt-get"
        if apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y "${pkgs[@]}" >&2; then
            if need_rabbit && rabbit_startable; then start_local_rabbit || true; fi
            if ((pg_fresh)); then
                if need_pg; then start_local_pg || true; fi
                pg_trust_loopback
                wait_for "PostgreSQL at $PG_AT" pg_answers || true
            fi
        else
            log "apt-get install ${pkgs[*]} failed"
        fi
    fi
    if ! need_rabbit && ! need_pg; then report_ok; fi
fi

# 6. Docker: bring up only the missing services from infra/compose.yaml.
if have docker && timeout 15 docker info >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
    svcs=()
    if need_rabbit && rabbit_startable; then svcs+=(rabbitmq); fi
    if need_pg && pg_startable; then svcs+=(postgres); fi
    if ((${#svcs[@]})); then
        log "starting ${svcs[*]} with docker compose -f $COMPOSE_FILE (waits up to 90s for health)"
        docker compose -f "$COMPOSE_FILE" up -d --wait --wait-timeout 90 "${svcs[@]}" >&2 ||
            log "docker compose up failed"
        if need_rabbit && rabbit_startable; then wait_for "RabbitMQ at $AMQP_AT" rabbit_answers || true; fi
        if need_pg && pg_startable; then wait_for "PostgreSQL at $PG_AT" pg_answers || true; fi
    fi
    if ! need_rabbit && ! need_pg; then report_ok; fi
fi

# 7. Give up with instructions.
missing=""
if need_rabbit; then missing="RabbitMQ at $AMQP_AT"; fi
if need_pg; then missing="${missing:+$missing and }PostgreSQL at $PG_AT"; fi
{
    echo "ensure-services: not answering: $missing"
    echo "RecordsDesk needs RabbitMQ ($AMQP_AT) and PostgreSQL ($PG_AT)." \
        "Install them with: apt-get install rabbitmq-server postgresql" \
        "(or run Docker and use infra/compose.yaml)," \
        "or point RECORDSDESK_AMQP_URL / RECORDSDESK_DATABASE_URL at running ones."
    if ! rabbit_startable && need_rabbit; then
        echo "(RabbitMQ is only started here when its URL is loopback on port $AMQP_DEFAULT_PORT.)"
    fi
    if ! pg_startable && need_pg; then
        echo "(PostgreSQL is only started here when its URL is loopback on port $PG_DEFAULT_PORT.)"
    fi
} >&2
exit 1
