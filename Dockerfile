# RunbookPilot server image: build with the .NET 10 SDK, run on the ASP.NET Core runtime.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/Host/RunbookPilot.Host.csproj -c Release -o /app \
 && dotnet publish src/Cli/RunbookPilot.Cli.csproj -c Release -o /app/cli

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
COPY playbooks /app/playbooks
ENV RBPILOT_DB=/data/runbookpilot.db \
    RBPILOT_AUDIT_CHECKPOINTS=/audit/checkpoints.jsonl \
    RBPILOT_PLAYBOOKS=/app/playbooks \
    RBPILOT_URLS=http://0.0.0.0:8080
VOLUME /data /audit
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD ["dotnet", "RunbookPilot.Host.dll", "--healthcheck"]
ENTRYPOINT ["dotnet", "RunbookPilot.Host.dll"]
