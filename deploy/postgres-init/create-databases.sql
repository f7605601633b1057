-- One database per postgres.AddDatabase(...) of the AppHost; run once, on an empty data volume.
CREATE DATABASE "sessionsdb";
CREATE DATABASE "vaultsdb";
CREATE DATABASE "gatedb";
