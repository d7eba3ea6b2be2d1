# Shared by tools/demo and tools/test: installs what is missing from
# Debian's archive (nothing else), then configures and builds.

# Packages the build, the samples and the tests need.
WSCORO_PACKAGES=(
  g++ clang meson ninja-build pkgconf
  libasio-dev libssl-dev node-llhttp doctest-dev openssl zlib1g-dev
  python3 python3-websockets nodejs node-ws
)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_missing_packages() {
  local missing=()
  for p in "${WSCORO_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then return 0; fi
  echo "installing from Debian: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# configure BUILD_DIR [meson options...]
configure() {
  local dir=$1
  shift
  [ -f "$dir/build.ninja" ] || meson setup "$dir" "$@"
}
