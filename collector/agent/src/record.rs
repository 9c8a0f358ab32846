//! Raw records as the kernel program writes them into the ring buffer (the format is described
//! in `collector/ebpf/records.h`): a header, the kind's body, the optional parts the header
//! names, then the strings, packed. Only decoding and bounds checking here; meaning is given in
//! `convert`. Every length is checked against the bytes received: a malformed record is an
//! error naming the problem, never a panic or an out-of-bounds read.

use rulestudio_collector_common::{
    Context, Kind, Layout, PART_CONTEXT, PART_SOCK, RecHeader, STR_MAX, STR_SLOTS, SockTuple,
    SyscallBody, TaskBody,
};
use std::mem::size_of;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("record of {len} bytes ends inside its {part} (needs {need} bytes)")]
    Short {
        part: &'static str,
        len: usize,
        need: usize,
    },
    #[error("record has unknown kind {0}")]
    Kind(u16),
    #[error("record says it has {declared} bytes but {len} arrived")]
    Size { declared: usize, len: usize },
    #[error("record names unknown parts {0:#x}")]
    Parts(u16),
    #[error("record's string {slot} claims {len} bytes, more than the bound {STR_MAX}")]
    StringBound { slot: usize, len: usize },
    #[error("record's strings need {need} bytes after its fixed parts, {have} remain")]
    Strings { need: usize, have: usize },
}

impl RecordError {
    /// The loss reason this error is counted under.
    pub fn reason(&self) -> &'static str {
        match self {
            RecordError::Short { .. } | RecordError::Size { .. } | RecordError::Strings { .. } => {
                "truncated"
            }
            RecordError::Kind(_) | RecordError::Parts(_) | RecordError::StringBound { .. } => {
                "malformed"
            }
        }
    }
}

/// The kind-specific fixed part of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    Syscall(SyscallBody),
    Task(TaskBody),
}

#[derive(Debug, Clone)]
pub struct Record<'a> {
    pub h: RecHeader,
    pub kind: Kind,
    pub body: Body,
    /// The thread's context, when the kernel sent it with this record.
    pub ctx: Option<Context>,
    /// The socket behind the call's fd, when it is one.
    pub sock: Option<SockTuple>,
    slots: [&'a [u8]; STR_SLOTS],
}

/// Reads the shared structs one after another out of a record's bytes.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn read<T: Layout + Copy>(&mut self) -> Result<T, RecordError> {
        let need = self.pos + size_of::<T>();
        if self.bytes.len() < need {
            return Err(RecordError::Short {
                part: T::C_NAME,
                len: self.bytes.len(),
                need,
            });
        }
        // SAFETY: the bytes are in bounds (checked above); `Layout` is implemented only by the
        // common crate's `shared!` structs, which hold integers and integer arrays only, so
        // every bit pattern is a valid value; the ring buffer gives no alignment guarantee,
        // hence the unaligned read.
        let v = unsafe { std::ptr::read_unaligned(self.bytes[self.pos..].as_ptr().cast::<T>()) };
        self.pos = need;
        Ok(v)
    }
}

/// The bytes of one of the shared structs, for [`Record::encode`].
fn bytes_of<T: Layout>(v: &T) -> &[u8] {
    // SAFETY: the `shared!` structs are `#[repr(C)]` without padding (the `record_layout`
    // test checks that their fields cover them exactly), so all their bytes are initialized.
    unsafe { std::slice::from_raw_parts((v as *const T).cast::<u8>(), size_of::<T>()) }
}

impl<'a> Record<'a> {
    pub fn parse(bytes: &'a [u8]) -> Result<Record<'a>, RecordError> {
        let mut cur = Cursor { bytes, pos: 0 };
        let h: RecHeader = cur.read()?;
        let kind = Kind::from_u16(h.kind).ok_or(RecordError::Kind(h.kind))?;
        if h.size as usize != bytes.len() {
            return Err(RecordError::Size {
                declared: h.size as usize,
                len: bytes.len(),
            });
        }
        if h.parts & !(PART_CONTEXT | PART_SOCK) != 0 {
            return Err(RecordError::Parts(h.parts));
        }
        let body = match kind {
            Kind::Syscall => Body::Syscall(cur.read()?),
            Kind::Fork | Kind::Exec | Kind::Exit => Body::Task(cur.read()?),
        };
        let ctx = (h.parts & PART_CONTEXT != 0)
            .then(|| cur.read())
            .transpose()?;
        let sock = (h.parts & PART_SOCK != 0).then(|| cur.read()).transpose()?;
        let mut rest = &bytes[cur.pos..];
        for (slot, len) in h.str_len.iter().enumerate() {
            if *len as usize > STR_MAX {
                return Err(RecordError::StringBound {
                    slot,
                    len: *len as usize,
                });
            }
        }
        let need: usize = h.str_len.iter().map(|l| *l as usize).sum();
        if need != rest.len() {
            return Err(RecordError::Strings {
                need,
                have: rest.len(),
            });
        }
        let slots = std::array::from_fn(|i| {
            let (s, tail) = rest.split_at(h.str_len[i] as usize);
            rest = tail;
            s
        });
        Ok(Record {
            h,
            kind,
            body,
            ctx,
            sock,
            slots,
        })
    }

    /// Raw bytes of slot `i` (empty when absent or out of range).
    pub fn bytes(&self, i: usize) -> &'a [u8] {
        self.slots.get(i).copied().unwrap_or(&[])
    }

    /// Slot `i` as text (lossy: paths need not be UTF-8).
    pub fn str(&self, i: usize) -> String {
        String::from_utf8_lossy(self.bytes(i)).into_owned()
    }

    /// Cgroup paths of fork and exec records (slot 2: unified hierarchy, newline, v1 cpu
    /// controller; each leaf first), as `/a/b/c`; empty when the record carries none.
    pub fn cgroup_paths(&self) -> Vec<String> {
        let text = String::from_utf8_lossy(self.bytes(2));
        text.split('\n')
            .map(|leaf_first| {
                let parts: Vec<&str> = leaf_first
                    .split('/')
                    .filter(|c| !c.is_empty())
                    .rev()
                    .collect();
                format!("/{}", parts.join("/"))
            })
            .filter(|p| p.len() > 1)
            .collect()
    }

    /// The syscall number (of the calling architecture).
    pub fn nr(&self) -> u32 {
        self.h.nr as u32
    }

    /// The syscall's return value, or an exit record's exit code.
    pub fn ret(&self) -> i64 {
        match &self.body {
            Body::Syscall(b) => b.ret,
            Body::Task(b) => b.ret,
        }
    }

    /// The syscall body (zero for lifecycle records).
    pub fn syscall(&self) -> SyscallBody {
        match &self.body {
            Body::Syscall(b) => *b,
            Body::Task(_) => SyscallBody::default(),
        }
    }

    /// Exec records: `EXE_*` (0 for other records).
    pub fn exe_flags(&self) -> u32 {
        match &self.body {
            Body::Task(b) => b.exe_flags,
            Body::Syscall(_) => 0,
        }
    }

    pub fn arg(&self, i: usize) -> u64 {
        self.syscall().args[i]
    }

    /// Argument `i` as the C `int` the kernel takes (fds, dirfds).
    pub fn arg_int(&self, i: usize) -> i64 {
        self.arg(i) as i32 as i64
    }

    /// Testing and replay helper: serializes a record the way the kernel lays it out. The
    /// header's `size`, `parts` and `str_len` are computed; strings are cut at `STR_MAX`.
    pub fn encode(
        h: &RecHeader,
        body: &Body,
        ctx: Option<&Context>,
        sock: Option<&SockTuple>,
        slots: &[&[u8]],
    ) -> Vec<u8> {
        let mut h = *h;
        let mut tail = Vec::new();
        match body {
            Body::Syscall(b) => tail.extend_from_slice(bytes_of(b)),
            Body::Task(b) => tail.extend_from_slice(bytes_of(b)),
        }
        h.parts = 0;
        if let Some(c) = ctx {
            h.parts |= PART_CONTEXT;
            tail.extend_from_slice(bytes_of(c));
        }
        if let Some(s) = sock {
            h.parts |= PART_SOCK;
            tail.extend_from_slice(bytes_of(s));
        }
        h.str_len = [0; STR_SLOTS];
        for (i, s) in slots.iter().enumerate().take(STR_SLOTS) {
            let s = &s[..s.len().min(STR_MAX)];
            h.str_len[i] = s.len() as u16;
            tail.extend_from_slice(s);
        }
        h.size = (size_of::<RecHeader>() + tail.len()) as u16;
        let mut out = bytes_of(&h).to_vec();
        out.extend_from_slice(&tail);
        out
    }
}

/// The `comm` bytes of a context as text (up to the first NUL).
pub fn comm(c: &Context) -> String {
    let end = c.comm.iter().position(|b| *b == 0).unwrap_or(c.comm.len());
    String::from_utf8_lossy(&c.comm[..end]).into_owned()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn header(kind: Kind) -> RecHeader {
        RecHeader {
            ts: 1,
            kind: kind as u16,
            tgid: 1,
            tid: 1,
            ..RecHeader::default()
        }
    }

    fn context() -> Context {
        Context {
            loginuid: u32::MAX,
            comm: *b"bash\0\0\0\0\0\0\0\0\0\0\0\0",
            ..Context::default()
        }
    }

    fn task() -> Body {
        Body::Task(TaskBody::default())
    }

    #[test]
    fn round_trips_parts_and_slots() {
        let sock = SockTuple {
            family: 2,
            local_port: 80,
            ..SockTuple::default()
        };
        let bytes = Record::encode(
            &header(Kind::Exec),
            &task(),
            Some(&context()),
            Some(&sock),
            &[b"/bin/ls", b"ls\0-l\0"],
        );
        let r = Record::parse(&bytes).unwrap();
        assert_eq!(r.kind, Kind::Exec);
        assert_eq!(r.str(0), "/bin/ls");
        assert_eq!(r.bytes(1), b"ls\0-l\0");
        assert_eq!(r.bytes(2), b"");
        assert_eq!(comm(&r.ctx.unwrap()), "bash");
        assert_eq!(r.sock, Some(sock));
        let bare = Record::encode(&header(Kind::Exit), &task(), None, None, &[]);
        assert_eq!(bare.len(), size_of::<RecHeader>() + size_of::<TaskBody>());
        let r = Record::parse(&bare).unwrap();
        assert_eq!((r.ctx, r.sock), (None, None));
    }

    #[test]
    fn cgroup_paths_are_rebuilt_root_first() {
        let cg = |slot: &[u8]| {
            Record::encode(&header(Kind::Fork), &task(), None, None, &[b"", b"", slot])
        };
        let bytes = cg(b"x.scope/kubepods.slice/\nabc/docker/");
        let r = Record::parse(&bytes).unwrap();
        assert_eq!(r.cgroup_paths(), ["/kubepods.slice/x.scope", "/docker/abc"]);
        let bytes = cg(b"\n");
        assert!(Record::parse(&bytes).unwrap().cgroup_paths().is_empty());
    }

    #[test]
    fn rejects_short_unknown_and_inconsistent_records() {
        assert!(matches!(
            Record::parse(&[0; 10]),
            Err(RecordError::Short {
                part: "rec_header",
                ..
            })
        ));
        let mut h = header(Kind::Exit);
        h.kind = 99;
        assert_eq!(
            Record::parse(&Record::encode(&h, &task(), None, None, &[])).unwrap_err(),
            RecordError::Kind(99)
        );
        let good = Record::encode(
            &header(Kind::Syscall),
            &Body::Syscall(SyscallBody::default()),
            Some(&context()),
            None,
            &[b"abc"],
        );
        // Cut short: the declared size no longer matches.
        let err = Record::parse(&good[..good.len() - 1]).unwrap_err();
        assert!(matches!(err, RecordError::Size { .. }), "{err}");
        assert_eq!(err.reason(), "truncated");
        // A string length beyond what follows, with a consistent size.
        let mut bad = good.clone();
        bad[24..26].copy_from_slice(&4u16.to_le_bytes()); // str_len[0]
        assert_eq!(
            Record::parse(&bad).unwrap_err(),
            RecordError::Strings { need: 4, have: 3 }
        );
        // A string length beyond the bound.
        let mut bad = good.clone();
        bad[26..28].copy_from_slice(&5000u16.to_le_bytes()); // str_len[1]
        assert!(matches!(
            Record::parse(&bad).unwrap_err(),
            RecordError::StringBound { slot: 1, len: 5000 }
        ));
        // Unknown parts, and a part the bytes do not hold.
        let mut bad = good.clone();
        bad[22..24].copy_from_slice(&8u16.to_le_bytes());
        assert_eq!(Record::parse(&bad).unwrap_err(), RecordError::Parts(8));
        let mut bad = good;
        bad[22..24].copy_from_slice(&(PART_CONTEXT | PART_SOCK).to_le_bytes());
        assert!(matches!(
            Record::parse(&bad).unwrap_err(),
            RecordError::Short {
                part: "sock_tuple",
                ..
            }
        ));
    }

    #[test]
    fn every_prefix_of_a_record_is_an_error_not_a_panic() {
        let bytes = Record::encode(
            &header(Kind::Syscall),
            &Body::Syscall(SyscallBody::default()),
            Some(&context()),
            Some(&SockTuple::default()),
            &[b"a", b"bc", b"def"],
        );
        for n in 0..bytes.len() {
            assert!(Record::parse(&bytes[..n]).is_err(), "prefix of {n} bytes");
        }
        assert!(Record::parse(&bytes).is_ok());
    }
}
