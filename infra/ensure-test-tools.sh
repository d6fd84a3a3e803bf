#!/usr/bin/env bash
# Make sure the tools the test suite drives (beyond RabbitMQ and PostgreSQL) are installed.
#
# Today that is Dovecot's IMAP server: tests/integration/intake/test_imap_poller.py starts
# its own throwaway instance on a free loopback port. A system-wide Dovecot is never wanted
# here, so the package is installed without starting services (policy-rc.d), and a system
# instance that the package enabled anyway is stopped and disabled.
#
# Idempotent: does nothing when the binary is already there. Never fails `make test`: when
# it cannot install, it says what to install and the IMAP tests skip with the same message.
set -uo pipefail

log() { printf 'ensure-test-tools: %s\n' "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }
have_dovecot() { have dovecot || [[ -x /usr/sbin/dovecot ]]; }

stop_system_dovecot() {
    # The test instance uses its own config and port; a system one on 143/993 must not run.
    if have systemctl && [[ -d /run/systemd/system ]]; then
        systemctl disable --now dovecot.service dovecot.socket >/dev/null 2>&1 || true
    elif have systemctl; then
        systemctl disable dovecot.service dovecot.socket >/dev/null 2>&1 || true
    fi
    if [[ -f /run/dovecot/master.pid ]] && have doveadm; then
        log "stopping the system Dovecot instance"
        doveadm -c /etc/dovecot/dovecot.conf stop >/dev/null 2>&1 || true
    fi
}

if have_dovecot; then
    log "dovecot is installed"
    exit 0
fi

if [[ -f /etc/debian_version ]] && [[ $(id -u) == 0 ]] && have apt-get; then
    log "installing dovecot-imapd with apt-get (services not started)"
    created_policy=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        created_policy=1
    fi
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q dovecot-imapd >&2; then
        apt-get update -q >&2 &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q dovecot-imapd >&2 ||
            log "apt-get install dovecot-imapd failed"
    fi
    if ((created_policy)); then rm -f /usr/sbin/policy-rc.d; fi
    stop_system_dovecot
fi

if have_dovecot; then
    log "dovecot is installed"
else
    log "dovecot is not installed: the IMAP polling tests will be skipped." \
        "Install it with: apt-get install dovecot-imapd (Debian/Ubuntu)"
fi
exit 0
