# Shared by tools/demo and tools/test: installs what is missing from
# Debian's archive (nothing else), then configures and builds.

# What building the library and the samples needs, and the demo's server.
WSCORO_BUILD_PACKAGES=(
  g++ meson ninja-build pkgconf
  libasio-dev libssl-dev node-llhttp zlib1g-dev
  python3-websockets
)
# What the test suite needs besides: doctest, the second compiler of the
# packaging test, openssl to make the TLS tests' certificates, Node's ws.
WSCORO_TEST_PACKAGES=(
  clang doctest-dev openssl nodejs node-ws
)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# install_missing_packages PACKAGE...: installs those not installed yet.
install_missing_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then return 0; fi
  echo "installing from Debian: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# configure BUILD_DIR [meson options...]: sets up BUILD_DIR, or applies the
# options to it when it exists (the demo and the tests share build/, with
# tests off and on). A folder that a failed setup left half made is set up
# anew; anything else in the folder is left alone.
configure() {
  local dir=$1
  shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$@"
  else
    if [ -d "$dir/meson-private" ]; then rm -rf "$dir/meson-private" "$dir/meson-info" "$dir/meson-logs"; fi
    meson setup "$dir" "$@"
  fi
}
