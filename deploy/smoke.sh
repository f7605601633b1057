# Sourced by deploy/run.sh: `smoke` and `data-test` against the stack `up` started (gate on $gate).
#
# The deployment runs in Production: the gate's faucet and /dev endpoints are off. Test wallets are funded the way an
# operator mints test money on the local facilitator's simulated chain: one SQL transaction in gatedb, the same rows
# POST /dev/faucet writes (token_accounts credited, a 'faucet' transfer from the zero address). Test USDC on Base Sepolia only.

interop="$root/tests/Interop"
usdc_asset="0x036cbd53842c5426634e7929541ec2318f3dcf7e"   # Payments/X402/Networks.cs, lowercase as the ledger keeps it
network="eip155:84532"

psql_in() {
    local database="$1" sql="$2"
    "${compose[@]}" exec -T -e PGPASSWORD="$(parameter POSTGRES_PASSWORD)" postgres \
        psql -v ON_ERROR_STOP=1 -qAt -h 127.0.0.1 -p "$POSTGRES_PORT" -U postgres -d "$database" -c "$sql"
}

prepare_clients() {
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$gate/health")" = 200 ] || fail "the gate does not answer on $gate (run: bash deploy/run.sh up)"
    install_node_prerequisites
    [ -d "$interop/node_modules" ] || (cd "$interop" && npm ci --no-audit --no-fund >/dev/null)
}

# Prints "<private key> <lowercase address>" of a fresh wallet holding <amount> atomic units of test USDC.
funded_wallet() {
    local amount="$1" key address
    key="0x$(openssl rand -hex 32)"
    address="$(cd "$interop" && node -e "import('viem/accounts').then(a => console.log(a.privateKeyToAccount('$key').address.toLowerCase()))")"
    psql_in gatedb "
        INSERT INTO token_accounts (address, asset, network, balance) VALUES ('$address', '$usdc_asset', '$network', $amount)
        ON CONFLICT (address, asset, network) DO UPDATE SET balance = token_accounts.balance + EXCLUDED.balance, updated_at = now();
        INSERT INTO token_transfers (kind, asset, network, from_address, to_address, value, transaction)
        VALUES ('faucet', '$usdc_asset', '$network', '0x0000000000000000000000000000000000000000', '$address', $amount,
                '0x' || encode(sha256(convert_to('deploy smoke ' || gen_random_uuid(), 'UTF8')), 'hex'));" >/dev/null
    echo "$key $address"
}

ledger_balance() {
    psql_in gatedb "SELECT coalesce((SELECT balance FROM token_accounts WHERE address = '$1' AND asset = '$usdc_asset' AND network = '$network'), 0)"
}

# Runs one tests/Interop script (env assignments first, the script last); its one JSON line is kept in $result.
result=""
client() {
    local script="${*: -1}" started
    started="$(now)"
    result="$(cd "$interop" && env GATE_URL="$gate" "${@:1:$#-1}" node "$script" | tail -1)" || true
    if [ "$(jq -r .ok <<<"$result" 2>/dev/null)" != true ]; then
        echo "FAIL $script: $(jq -c '{error}' <<<"$result" 2>/dev/null || echo "$result")" >&2
        return 1
    fi
    echo "ok   $script ($(since "$started") s)" >&2
}

check() {
    local what="$1"; shift
    if "$@"; then echo "ok   $what" >&2; else echo "FAIL $what" >&2; return 1; fi
}

cmd_smoke() {
    local started failed=0 key address key2 address2 before refunded
    started="$(now)"
    prepare_clients
    read -r key address <<<"$(funded_wallet 1000000)"
    read -r key2 address2 <<<"$(funded_wallet 1000000)"

    # x402: @x402/fetch pays PUT then GET of a key.
    client PRIVATE_KEY="$key" v2-fetch.mjs || failed=1

    # A session: opened with @x402/fetch, spent with its token, topped up, closed; the refund lands on the ledger.
    before="$(ledger_balance "$address")"
    if client PRIVATE_KEY="$key" sessions.mjs; then
        refunded="$(jq -r .closed.body.refunded <<<"$result")"
        local paid
        paid="$(jq -r '[.deposit, .topUp.amount] | map(tonumber) | add' <<<"$result")"
        check "session closed (HTTP $(jq -r .closed.status <<<"$result")), refund $refunded on the ledger" \
            [ "$(jq -r .closed.status <<<"$result")" = 200 ] || failed=1
        # The PUT of the script's own content key costs $0.01 = 10000; then deposit + top-up paid, the refund paid back.
        check "payer's ledger balance $before - 10000 - $paid + $refunded = $(ledger_balance "$address")" \
            [ "$(( before - 10000 - paid + refunded ))" = "$(ledger_balance "$address")" ] || failed=1
        check "refund transfer recorded" \
            [ "$(psql_in gatedb "SELECT coalesce(sum(value), 0) FROM token_transfers WHERE kind = 'refund' AND to_address = '$address'")" = "$refunded" ] \
            || failed=1
    else
        failed=1
    fi

    # A paid MCP tool call (official MCP SDK client; x402 payload in _meta, session token on the transport).
    client PRIVATE_KEY="$key" PRIVATE_KEY_2="$key2" mcp.mjs || failed=1

    # MPP: mppx pays through the WWW-Authenticate: Payment challenge.
    client PRIVATE_KEY="$key2" mpp.mjs || failed=1

    [ "$failed" = 0 ] || fail "smoke failed"
    cmd_data_test
    log "smoke passed in $(since "$started") s"
}

# A session opened and spent, the Postgres container restarted, the session still there with the same balance.
cmd_data_test() {
    local started key address opened token id balance after row
    started="$(now)"
    prepare_clients
    read -r key address <<<"$(funded_wallet 1000000)"
    client PRIVATE_KEY="$key" DEPOSIT=100000 open-session.mjs || fail "could not open a session"
    token="$(jq -r .token <<<"$result")"; id="$(jq -r .session.id <<<"$result")"
    curl -sf -o /dev/null -X PUT "$gate/api/content/data-test" -H "Payment-Session: $token" -d 'kept' || fail "spending the session failed"
    balance="$(curl -sf "$gate/api/sessions/$id" -H "Payment-Session: $token" | jq -r .balance)"
    log "session $id balance $balance; restarting the postgres container"
    "${compose[@]}" restart postgres 2>&1 | grep -v -e '^Restarting' -e '^$' >&2 || true
    wait_healthy 120
    # The services' pooled connections died with the server: the first queries may fail until the pools reconnect.
    after=""
    for _ in $(seq 1 30); do
        after="$(curl -sf "$gate/api/sessions/$id" -H "Payment-Session: $token" | jq -r .balance 2>/dev/null || true)"
        [ -n "$after" ] && break
        sleep 1
    done
    row="$(psql_in sessionsdb "SELECT state || ' ' || balance FROM sessions WHERE id = '$id'")"
    check "session $id after the restart: balance $after (before $balance), row: $row" \
        test -n "$after" -a "$after" = "$balance" -a "$row" = "ACTIVE $balance" || fail "data test failed"
    log "data test passed in $(since "$started") s"
}
