//! Compiles the kernel program `collector/ebpf/collector.bpf.c` with `clang -target bpf`.
//! Needs clang and the libbpf headers (Debian: `clang libbpf-dev`); not the build machine's BTF:
//! the program declares the kernel types it reads itself (`vmlinux_min.h`) and is relocated
//! (CO-RE) against the running kernel when loaded.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let src_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap()).join("../ebpf");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("collector.bpf.o");
    for f in ["collector.bpf.c", "enforce.h", "records.h", "vmlinux_min.h"] {
        println!("cargo:rerun-if-changed={}", src_dir.join(f).display());
    }
    println!("cargo:rerun-if-env-changed=CLANG");

    let (arch_define, multiarch) = match env::var("CARGO_CFG_TARGET_ARCH").unwrap().as_str() {
        "x86_64" => ("-D__TARGET_ARCH_x86", "x86_64-linux-gnu"),
        other => panic!(
            "rulestudio-collector: the eBPF program supports x86_64 only (register layout and \
             syscall numbers); target architecture is {other}"
        ),
    };
    let clang = env::var("CLANG").unwrap_or_else(|_| "clang".into());
    let status = Command::new(&clang)
        .args([
            "-O2",
            "-g",
            "-Wall",
            "-Werror",
            "-target",
            "bpf",
            arch_define,
        ])
        .arg(format!("-I/usr/include/{multiarch}"))
        .arg("-I")
        .arg(&src_dir)
        .arg("-c")
        .arg(src_dir.join("collector.bpf.c"))
        .arg("-o")
        .arg(&out)
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!(
            "rulestudio-collector: `{clang} -target bpf` failed ({s}) compiling collector/ebpf/collector.bpf.c"
        ),
        Err(e) => panic!(
            "rulestudio-collector: cannot run `{clang}` ({e}); install clang and libbpf-dev \
             (Debian: apt-get install clang llvm libbpf-dev) or set CLANG"
        ),
    }
}
