# sessions-local/dotnet-aspnet:10.0: what mcr.microsoft.com/dotnet/aspnet:10.0 gives the service images (the shared
# runtimes under /usr/share/dotnet, `dotnet` on PATH, the non-root `app` user 1654, the same variables), built from a
# Debian root filesystem and the host's dotnet install (build-local-bases.sh prepares the context).
ARG BASE_IMAGE=sessions-local/debian:bookworm
FROM ${BASE_IMAGE}
COPY dotnet/ /usr/share/dotnet/
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet \
    && groupadd --gid 1654 app && useradd --uid 1654 --gid 1654 --no-create-home --shell /bin/false app
ENV APP_UID=1654 \
    ASPNETCORE_HTTP_PORTS=8080 \
    DOTNET_RUNNING_IN_CONTAINER=true \
    DOTNET_ROOT=/usr/share/dotnet
