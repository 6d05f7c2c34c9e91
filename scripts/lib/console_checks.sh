# The web console in a real browser: headless Chromium and chromium-driver from Debian, Selenium from PyPI, against a
# live `arrow serve` on SQLite (Tests/Console/console_browser_test.py). Screenshots of every page go to
# ARROW_CONSOLE_SCREENSHOTS (default .build/console-screenshots), kept whatever the outcome.
# shellcheck shell=bash

# console_browser_check BIN DIR PORT: exits non-zero when any step fails.
console_browser_check() {
    local bin="$1" dir="$2" port="$3"
    ensure_packages chromium chromium-driver qemu-utils
    ensure_pip selenium:selenium
    local shots="${ARROW_CONSOLE_SCREENSHOTS:-$PWD/.build/console-screenshots}"
    rm -rf "$shots" "$dir"
    mkdir -p "$shots" "$dir"
    if ! python3 Tests/Console/console_browser_test.py "$bin" "$dir" "$shots" "$port"; then
        echo "the console's browser test failed; screenshots in $shots, server log $dir/serve.log" >&2
        return 1
    fi
}
