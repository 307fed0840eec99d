//! Host tools the harness and the image scripts need, with their Debian packages.

use std::path::Path;

/// (command, Debian package) pairs needed to build the image.
pub const BUILD_TOOLS: &[(&str, &str)] = &[
    ("debootstrap", "debootstrap"),
    ("mksquashfs", "squashfs-tools"),
    ("rauc", "rauc"),
    ("sgdisk", "gdisk"),
    ("grub-mkimage", "grub-common"),
    ("grub-editenv", "grub-common"),
    ("mkfs.ext4", "e2fsprogs"),
    ("openssl", "openssl"),
    ("ssh-keygen", "openssh-client"),
];

/// (command, Debian package) pairs needed to boot and drive the VM.
pub const RUN_TOOLS: &[(&str, &str)] =
    &[("qemu-system-x86_64", "qemu-system-x86"), ("qemu-img", "qemu-utils"), ("ssh", "openssh-client")];

/// Files (not commands) the build needs, with their Debian packages.
pub const BUILD_FILES: &[(&str, &str)] = &[("/usr/lib/grub/i386-pc/boot.img", "grub-pc-bin")];

fn on_path(cmd: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).chain(["/usr/sbin".into(), "/sbin".into()]).any(|dir| dir.join(cmd).is_file())
}

/// One message per missing tool, naming the Debian package to install.
pub fn missing(tools: &[(&str, &str)], files: &[(&str, &str)]) -> Vec<String> {
    let mut out: Vec<String> = tools
        .iter()
        .filter(|(cmd, _)| !on_path(cmd))
        .map(|(cmd, pkg)| format!("host tool `{cmd}` is missing: install Debian package `{pkg}`"))
        .collect();
    out.extend(
        files
            .iter()
            .filter(|(f, _)| !Path::new(f).exists())
            .map(|(f, pkg)| format!("host file {f} is missing: install Debian package `{pkg}`")),
    );
    out
}
