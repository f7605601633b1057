-- First migration of PaymentGate's database (gatedb): proves the migration pipeline end to end.
-- The real tables arrive with the features that need them, as 0002_... and later.
CREATE TABLE service_info (
    key   text PRIMARY KEY,
    value text NOT NULL
);

INSERT INTO service_info (key, value) VALUES ('service', 'paymentgate');
