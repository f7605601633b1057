# sessions-local/dotnet-sdk:10.0: the host's whole SDK install on the Debian root filesystem, standing in for
# mcr.microsoft.com/dotnet/sdk:10.0 in the Dockerfile's source-build stage (restores from NuGet: needs --network host here).
ARG BASE_IMAGE=sessions-local/debian:bookworm
FROM ${BASE_IMAGE}
COPY dotnet/ /usr/share/dotnet/
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet
ENV DOTNET_ROOT=/usr/share/dotnet \
    DOTNET_RUNNING_IN_CONTAINER=true \
    DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    DOTNET_NOLOGO=1 \
    NUGET_CERT_REVOCATION_MODE=offline
