import IceShelvesEggs
import Testing

@Suite("Host access: what gives an instance power over its host")
struct HostAccessTests {
    @Test func dangerousConfigKeysAreFoundAndHarmlessValuesAreNot() {
        let found = HostAccess.findings(
            config: [
                "security.privileged": "true", "security.nesting": "false", "raw.lxc": "lxc.cap.drop=", "raw.idmap": "both 0 0",
                "security.idmap.isolated": "true", "linux.kernel_modules": "ip_tables", "security.syscalls.intercept.mount": "true",
                "limits.cpu": "2", "boot.autostart": "true",
            ],
            origin: "config_overrides"
        )
        #expect(
            found.map(\.key) == [
                "linux.kernel_modules", "raw.idmap", "raw.lxc", "security.idmap.isolated", "security.privileged", "security.syscalls.intercept.mount",
            ]
        )
        #expect(found.first?.description == "config_overrides: linux.kernel_modules=ip_tables")
    }

    @Test func hostPathsHostDevicesAndHostProxiesAreFound() {
        let found = HostAccess.findings(
            devices: [
                "root": ["type": "disk", "path": "/", "pool": "default"],
                "hostroot": ["type": "disk", "path": "/mnt", "source": "/"],
                "tty": ["type": "unix-char", "path": "/dev/ttyS0"],
                "gpu": ["type": "gpu"],
                "web": ["type": "proxy", "listen": "tcp:127.0.0.1:8080", "connect": "tcp:127.0.0.1:80"],
                "inside": ["type": "proxy", "bind": "container", "listen": "tcp:127.0.0.1:80", "connect": "tcp:127.0.0.1:81"],
                "eth0": ["type": "nic", "network": "lxdbr0"],
            ],
            origin: "lxd-profile.yaml"
        )
        #expect(found.map(\.key) == ["devices.gpu", "devices.disk", "devices.unix-char", "devices.proxy"])
    }

    @Test func allowListsNameKeysOrPrefixes() throws {
        let privileged = HostAccess.Finding(key: "security.privileged", origin: "x", detail: "")
        let raw = HostAccess.Finding(key: "raw.lxc", origin: "x", detail: "")
        #expect(HostAccess.allows(["raw.*"], raw) && !HostAccess.allows(["raw.*"], privileged))
        #expect(HostAccess.allows(["security.privileged"], privileged))
        for entry in ["raw.*", "raw.lxc", "security.syscalls.*", "devices.disk", "devices.unix-char", "security.nesting"] {
            #expect(HostAccess.isKnownAllowEntry(entry), "\(entry)")
        }
        for entry in ["limits.cpu", "*", "devices.nic", "raw."] { #expect(!HostAccess.isKnownAllowEntry(entry), "\(entry)") }
        let spec = try LXDProfileSpec.parse("config:\n  security.nesting: true\ndevices:\n  d:\n    type: disk\n    source: /srv\n    path: /srv\n")
        #expect(spec.config == ["security.nesting": "true"])
        #expect(spec.devices["d"]?["source"] == "/srv")
    }
}

@Suite("Host access in KVM domain fragments")
struct HostAccessKVMTests {
    @Test func passthroughHostPathsAndRawQEMUAreFoundAndPlainSettingsAreNot() {
        let xml = """
            <domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
              <memory unit='MiB'>2048</memory>
              <seclabel type='none'/>
              <devices>
                <hostdev mode='subsystem' type='pci'><source><address domain='0' bus='1' slot='0' function='0'/></source></hostdev>
                <filesystem type='mount'><source dir='/srv'/><target dir='srv'/></filesystem>
                <disk type='block' device='disk'><source dev='/dev/sda'/><target dev='vdb'/></disk>
                <interface type='direct'><source dev='eth0' mode='bridge'/></interface>
                <interface type='network'><source network='default'/></interface>
                <serial type='pty'/>
                <channel type='unix'><source mode='bind' path='/tmp/x'/></channel>
                <video><model type='virtio'/></video>
              </devices>
              <qemu:commandline><qemu:arg value='-device'/></qemu:commandline>
            </domain>
            """
        let keys = Set(HostAccess.findings(kvmFragment: xml, origin: "kvm-config.xml").map(\.key))
        #expect(
            keys == [
                "security.seclabel", "devices.hostdev", "devices.filesystem", "devices.disk", "devices.interface", "devices.chardev", "raw.qemu",
            ]
        )
        let plain =
            "<domain type='kvm'><vcpu>2</vcpu><devices><interface type='network'><source network='n'/></interface><rng model='virtio'/></devices></domain>"
        #expect(HostAccess.findings(kvmFragment: plain, origin: "x").isEmpty)
        #expect(HostAccess.isKnownAllowEntry("devices.hostdev") && HostAccess.isKnownAllowEntry("raw.qemu"))
    }
}
