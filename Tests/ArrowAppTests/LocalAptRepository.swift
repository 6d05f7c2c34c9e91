@testable import ArrowBuilder
import Foundation

/// A flat apt repository (`deb [trusted=yes] URL ./`) holding a stand-in `netbird` package: its postinst writes an
/// identity file, as an enrolled client would have, which the `install_vpn` role must leave out of the image. Its
/// `netbird up` insists on a readable key file, a management URL and a host name, and records what it was given
/// (the key only as a hash); `netbird status` then reports connected and prints that record.
enum LocalAptRepository {
    static let standIn = #"""
    #!/bin/sh
    state=/var/lib/netbird-standin
    case "$1" in
      up)
        shift; key=""; url=""; name=""
        while [ $# -gt 0 ]; do
          case "$1" in
            --setup-key-file) key=$2; shift 2 ;;
            --management-url) url=$2; shift 2 ;;
            --hostname) name=$2; shift 2 ;;
            *) shift ;;
          esac
        done
        if [ ! -s "$key" ] || [ -z "$url" ] || [ -z "$name" ]; then
          echo "netbird stand-in: up needs --setup-key-file, --management-url and --hostname" >&2; exit 1
        fi
        # The real client registers with the management service using the key; the stand-in asks the test's fake.
        python3 - "$url" "$key" "$name" <<'PY' || { echo "netbird stand-in: the management service refused the key" >&2; exit 1; }
    import json, sys, urllib.request
    url, key, name = sys.argv[1:]
    body = json.dumps({"setup_key": open(key).read().strip(), "hostname": name}).encode()
    urllib.request.urlopen(urllib.request.Request(url.rstrip("/") + "/test/join", data=body, headers={"Content-Type": "application/json"}), timeout=20)
    PY
        mkdir -p "$state" /etc/netbird
        echo "up --setup-key-file $key --management-url $url --hostname $name" > "$state/up-args"
        echo "key-sha256 $(sha256sum < "$key" | cut -c1-16)" >> "$state/up-args"
        echo '{"PrivateKey":"enrolled"}' > /etc/netbird/config.json ;;
      status)
        if [ ! -f "$state/up-args" ]; then echo "Management: Disconnected"; exit 1; fi
        echo "Management: Connected"; cat "$state/up-args" ;;
      *) echo "netbird stand-in 0.30.0" ;;
    esac

    """#

    static func make(in directory: String, runner: SubprocessRunner) async throws {
        let package = directory + "/netbird-package"
        try FileManager.default.createDirectory(atPath: package + "/DEBIAN", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: package + "/usr/bin", withIntermediateDirectories: true)
        let control = """
        Package: netbird
        Version: 0.30.0-arrowtest
        Architecture: all
        Maintainer: arrow-imaging tests <tests@arrow.test>
        Description: stand-in for the NetBird client

        """
        try control.write(toFile: package + "/DEBIAN/control", atomically: true, encoding: .utf8)
        try "#!/bin/sh\nmkdir -p /etc/netbird /var/lib/netbird\necho '{\"PrivateKey\":\"stand-in\"}' > /etc/netbird/config.json\n"
            .write(toFile: package + "/DEBIAN/postinst", atomically: true, encoding: .utf8)
        try standIn.write(toFile: package + "/usr/bin/netbird", atomically: true, encoding: .utf8)
        for file in ["/DEBIAN/postinst", "/usr/bin/netbird"] { chmod(package + file, 0o755) }
        let deb = directory + "/netbird_0.30.0-arrowtest_all.deb"
        try await runner.output(Command("dpkg-deb", ["--root-owner-group", "--build", package, deb]))
        try FileManager.default.removeItem(atPath: package)
        let size = ImageCache.size(of: deb) ?? 0
        let packages = control.trimmingCharacters(in: .newlines)
            + "\nFilename: ./netbird_0.30.0-arrowtest_all.deb\nSize: \(size)\nSHA256: \(try ImageCache.sha256(of: deb))\n\n"
        try packages.write(toFile: directory + "/Packages", atomically: true, encoding: .utf8)
        let release = """
        Origin: arrow-test
        Label: arrow-test
        Date: \(DateFormatter.rfc2822.string(from: Date()))
        SHA256:
         \(try ImageCache.sha256(of: directory + "/Packages")) \(packages.utf8.count) Packages

        """
        try release.write(toFile: directory + "/Release", atomically: true, encoding: .utf8)
    }
}

extension DateFormatter {
    static var rfc2822: DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'UTC'"
        return formatter
    }
}
