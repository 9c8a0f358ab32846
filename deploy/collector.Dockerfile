# The image the DaemonSet in collector-daemonset.yaml runs. Build from the repository root:
#
#   docker build -f deploy/collector.Dockerfile -t rulestudio/collector:latest .
#
# The eBPF object is compiled by clang during the cargo build (collector/agent/build.rs) and
# embedded in the binary, so the runtime image needs only the binary and glibc.
FROM rust:1.95-bookworm AS build
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends clang libbpf-dev linux-libc-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p rulestudio-collector --bin rulestudio-collector

FROM debian:bookworm-slim
COPY --from=build /src/target/release/rulestudio-collector /usr/local/bin/rulestudio-collector
ENTRYPOINT ["/usr/local/bin/rulestudio-collector"]
