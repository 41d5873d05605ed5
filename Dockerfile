# syntax=docker/dockerfile:1
# The deployable telephony-operator image: the operator binary alone, built without the default
# `sandbox` feature (so no Kubernetes API emulator, no Twilio simulator, no `sandbox` or
# `twilio-sim` command in it), on a distroless base (glibc, CA certificates, no shell),
# running as the non-root user 65532.
#
#   docker build --build-arg TELEPHONY_GIT_COMMIT="$(git rev-parse --short HEAD)" \
#     -t ghcr.io/agni-ai/telephony-operator:0.1.0 .
#
# The tag is the crate version (Cargo.toml), as in deploy/ and the Helm chart. The repository's
# CI machine has no container engine, so CI never builds this image; it runs the build command
# below, copied character for character from this file, and tests the binary it makes against
# a real kube-apiserver (tests/real-cluster/suites.d/install.sh; tests/install_manifests.rs
# checks the command is the deployable one).

FROM docker.io/library/rust:1.95.0-slim-trixie AS build
WORKDIR /src
COPY . .
# For `telephony-operator --version` (build.rs; the build context has no .git).
ARG TELEPHONY_GIT_COMMIT
RUN cargo build --release --locked --no-default-features -p telephony-operator --bin telephony-operator
RUN install -D -m 0755 target/release/telephony-operator /out/telephony-operator

FROM gcr.io/distroless/cc-debian13:nonroot
COPY --from=build /out/telephony-operator /usr/local/bin/telephony-operator
USER 65532:65532
# /metrics, /healthz, /readyz (with --metrics-addr=0.0.0.0:9464, as deploy/ and the chart set).
EXPOSE 9464
ENTRYPOINT ["/usr/local/bin/telephony-operator"]
CMD ["run", "--metrics-addr=0.0.0.0:9464"]
