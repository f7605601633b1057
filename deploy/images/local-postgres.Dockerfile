# sessions-local/postgres:15: Debian's PostgreSQL 15, standing in for the official postgres:15 image. The entrypoint keeps
# the part of its contract this deployment uses: POSTGRES_PASSWORD (and POSTGRES_USER), PGDATA, the init scripts in
# /docker-entrypoint-initdb.d run once on an empty data directory, `postgres ARGS` as the command.
ARG BASE_IMAGE=sessions-local/debian:bookworm
FROM ${BASE_IMAGE}
# No "main" cluster from the package's postinst: the entrypoint initialises PGDATA itself.
RUN mkdir -p /etc/postgresql-common/createcluster.d \
    && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/no-main.conf \
    && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /var/lib/postgresql/data /docker-entrypoint-initdb.d /var/run/postgresql \
    && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql && chmod 700 /var/lib/postgresql/data
COPY local-postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
USER postgres
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["postgres"]
