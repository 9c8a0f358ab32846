//! Raw records as the kernel program writes them into the ring buffer: a fixed header and up to
//! three string slots. Only decoding and bounds checking here; meaning is given in `convert`.

use rulestudio_collector_common::{Kind, RawHeader, STR_MAX, STR_SLOTS};
use std::mem::size_of;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("record of {len} bytes is shorter than its {need}-byte header")]
    Short { len: usize, need: usize },
    #[error("record has unknown kind {0}")]
    Kind(u32),
}

#[derive(Debug, Clone)]
pub struct Record<'a> {
    pub h: RawHeader,
    pub kind: Kind,
    slots: [&'a [u8]; STR_SLOTS],
}

impl<'a> Record<'a> {
    pub fn parse(bytes: &'a [u8]) -> Result<Record<'a>, RecordError> {
        let need = size_of::<RawHeader>();
        if bytes.len() < need {
            return Err(RecordError::Short {
                len: bytes.len(),
                need,
            });
        }
        // SAFETY: length checked above; RawHeader is plain data valid for any bit pattern, and
        // the ring buffer gives no alignment guarantee, hence the unaligned read.
        let h: RawHeader = unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast()) };
        let kind = Kind::from_u32(h.kind).ok_or(RecordError::Kind(h.kind))?;
        let body = &bytes[need..];
        let slots = std::array::from_fn(|i| {
            let start = (i * STR_MAX).min(body.len());
            let end = (start + (h.str_len[i] as usize).min(STR_MAX)).min(body.len());
            &body[start..end]
        });
        Ok(Record { h, kind, slots })
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

    pub fn comm(&self) -> String {
        let end = self
            .h
            .comm
            .iter()
            .position(|b| *b == 0)
            .unwrap_or(self.h.comm.len());
        String::from_utf8_lossy(&self.h.comm[..end]).into_owned()
    }

    pub fn arg(&self, i: usize) -> u64 {
        self.h.args[i]
    }

    /// Argument `i` as the C `int` the kernel takes (fds, dirfds).
    pub fn arg_int(&self, i: usize) -> i64 {
        self.h.args[i] as i32 as i64
    }

    /// Testing and replay helper: serializes a header and slots the way the kernel lays them out.
    pub fn encode(h: &RawHeader, slots: &[&[u8]]) -> Vec<u8> {
        let mut h = *h;
        let mut body = Vec::new();
        for (i, s) in slots.iter().enumerate().take(STR_SLOTS) {
            body.resize(i * STR_MAX, 0);
            body.extend_from_slice(&s[..s.len().min(STR_MAX)]);
            h.str_len[i] = s.len().min(STR_MAX) as u32;
        }
        h.size = (size_of::<RawHeader>() + body.len()) as u32;
        // SAFETY: RawHeader is repr(C) plain data without padding (pinned by the common crate's
        // layout test), so its bytes are fully initialized.
        let head = unsafe {
            std::slice::from_raw_parts(
                (&h as *const RawHeader).cast::<u8>(),
                size_of::<RawHeader>(),
            )
        };
        let mut out = head.to_vec();
        out.extend_from_slice(&body);
        out
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn header(kind: Kind) -> RawHeader {
        RawHeader {
            ts: 1,
            kind: kind as u32,
            tgid: 1,
            tid: 1,
            loginuid: u32::MAX,
            comm: *b"bash\0\0\0\0\0\0\0\0\0\0\0\0",
            ..RawHeader::default()
        }
    }

    #[test]
    fn round_trips_slots() {
        let bytes = Record::encode(&header(Kind::Exec), &[b"/bin/ls", b"ls\0-l\0"]);
        let r = Record::parse(&bytes).unwrap();
        assert_eq!(r.kind, Kind::Exec);
        assert_eq!(r.str(0), "/bin/ls");
        assert_eq!(r.bytes(1), b"ls\0-l\0");
        assert_eq!(r.bytes(2), b"");
        assert_eq!(r.comm(), "bash");
    }

    #[test]
    fn cgroup_paths_are_rebuilt_root_first() {
        let bytes = Record::encode(
            &header(Kind::Fork),
            &[b"", b"", b"x.scope/kubepods.slice/\nabc/docker/"],
        );
        let r = Record::parse(&bytes).unwrap();
        assert_eq!(r.cgroup_paths(), ["/kubepods.slice/x.scope", "/docker/abc"]);
        let bytes = Record::encode(&header(Kind::Fork), &[b"", b"", b"\n"]);
        assert!(Record::parse(&bytes).unwrap().cgroup_paths().is_empty());
    }

    #[test]
    fn rejects_short_and_unknown_records() {
        assert!(matches!(
            Record::parse(&[0; 10]),
            Err(RecordError::Short { .. })
        ));
        let mut h = header(Kind::Exit);
        h.kind = 99;
        assert_eq!(
            Record::parse(&Record::encode(&h, &[])).unwrap_err(),
            RecordError::Kind(99)
        );
    }

    #[test]
    fn lengths_beyond_the_record_are_clamped() {
        let mut bytes = Record::encode(&header(Kind::Syscall), &[b"abc"]);
        bytes.truncate(bytes.len() - 1);
        assert_eq!(Record::parse(&bytes).unwrap().bytes(0), b"ab");
    }
}
