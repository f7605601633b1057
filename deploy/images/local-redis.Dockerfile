# sessions-local/redis:7: Debian's redis-server, standing in for the official redis:7 image (`redis-server` on PATH,
# data in /data, runs as the redis user). compose.yaml starts it the same way for both.
ARG BASE_IMAGE=sessions-local/debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir /data && chown redis:redis /data
WORKDIR /data
USER redis
CMD ["redis-server"]
