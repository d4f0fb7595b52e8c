# Fourscore's container image: built on Debian bookworm in two stages; the
# final image holds the runtime libraries and what `cmake --install` puts
# under /usr/local (the server, the plugins, the schemas, the shipped
# scorecards and the dashboards), and runs as a non-root user. The
# entrypoint waits for the database, migrates, makes sure an admin exists
# and serves (scripts/docker-entrypoint.sh).

FROM debian:bookworm AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config libmicrohttpd-dev libmariadb-dev liblua5.4-dev \
      libcjson-dev libsodium-dev libxlsxwriter-dev zlib1g-dev libcurl4-openssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY core core
COPY plugins plugins
COPY schemas schemas
COPY lua lua
COPY web web
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF -DCMAKE_INSTALL_PREFIX=/usr/local \
    && cmake --build build -j"$(nproc)" \
    && DESTDIR=/install cmake --install build --strip

FROM debian:bookworm-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libmicrohttpd12 libmariadb3 liblua5.4-0 libcjson1 libsodium23 libxlsxwriter4 zlib1g libcurl4 \
      mariadb-client curl ca-certificates tini \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /srv/fourscore --shell /usr/sbin/nologin fourscore
# the installed layout: /usr/local/bin/fourscore finds its plugins in
# /usr/local/lib/fourscore/plugins and its web root, schemas and scorecards
# in /usr/local/share/fourscore by itself
COPY --from=build /install/usr/local /usr/local
COPY scripts/docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV FOURSCORE_LISTEN=0.0.0.0:8080
USER fourscore
WORKDIR /srv/fourscore
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/api/v1/health || exit 1
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/docker-entrypoint.sh"]
CMD ["serve"]
