//! `rulestudio demo`: performs, safely, the behaviours behind the seven example rules of the
//! article the project started from, so a newcomer has real events to preview rules against.
//! The "container" is a Kubernetes-style cgroup (`kubepods.slice/cri-containerd-<id>.scope`) on
//! the cgroup v2 hierarchy; anything that would touch the system happens in a private mount
//! namespace over temporary files.

use crate::Outcome;
use anyhow::{Context, Result, bail};
use std::ffi::CString;
use std::io::Read;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(clap::Args)]
pub struct Args {
    /// Keep the temporary directory and the cgroup afterwards.
    #[arg(long)]
    keep: bool,
}

/// The 64-hex container id of the demo; the collector reports its first 12 characters.
const CONTAINER_ID: &str = "5eed0f5eed0f5eed0f5eed0f5eed0f5eed0f5eed0f5eed0f5eed0f5eed0f5eed";

pub fn run(args: Args) -> Result<Outcome> {
    let work = std::env::temp_dir().join(format!("rulestudio-demo-{}", std::process::id()));
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
    let cgroup = Cgroup::create()?;
    println!(
        "container {} (cgroup {})",
        &CONTAINER_ID[..12],
        cgroup.path.display()
    );
    let result = perform_all(&work, &cgroup);
    if !args.keep {
        let _ = std::fs::remove_dir_all(&work);
        cgroup.remove();
    }
    result?;
    Ok(Outcome::Clean)
}

fn perform_all(work: &Path, cgroup: &Cgroup) -> Result<()> {
    let nginx = work.join("nginx");
    std::fs::copy(which("bash")?, &nginx).context("copy bash as nginx")?;
    let payload = work.join("payload");
    std::fs::copy(which("true")?, &payload).context("copy true as payload")?;
    let listener = TcpListener::bind("127.0.0.1:0").context("listen on loopback")?;
    let port = listener.local_addr()?.port();
    let shadow = work.join("shadow");
    std::fs::write(&shadow, "root:*:19000:0:99999:7:::\n")?;
    let mnt = work.join("mnt");
    std::fs::create_dir_all(&mnt)?;
    let w = work.display();

    step(
        "a shell writes to /tmp in the container",
        cgroup.run(
            Command::new("bash").args(["-c", &format!("echo demo > {w}/shell-write")]),
            None,
        ),
    )?;
    step(
        "a web server (nginx) writes to /tmp",
        cgroup.run(
            Command::new(&nginx).args(["-c", &format!("echo demo > {w}/nginx-write")]),
            None,
        ),
    )?;
    step(
        "a shell is spawned in the container",
        cgroup.run(Command::new("sh").args(["-c", "exit 0"]), None),
    )?;
    step(
        "a binary runs from /tmp",
        cgroup.run(&mut Command::new(&payload), None),
    )?;
    let accept = std::thread::spawn(move || {
        if let Ok((mut s, _)) = listener.accept() {
            let mut sink = Vec::new();
            let _ = s.read_to_end(&mut sink);
        }
    });
    let connect = format!("exec 3<>/dev/tcp/127.0.0.1/{port}; echo hi >&3");
    step(
        &format!("an outbound connection to port {port}"),
        cgroup.run(Command::new("bash").args(["-c", &connect]), None),
    )?;
    let _ = accept.join();
    step(
        "/etc/shadow is written (a temporary file bind-mounted over it, in a private mount namespace)",
        cgroup.run(
            Command::new("bash").args(["-c", "echo 'demo:*:19000::::::' >> /etc/shadow"]),
            Some(Namespace::BindOver {
                source: shadow,
                target: "/etc/shadow".into(),
            }),
        ),
    )?;
    step(
        "a mount in the container (tmpfs, in a private mount namespace)",
        cgroup.run(
            Command::new("mount")
                .args(["-t", "tmpfs", "rulestudio-demo"])
                .arg(&mnt),
            Some(Namespace::Private),
        ),
    )?;
    Ok(())
}

fn step(what: &str, result: Result<()>) -> Result<()> {
    match &result {
        Ok(()) => println!("  ok  {what}"),
        Err(e) => println!("  FAILED {what}: {e:#}"),
    }
    result
}

fn which(name: &str) -> Result<PathBuf> {
    for dir in ["/usr/bin", "/bin", "/usr/local/bin"] {
        let p = Path::new(dir).join(name);
        if p.is_file() {
            return Ok(p);
        }
    }
    bail!("`{name}` not found in /usr/bin or /bin")
}

/// Mount-namespace set-up done in the child between fork and exec.
enum Namespace {
    /// A private mount namespace.
    Private,
    /// A private mount namespace with `source` bind-mounted over `target`.
    BindOver { source: PathBuf, target: PathBuf },
}

struct Cgroup {
    path: PathBuf,
}

impl Cgroup {
    fn create() -> Result<Cgroup> {
        let root = cgroup2_root()
            .context("no cgroup v2 hierarchy is mounted (needed to act as a container)")?;
        let path = root
            .join("kubepods.slice")
            .join(format!("cri-containerd-{CONTAINER_ID}.scope"));
        std::fs::create_dir_all(&path)
            .with_context(|| format!("cannot create cgroup {} (run as root)", path.display()))?;
        Ok(Cgroup { path })
    }

    /// Runs `cmd` to completion inside the cgroup (and the namespace set-up, if any).
    fn run(&self, cmd: &mut Command, ns: Option<Namespace>) -> Result<()> {
        let procs = CString::new(
            self.path
                .join("cgroup.procs")
                .as_os_str()
                .as_encoded_bytes(),
        )?;
        let bind = match &ns {
            Some(Namespace::BindOver { source, target }) => Some((
                CString::new(source.as_os_str().as_encoded_bytes())?,
                CString::new(target.as_os_str().as_encoded_bytes())?,
            )),
            _ => None,
        };
        let private = ns.is_some();
        // SAFETY: the closure runs in the forked child before exec and only makes raw system
        // calls (open/write/close/unshare/mount) on buffers prepared before the fork, which are
        // async-signal-safe.
        unsafe {
            cmd.pre_exec(move || {
                join_cgroup(&procs)?;
                if private {
                    private_mounts(bind.as_ref())?;
                }
                Ok(())
            });
        }
        let status = cmd
            .status()
            .with_context(|| format!("cannot run {:?}", cmd.get_program()))?;
        if !status.success() {
            bail!("{:?} exited with {status}", cmd.get_program());
        }
        Ok(())
    }

    fn remove(&self) {
        // The cgroup is empty once every child has exited; rmdir of an empty cgroup succeeds.
        let _ = std::fs::remove_dir(&self.path);
    }
}

fn cgroup2_root() -> Option<PathBuf> {
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    mounts.lines().find_map(|l| {
        let (pre, post) = l.split_once(" - ")?;
        if post.split_whitespace().next()? != "cgroup2" {
            return None;
        }
        pre.split_whitespace().nth(4).map(PathBuf::from)
    })
}

/// Moves the calling process into the cgroup whose `cgroup.procs` is `procs` ("0" = self).
fn join_cgroup(procs: &CString) -> std::io::Result<()> {
    // SAFETY: plain system calls on a NUL-terminated path and a static buffer.
    unsafe {
        let fd = libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let n = libc::write(fd, b"0".as_ptr().cast(), 1);
        libc::close(fd);
        if n != 1 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

fn private_mounts(bind: Option<&(CString, CString)>) -> std::io::Result<()> {
    // SAFETY: plain system calls on NUL-terminated strings prepared before the fork.
    unsafe {
        if libc::unshare(libc::CLONE_NEWNS) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let root = c"/";
        if libc::mount(
            std::ptr::null(),
            root.as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        ) != 0
        {
            return Err(std::io::Error::last_os_error());
        }
        if let Some((source, target)) = bind
            && libc::mount(
                source.as_ptr(),
                target.as_ptr(),
                std::ptr::null(),
                libc::MS_BIND,
                std::ptr::null(),
            ) != 0
        {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}
