-- The local facilitator's simulated chain: EIP-3009 token balances, used authorizations and transfers.
-- Addresses and assets are lowercase 0x hex; networks are CAIP-2 ("eip155:84532"), so v1 names and v2 ids
-- share one balance. Amounts are uint256 atomic units: numeric(78,0) holds 2^256 - 1.

CREATE TABLE token_accounts (
    address    text           NOT NULL CHECK (address ~ '^0x[0-9a-f]{40}$'),
    asset      text           NOT NULL CHECK (asset ~ '^0x[0-9a-f]{40}$'),
    network    text           NOT NULL,
    balance    numeric(78, 0) NOT NULL DEFAULT 0 CHECK (balance >= 0),
    updated_at timestamptz    NOT NULL DEFAULT now(),
    PRIMARY KEY (address, asset, network)
);

CREATE TABLE token_transfers (
    id           bigint         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text           NOT NULL CHECK (kind IN ('transfer', 'faucet')),
    asset        text           NOT NULL,
    network      text           NOT NULL,
    from_address text           NOT NULL,   -- the zero address for faucet mints, as an ERC-20 Transfer event has it
    to_address   text           NOT NULL,
    value        numeric(78, 0) NOT NULL CHECK (value >= 0),
    nonce        text,                      -- the EIP-3009 nonce; null for faucet mints
    transaction  text           NOT NULL UNIQUE,
    created_at   timestamptz    NOT NULL DEFAULT now(),
    CHECK ((kind = 'transfer') = (nonce IS NOT NULL))
);

CREATE INDEX token_transfers_from ON token_transfers (from_address, asset, network, id);
CREATE INDEX token_transfers_to ON token_transfers (to_address, asset, network, id);

-- EIP-3009's authorizationState: a (token, from, nonce) is usable once. The primary key is what makes two
-- concurrent settlements of one authorization end with exactly one transfer.
CREATE TABLE token_authorizations (
    asset        text        NOT NULL,
    network      text        NOT NULL,
    from_address text        NOT NULL,
    nonce        text        NOT NULL CHECK (nonce ~ '^0x[0-9a-f]{64}$'),
    transaction  text        NOT NULL,
    used_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (asset, network, from_address, nonce)
);
