# Shared helpers: install what a script needs from Debian and PyPI, idempotently.
# shellcheck shell=bash

apt_updated=0

# ensure_packages PKG...: installs the Debian packages that are missing.
ensure_packages() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    if [ "$apt_updated" -eq 0 ]; then
        $sudo apt-get update -qq
        apt_updated=1
    fi
    echo "installing Debian packages: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ensure_pip SPEC...: installs PyPI packages whose module is missing (SPEC is "module:requirement").
ensure_pip() {
    for spec in "$@"; do
        local module="${spec%%:*}" requirement="${spec#*:}"
        python3 -c "import $module" 2>/dev/null && continue
        echo "installing PyPI package: $requirement"
        python3 -m pip install -q "$requirement" 2>/dev/null || python3 -m pip install -q --break-system-packages "$requirement"
    done
}

# require_swift: Swift comes with the machine image; say so clearly when it is missing.
require_swift() {
    command -v swift >/dev/null || { echo "swift is not on PATH (expected Swift 6.1 or newer)" >&2; exit 2; }
}

# ensure_ansible: ansible-playbook (with community.general, which PyPI's `ansible` bundles) in a virtual environment
# the builder finds through ARROW_ANSIBLE_PLAYBOOK; prints its path.
ensure_ansible() {
    local venv=${ARROW_ANSIBLE_VENV:-/opt/arrow-ansible}
    if [ ! -x "$venv/bin/ansible-playbook" ]; then
        ensure_packages python3-venv >&2
        echo "installing Ansible into $venv (PyPI ansible)…" >&2
        python3 -m venv "$venv" >&2
        "$venv/bin/pip" install -q "ansible>=9" >&2
    fi
    echo "$venv/bin/ansible-playbook"
}
