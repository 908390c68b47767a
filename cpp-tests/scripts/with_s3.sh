#!/usr/bin/env bash
# Runs a test with s3s-fs (the S3 emulator, SigV4 checked) on 127.0.0.1 serving
# bucket copc-test with one file of $COPC_TEST_DATA; stops it afterwards.
#   with_s3.sh S3S_FS FILE COMMAND...
# s3s-fs missing is a failure that says how to install it (scripts/test does).
set -euo pipefail
s3s=$1 file=$2
shift 2
if [ ! -x "$s3s" ]; then
  echo "with_s3.sh: the S3 emulator is not installed at $s3s: run scripts/test, or" >&2
  echo "  cargo install --locked s3s-fs@0.14.1 --features binary --root target/tools" >&2
  exit 1
fi
if [ -z "${COPC_TEST_DATA:-}" ]; then
  echo "SKIPPED: COPC_TEST_DATA not set"
  exit 77
fi
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
mkdir "$dir/copc-test"
cp "$COPC_TEST_DATA/$file" "$dir/copc-test/"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export COPC_TEST_S3_KEY=COPCCTESTKEY COPC_TEST_S3_SECRET=copc-ctest-secret-4Rt7
"$s3s" --host 127.0.0.1 --port "$port" --access-key "$COPC_TEST_S3_KEY" --secret-key "$COPC_TEST_S3_SECRET" "$dir" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 300); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done
export COPC_TEST_S3_ENDPOINT="http://127.0.0.1:$port"
"$@"
