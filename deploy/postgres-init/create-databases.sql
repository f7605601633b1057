-- One database per service, as the AppHost's postgres.AddDatabase(...) lines say (run once, on an empty data volume).
CREATE DATABASE sessionsdb;
CREATE DATABASE vaultsdb;
CREATE DATABASE gatedb;
