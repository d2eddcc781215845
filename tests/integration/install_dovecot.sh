#!/usr/bin/env bash
# Installs Debian's Dovecot for the IMAP poller's tests (run by `make test` only when
# /usr/sbin/dovecot is missing). The tests start a private Dovecot of their own on a free
# loopback port (tests/integration/imap_server.py) and never use a system one, so the
# package must not start one either: its start is denied through policy-rc.d, and should
# a system Dovecot run anyway after the install, it is stopped by its own pid file.
set -euo pipefail

policy=/usr/sbin/policy-rc.d
ours=""
cleanup() { if [ -n "$ours" ]; then rm -f "$policy"; fi; }
trap cleanup EXIT
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# written by sequencer install_dovecot.sh: deny service starts\nexit 101\n' \
        > "$policy"
    chmod 755 "$policy"
    ours=1
fi

if ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y dovecot-imapd; }
then
    echo "ERROR: could not install dovecot-imapd (needed by tests/integration/" \
         "test_imap_poller.py); install it by hand: apt-get install dovecot-imapd" >&2
    exit 1
fi
if [ ! -x /usr/sbin/dovecot ]; then
    echo "ERROR: dovecot-imapd installed but /usr/sbin/dovecot is missing" >&2
    exit 1
fi

# A system instance started anyway (a policy that allows starts) holds ports 143/993.
if [ -s /run/dovecot/master.pid ] && kill -0 "$(cat /run/dovecot/master.pid)" 2>/dev/null
then
    echo "stopping the system Dovecot the package started (the tests run their own)"
    /usr/sbin/dovecot stop || true
fi
echo "dovecot-imapd installed: $(/usr/sbin/dovecot --version)"
