//! The open segment's write-ahead log: one record per `append` call, framed as
//! `[payload length: u32 LE][CRC-32 of payload: u32 LE][payload]`.
//!
//! A payload is a batch of events: `count: u32`, then per event `seq: u64, time: i64,
//! values: u16` and each value as `field: u16, tag: u8` (the [`Kind`] index, bit 7 set when an
//! argument follows as `len: u16` + UTF-8), then the value: 8 bytes for numbers, 1 for a
//! boolean, `len: u32` + bytes for text, bytes, addresses (text) and lists (tagged JSON text,
//! [`crate::schema::encode_list`]). All integers little-endian.
//!
//! A log is read up to its first record that is short or fails its checksum: that record and
//! everything after it is a torn tail (a write cut by a crash; never acknowledged, since
//! `append` returns after its record is written whole), which [`read`] reports and the store
//! truncates.

use crate::schema::{Kind, decode_list, encode_list};
use rulestudio_engine::event::{Event, Value};
use rulestudio_engine::fields::{self, FieldId};
use std::borrow::Cow;

const HEADER: usize = 8;
const ARG_BIT: u8 = 0x80;
/// The largest record accepted when reading; a larger length is a torn or foreign header.
pub const MAX_RECORD: usize = 1 << 30;

/// One event as logged.
#[derive(Debug)]
pub struct Logged {
    pub seq: u64,
    pub time: i64,
    pub event: Event,
}

/// Appends one framed record holding `events` (with their sequence numbers and times) to `out`.
pub fn encode(out: &mut Vec<u8>, events: &[(u64, i64, &Event)]) {
    let start = out.len();
    out.extend_from_slice(&[0; HEADER]);
    out.extend_from_slice(&(events.len() as u32).to_le_bytes());
    for (seq, time, event) in events {
        out.extend_from_slice(&seq.to_le_bytes());
        out.extend_from_slice(&time.to_le_bytes());
        let count_at = out.len();
        out.extend_from_slice(&[0, 0]);
        let mut count: u16 = 0;
        for (field, arg, value) in event.values() {
            encode_value(out, field, arg, value);
            count += 1;
        }
        out[count_at..count_at + 2].copy_from_slice(&count.to_le_bytes());
    }
    let payload = &out[start + HEADER..];
    let len = payload.len() as u32;
    let crc = crc32fast::hash(payload);
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

fn encode_value(out: &mut Vec<u8>, field: FieldId, arg: Option<&str>, value: &Value<'_>) {
    let kind = Kind::of(value);
    out.extend_from_slice(&field.0.to_le_bytes());
    let tag = kind as u8 | if arg.is_some() { ARG_BIT } else { 0 };
    out.push(tag);
    if let Some(arg) = arg {
        // Arguments come from decoded keys; one longer than u16 is cut at a char boundary
        // rather than corrupting the frame (no real key is 64 KiB long).
        let mut end = arg.len().min(u16::MAX as usize);
        while !arg.is_char_boundary(end) {
            end -= 1;
        }
        out.extend_from_slice(&(end as u16).to_le_bytes());
        out.extend_from_slice(&arg.as_bytes()[..end]);
    }
    let bytes = |out: &mut Vec<u8>, b: &[u8]| {
        out.extend_from_slice(&(b.len() as u32).to_le_bytes());
        out.extend_from_slice(b);
    };
    match value {
        Value::Str(s) => bytes(out, s.as_bytes()),
        Value::Bytes(b) => bytes(out, b),
        Value::Int(i) => out.extend_from_slice(&i.to_le_bytes()),
        Value::Uint(u) => out.extend_from_slice(&u.to_le_bytes()),
        Value::Double(d) => out.extend_from_slice(&d.to_le_bytes()),
        Value::Bool(b) => out.push(*b as u8),
        Value::Ip(ip) => bytes(out, ip.to_string().as_bytes()),
        Value::List(items) => bytes(out, encode_list(items).as_bytes()),
    }
}

/// What reading a log found: its events, and where its valid part ends when a torn tail follows.
#[derive(Debug, Default)]
pub struct Read {
    pub events: Vec<Logged>,
    /// The length of the valid prefix; less than the log's length when the rest is torn.
    pub valid_len: u64,
    /// Why the tail is torn, when it is.
    pub torn: Option<&'static str>,
}

/// Reads a whole log.
pub fn read(log: &[u8]) -> Read {
    let mut out = Read::default();
    let mut at = 0usize;
    while at < log.len() {
        let Some(header) = log.get(at..at + HEADER) else {
            out.torn = Some("a record header is cut short");
            break;
        };
        let len = u32::from_le_bytes(header[0..4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_le_bytes(header[4..8].try_into().expect("4 bytes"));
        if len > MAX_RECORD {
            out.torn = Some("a record length is out of range");
            break;
        }
        let Some(payload) = log.get(at + HEADER..at + HEADER + len) else {
            out.torn = Some("a record is cut short");
            break;
        };
        if crc32fast::hash(payload) != crc {
            out.torn = Some("a record fails its checksum");
            break;
        }
        match decode(payload) {
            Some(events) => out.events.extend(events),
            None => {
                out.torn = Some("a record passes its checksum but does not decode");
                break;
            }
        }
        at += HEADER + len;
    }
    out.valid_len = at as u64;
    out
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let out = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(out)
    }
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }
    fn text(&mut self, len: usize) -> Option<&'a str> {
        std::str::from_utf8(self.take(len)?).ok()
    }
}

fn decode(payload: &[u8]) -> Option<Vec<Logged>> {
    let mut c = Cursor {
        bytes: payload,
        at: 0,
    };
    let count = u32::from_le_bytes(c.array()?);
    // Every event takes at least 18 bytes, which bounds the allocation by the payload.
    let mut events = Vec::with_capacity((count as usize).min(payload.len() / 18));
    for _ in 0..count {
        let seq = u64::from_le_bytes(c.array()?);
        let time = i64::from_le_bytes(c.array()?);
        let values = u16::from_le_bytes(c.array()?);
        let mut event = Event::new();
        for _ in 0..values {
            let field = u16::from_le_bytes(c.array()?);
            if field as usize >= fields::count() {
                return None;
            }
            let [tag] = c.array()?;
            let arg = if tag & ARG_BIT != 0 {
                let len = u16::from_le_bytes(c.array()?) as usize;
                Some(c.text(len)?)
            } else {
                None
            };
            let kind = *Kind::ALL.get((tag & !ARG_BIT) as usize)?;
            let mut len = || Some(u32::from_le_bytes(c.array()?) as usize);
            let value = match kind {
                Kind::Str => {
                    let n = len()?;
                    Value::Str(Cow::Owned(c.text(n)?.to_string()))
                }
                Kind::Bytes => {
                    let n = len()?;
                    Value::Bytes(Cow::Owned(c.take(n)?.to_vec()))
                }
                Kind::Int => Value::Int(i64::from_le_bytes(c.array()?)),
                Kind::Uint => Value::Uint(u64::from_le_bytes(c.array()?)),
                Kind::Double => Value::Double(f64::from_le_bytes(c.array()?)),
                Kind::Bool => Value::Bool(c.array::<1>()?[0] != 0),
                Kind::Ip => {
                    let n = len()?;
                    Value::Ip(c.text(n)?.parse().ok()?)
                }
                Kind::List => {
                    let n = len()?;
                    Value::List(decode_list(c.text(n)?)?)
                }
            };
            event.set(FieldId(field), arg, value);
        }
        events.push(Logged { seq, time, event });
    }
    (c.at == payload.len()).then_some(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Event> {
        [
            r#"{"evt.type":"openat","proc.name":"bash","proc.pid":42,"fd.name":"/etc/passwd","proc.aname[2]":"sshd","evt.arg.flags":"O_RDONLY","fd.types":["ipv4","file"],"fd.sip":"10.0.0.1","evt.failed":false}"#,
            r#"{"evt.type":"execve","evt.time":17,"proc.cmdline":"sh -c \"x\""}"#,
            r#"{}"#,
        ]
        .iter()
        .map(|t| Event::from_json_str(t).unwrap())
        .collect()
    }

    #[test]
    fn records_round_trip_and_a_torn_tail_is_found_wherever_it_is_cut() {
        let events = sample();
        let mut log = Vec::new();
        encode(&mut log, &[(1, 10, &events[0]), (2, 11, &events[1])]);
        let first = log.len();
        encode(&mut log, &[(3, 12, &events[2])]);
        let read_all = read(&log);
        assert!(read_all.torn.is_none());
        assert_eq!(read_all.valid_len, log.len() as u64);
        assert_eq!(read_all.events.len(), 3);
        for (got, want) in read_all.events.iter().zip(&events) {
            assert_eq!(&got.event, want);
        }
        assert_eq!(read_all.events[1].seq, 2);
        assert_eq!(read_all.events[1].time, 11);
        for cut in first + 1..log.len() {
            let r = read(&log[..cut]);
            assert_eq!(r.events.len(), 2, "cut at {cut}");
            assert_eq!(r.valid_len, first as u64);
            assert!(r.torn.is_some());
        }
        let mut flipped = log.clone();
        flipped[first + 12] ^= 1;
        assert_eq!(read(&flipped).torn, Some("a record fails its checksum"));
    }
}
