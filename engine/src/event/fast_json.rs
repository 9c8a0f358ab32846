//! The fast path of [`Event::from_json_str`]: one pass over the text that resolves each key
//! as it goes, skips the values of keys that are not fields without building them, and moves
//! string values into the event instead of building a `serde_json::Value` tree first.
//!
//! It handles the common case only and gives up (`None`) on anything else: text that is not
//! plainly valid, a number that is not an integer, a value of the wrong shape, a field given
//! twice. The caller then decodes with `serde_json`, which stays the authority on what is
//! valid and on every error message; this path only ever produces the event that one would.

use super::{Event, Value, integer_signedness, json_value, number, parse_key};
use crate::fields::{self, FieldId, FieldType};
use std::borrow::Cow;

/// The bytes that end the plain part of a string: its closing quote, an escape, or a
/// control character (invalid unescaped).
static STOPS_STRING: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 0x20 {
        t[c] = true;
        c += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// The length of the plain part at the start of `b` (up to its first [`STOPS_STRING`] byte),
/// eight bytes at a time: keys and values are short, so a word test beats both a look-up per
/// byte and setting up a SIMD search.
fn plain_run(b: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // The high bit of each byte below `n`; above the lowest such byte the borrow may flag
    // others, so only the lowest is meaningful.
    let below = |w: u64, n: u8| w.wrapping_sub(ONES * n as u64) & !w & HIGHS;
    let mut i = 0;
    while let Some(word) = b.get(i..i + 8) {
        let w = u64::from_le_bytes(word.try_into().ok()?);
        let stops = below(w, 0x20)
            | below(w ^ (ONES * b'"' as u64), 1)
            | below(w ^ (ONES * b'\\' as u64), 1);
        if stops != 0 {
            return Some(i + stops.trailing_zeros() as usize / 8);
        }
        i += 8;
    }
    b[i..]
        .iter()
        .position(|&c| STOPS_STRING[c as usize])
        .map(|p| i + p)
}

/// Deeper nesting (in the values of unknown keys) is left to `serde_json` and its limit.
const MAX_DEPTH: u32 = 64;

/// Decodes `text` into `ev` (which has no fields); false when declined, `ev` then holding
/// part of the fields.
pub(super) fn decode_into(ev: &mut Event, text: &str) -> bool {
    decode(ev, text).is_some()
}

/// The top-level key whose value holds a number that no 64-bit value represents (`1e400`, or
/// an integer of 400 digits), and that number's text: the one reason `serde_json` refuses a
/// line that its error message cannot tie to a key.
pub(super) fn out_of_range_number(text: &str) -> Option<(String, &str)> {
    let mut s = Scan::new(text);
    s.ws();
    s.eat(b'{')?;
    loop {
        s.ws();
        let key = s.string()?;
        s.ws();
        s.eat(b':')?;
        s.ws();
        if s.skip(0).is_none() {
            let (from, to) = s.out_of_range?;
            return Some((key.into_owned(), &text[from..to]));
        }
        s.ws();
        s.eat(b',')?;
    }
}

/// What the keys of earlier events resolved to, by the key before them: a stream of events
/// from one source repeats its keys in the same order per kind of event, so the key after a
/// given one is usually the one that followed it last time, and comparing with it replaces a
/// look-up by name.
#[derive(Debug, Clone, Default)]
pub(super) struct KeyMemo {
    /// Per slot (see [`KeyMemo::slot`]): the key that followed last time and what it resolved to.
    next: Vec<Option<(Box<str>, Resolved)>>,
}

/// A key resolved: its field and where its argument is in the key text.
type Resolved = Option<(FieldId, Option<(usize, usize)>)>;

/// Keys longer than this are resolved every time (and memory stays bounded).
const MEMO_KEY_LEN: usize = 128;

impl KeyMemo {
    /// The slot of the key after `prev`: 0 after `{`, then one per field, then one after a key
    /// that is not a field.
    fn slot(prev: Option<Resolved>) -> usize {
        match prev {
            None => 0,
            Some(Some((f, _))) => 1 + f.index(),
            Some(None) => 1 + fields::count(),
        }
    }

    fn resolve<'k>(
        &mut self,
        prev: Option<Resolved>,
        key: &'k str,
    ) -> (Resolved, Option<(FieldId, Option<&'k str>)>) {
        let slot = Self::slot(prev);
        let at = |r: Resolved| r.map(|(f, a)| (f, a.map(|(from, to)| &key[from..to])));
        if let Some(Some((k, r))) = self.next.get(slot)
            && **k == *key
        {
            return (*r, at(*r));
        }
        let found = parse_key(key);
        // The argument is a slice of the key: kept as its place in it.
        let r = found.map(|(f, a)| {
            (
                f,
                a.map(|a| {
                    (
                        a.as_ptr() as usize - key.as_ptr() as usize,
                        a.as_ptr() as usize - key.as_ptr() as usize + a.len(),
                    )
                }),
            )
        });
        if key.len() <= MEMO_KEY_LEN {
            if self.next.is_empty() {
                self.next.resize(fields::count() + 2, None);
            }
            self.next[slot] = Some((key.into(), r));
        }
        (r, found)
    }
}

fn decode(ev: &mut Event, text: &str) -> Option<()> {
    let mut s = Scan::new(text);
    s.ws();
    s.eat(b'{')?;
    s.ws();
    let mut prev = None;
    if !s.eat_if(b'}') {
        loop {
            s.ws();
            let key = s.string()?;
            s.ws();
            s.eat(b':')?;
            s.ws();
            let (resolved, found) = ev.keys.resolve(prev, &key);
            prev = Some(resolved);
            match found {
                None => s.skip(0)?,
                Some((field, arg)) => {
                    let info = field.info();
                    let signed = integer_signedness(info.ty);
                    let value = match s.peek()? {
                        b'n' => {
                            s.literal("null")?;
                            // serde_json keeps the last of duplicate keys: a null after a value
                            // would unset the field.
                            if ev.get(field, arg).is_some() {
                                return None;
                            }
                            None
                        }
                        b'"' if info.ty == FieldType::Charbuf && !info.is_list => {
                            Some(ev.text_value(s.string()?))
                        }
                        b'-' | b'0'..=b'9' if !info.is_list && signed.is_some() => {
                            Some(s.integer(info.ty, signed?)?)
                        }
                        _ => Some(json_value(info.ty, info.is_list, &s.json(0)?).ok()?),
                    };
                    if let Some(v) = value
                        && !ev.set_new(field, arg, v)
                    {
                        return None;
                    }
                }
            }
            s.ws();
            if s.eat_if(b',') {
                continue;
            }
            s.eat(b'}')?;
            break;
        }
    }
    s.ws();
    (s.i == text.len()).then_some(())
}

struct Scan<'a> {
    text: &'a str,
    i: usize,
    /// Where the number that made the scan give up is, when it was one that no 64-bit value
    /// represents (`1e400`): `serde_json` refuses it, and [`out_of_range_number`] names it.
    out_of_range: Option<(usize, usize)>,
}

impl<'a> Scan<'a> {
    fn new(text: &'a str) -> Scan<'a> {
        Scan {
            text,
            i: 0,
            out_of_range: None,
        }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        self.eat_if(c).then_some(())
    }

    fn eat_if(&mut self, c: u8) -> bool {
        let hit = self.peek() == Some(c);
        self.i += hit as usize;
        hit
    }

    fn literal(&mut self, word: &str) -> Option<()> {
        let hit = self.bytes()[self.i..].starts_with(word.as_bytes());
        self.i += word.len() * hit as usize;
        hit.then_some(())
    }

    /// A string (the cursor on its opening quote), borrowed unless it has escapes.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        self.eat(b'"')?;
        let b = self.bytes();
        let start = self.i;
        let end = start + plain_run(&b[start..])?;
        self.i = end;
        match b[end] {
            b'"' => {
                self.i += 1;
                Some(Cow::Borrowed(&self.text[start..end]))
            }
            b'\\' => self.escaped(start).map(Cow::Owned),
            _ => None,
        }
    }

    /// The rest of a string with escapes; `start` is just after its opening quote.
    fn escaped(&mut self, start: usize) -> Option<String> {
        let b = self.bytes();
        let mut out = String::with_capacity(self.i - start + 16);
        let mut run = start;
        loop {
            match *b.get(self.i)? {
                b'"' => {
                    out.push_str(&self.text[run..self.i]);
                    self.i += 1;
                    return Some(out);
                }
                b'\\' => {
                    out.push_str(&self.text[run..self.i]);
                    let c = match *b.get(self.i + 1)? {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            self.i += 2;
                            let hi = self.hex4()?;
                            let code = match hi {
                                0xd800..=0xdbff => {
                                    self.literal("\\u")?;
                                    let lo = self.hex4()?;
                                    if !(0xdc00..=0xdfff).contains(&lo) {
                                        return None;
                                    }
                                    0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
                                }
                                0xdc00..=0xdfff => return None,
                                _ => hi,
                            };
                            out.push(char::from_u32(code)?);
                            run = self.i;
                            continue;
                        }
                        _ => return None,
                    };
                    out.push(c);
                    self.i += 2;
                    run = self.i;
                }
                0..=0x1f => return None,
                _ => self.i += 1,
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.text.get(self.i..self.i + 4)?;
        if !digits.bytes().all(|d| d.is_ascii_hexdigit()) {
            return None;
        }
        self.i += 4;
        u32::from_str_radix(digits, 16).ok()
    }

    /// A number per the JSON grammar; returns its text and whether it is an integer.
    fn number(&mut self) -> Option<(&'a str, bool)> {
        let b = self.bytes();
        let start = self.i;
        self.eat_if(b'-');
        let digits = |s: &mut Self| {
            let from = s.i;
            while s.peek().is_some_and(|c| c.is_ascii_digit()) {
                s.i += 1;
            }
            s.i - from
        };
        match b.get(self.i)? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                digits(self);
            }
            _ => return None,
        }
        let mut integer = true;
        if self.eat_if(b'.') {
            integer = false;
            (digits(self) > 0).then_some(())?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            integer = false;
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            (digits(self) > 0).then_some(())?;
        }
        let text = &self.text[start..self.i];
        // Only an exponent or over 300 digits can reach past f64's ±1.8e308 (what `serde_json`
        // turns an integer beyond 64 bits into); most numbers skip the parse.
        if (!integer || text.len() > 300) && !text.parse::<f64>().is_ok_and(f64::is_finite) {
            self.out_of_range = Some((start, self.i));
            return None;
        }
        Some((text, integer))
    }

    /// An integer value as [`json_value`] gives it for a field whose type reads integers as
    /// [`number`] does (with `signed` per the type), without building a `serde_json` value.
    fn integer(&mut self, ty: FieldType, signed: bool) -> Option<Value<'static>> {
        let (text, integer) = self.number()?;
        if !integer {
            return None;
        }
        let n: serde_json::Number = match text.starts_with('-') {
            true => text.parse::<i64>().ok()?.into(),
            false => text.parse::<u64>().ok()?.into(),
        };
        number(&n, ty, signed).ok()
    }

    /// A value of a known field as `serde_json` would give it (integers only).
    fn json(&mut self, depth: u32) -> Option<serde_json::Value> {
        use serde_json::Value as J;
        Some(match self.peek()? {
            b'"' => J::String(self.string()?.into_owned()),
            b't' => self.literal("true").map(|_| J::Bool(true))?,
            b'f' => self.literal("false").map(|_| J::Bool(false))?,
            b'n' => self.literal("null").map(|_| J::Null)?,
            b'[' if depth < MAX_DEPTH => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if !self.eat_if(b']') {
                    loop {
                        self.ws();
                        items.push(self.json(depth + 1)?);
                        self.ws();
                        if self.eat_if(b']') {
                            break;
                        }
                        self.eat(b',')?;
                    }
                }
                J::Array(items)
            }
            b'-' | b'0'..=b'9' => {
                let (text, integer) = self.number()?;
                if !integer {
                    return None;
                }
                match text.strip_prefix('-') {
                    Some(_) => J::Number(text.parse::<i64>().ok()?.into()),
                    None => J::Number(text.parse::<u64>().ok()?.into()),
                }
            }
            _ => return None,
        })
    }

    /// Skips any value (of a key that is not a field).
    fn skip(&mut self, depth: u32) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b't' => self.literal("true"),
            b'f' => self.literal("false"),
            b'n' => self.literal("null"),
            b'-' | b'0'..=b'9' => self.number().map(drop),
            open @ (b'[' | b'{') if depth < MAX_DEPTH => {
                let close = if open == b'[' { b']' } else { b'}' };
                self.i += 1;
                self.ws();
                if self.eat_if(close) {
                    return Some(());
                }
                loop {
                    self.ws();
                    if open == b'{' {
                        self.string()?;
                        self.ws();
                        self.eat(b':')?;
                        self.ws();
                    }
                    self.skip(depth + 1)?;
                    self.ws();
                    if self.eat_if(close) {
                        return Some(());
                    }
                    self.eat(b',')?;
                }
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The serde_json path, the authority.
    fn slow(text: &str) -> Option<Event> {
        match serde_json::from_str::<serde_json::Value>(text).ok()? {
            serde_json::Value::Object(map) => Event::from_map(&map).ok(),
            _ => None,
        }
    }

    fn agrees(text: &str) -> bool {
        let mut fast = Event::new();
        match decode(&mut fast, text) {
            Some(()) => {
                assert_eq!(
                    Some(&fast),
                    slow(text).as_ref(),
                    "fast path differs on {text}"
                );
                true
            }
            None => false,
        }
    }

    #[test]
    fn agrees_with_serde_json_or_declines() {
        let taken = [
            r#"{}"#,
            r#" { "proc.name" : "bash" , "proc.pid" : 42 } "#,
            r#"{"proc.cmdline":"sh -c \"echo \\ hi\"\t\u00e9\ud83d\ude00 \/"}"#,
            r#"{"x":{"a":[1,-2.5e3,{"b":null}],"c":"\n"},"proc.name":"a","y":[],"z":{}}"#,
            r#"{"fd.types":["ipv4","file"],"user.uid":"0","proc.pid":-7,"evt.time":18446744073709551615}"#,
            r#"{"proc.name":null,"evt.failed":false,"fd.sip":"10.0.0.1","proc.aname[2]":"sshd","evt.arg.flags":"O_RDWR"}"#,
            r#"{"evt.type":"openat","proc.name":"é"}"#,
            r#"{"fd.types":[["a"]]}"#,
            // Integers read per the field's type: a text field keeps a number, a port is
            // unsigned, a signed field past i64 stays unsigned, a double is a double.
            r#"{"proc.name":5,"fd.sport":443,"proc.pid":18446744073709551615,"evt.rawres":-3,"thread.cpu":2,"evt.num":0}"#,
        ];
        for t in taken {
            assert!(agrees(t), "fast path declined {t}");
        }
        let declined = [
            r#"{"proc.name":"a","proc.name":"b"}"#,
            r#"{"proc.name":"a","proc.name":null}"#,
            r#"{"evt.arg.flags":"a","evt.arg[flags]":"b"}"#,
            r#"{"proc.pid":1.5}"#,
            r#"{"proc.pid":"abc"}"#,
            r#"{"proc.name":"a",}"#,
            r#"{"proc.name":"a"} x"#,
            r#"{"proc.name":"\ud800"}"#,
            r#"{"proc.name":"\q"}"#,
            "{\"proc.name\":\"a\u{1}\"}",
            r#"{"x":01}"#,
            r#"{"x":-}"#,
            r#"{"x":1.}"#,
            r#"{"x":tru}"#,
            r#"[1]"#,
            r#"{"#,
            r#"{"x":1e400}"#,
            r#"{"x":[{"y":-1E+309}]}"#,
            r#"{"thread.cpu":1e400}"#,
            r#"{"fd.sport":65536}"#,
            r#"{"user.uid":-1}"#,
        ];
        for t in declined {
            assert!(!agrees(t), "fast path took {t}");
        }
    }

    /// What `serde_json` refuses as "number out of range" is named with its top-level key;
    /// anything else is not this function's to name.
    #[test]
    fn out_of_range_numbers_are_named_with_their_key() {
        let long = format!(r#"{{"a":1,"big":{}}}"#, "9".repeat(400));
        let cases = [
            (r#"{"a":1e308,"x":1e400}"#, Some(("x", "1e400"))),
            (r#"{"x":{"y":[0,-2E+999]}}"#, Some(("x", "-2E+999"))),
            (long.as_str(), Some(("big", &long[13..413]))),
            (r#"{"a":1e-400,"b":1e308}"#, None),
            (r#"{"a":1e400"#, Some(("a", "1e400"))),
            (r#"{"a":tru,"b":1e400}"#, None),
        ];
        for (text, want) in cases {
            let got = out_of_range_number(text);
            assert_eq!(got.as_ref().map(|(k, n)| (k.as_str(), *n)), want, "{text}");
            if want.is_some() {
                let e = serde_json::from_str::<serde_json::Value>(text).unwrap_err();
                assert!(e.to_string().contains("out of range"), "{e}");
            }
        }
    }

    #[test]
    fn plain_runs_end_at_the_first_stop_byte_wherever_it_is() {
        let table = |b: &[u8]| b.iter().position(|&c| STOPS_STRING[c as usize]);
        let fillers = [
            b'a', b'~', 0x7f, 0x80, 0xc3, 0xff, b' ', b'!', b'#', b'[', b']',
        ];
        for len in 0..20 {
            for &fill in &fillers {
                let mut b = vec![fill; len];
                assert_eq!(plain_run(&b), table(&b), "{b:?}");
                for at in 0..len {
                    for stop in (0..0x20).chain([b'"', b'\\']) {
                        let keep = b[at];
                        b[at] = stop;
                        // A second stop after the first must not change the answer.
                        if at + 3 < len {
                            b[at + 3] = b'"';
                        }
                        assert_eq!(plain_run(&b), table(&b), "{b:?}");
                        b[at] = keep;
                        b.fill(fill);
                    }
                }
            }
        }
    }

    #[test]
    fn agrees_on_the_conformance_events() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/conformance/eval");
        let mut checked = 0;
        for entry in std::fs::read_dir(dir).expect("eval conformance cases") {
            let text = std::fs::read_to_string(entry.expect("entry").path()).expect("case file");
            for line in text.lines() {
                if let Some(event) = line
                    .strip_prefix("match: ")
                    .or_else(|| line.strip_prefix("no_match: "))
                {
                    checked += agrees(event) as usize;
                }
            }
        }
        assert!(checked > 100, "only {checked} events");
    }

    /// One event decoding a stream, as ingest does: keys remembered from earlier events (by the
    /// key before them) must give what a fresh look-up gives, whatever the order and the
    /// arguments.
    #[test]
    fn a_reused_event_decodes_a_stream_like_fresh_ones() {
        let stream = [
            r#"{"evt.type":"openat","proc.aname[2]":"sshd","evt.arg.flags":"O_RDONLY","proc.name":"a"}"#,
            r#"{"evt.type":"openat","proc.aname[2]":"bash","evt.arg.flags":"O_RDWR","proc.name":"b"}"#,
            // Same predecessors, other keys: the memory must not be trusted blindly.
            r#"{"evt.type":"execve","proc.aname[3]":"init","evt.arg.mode":"0644","x":1,"proc.name":"c"}"#,
            r#"{"evt.type":"execve","proc.aname[3]":"init","evt.arg.mode":"0644","x":1,"proc.name":"c"}"#,
            r#"{"x":1,"y":2,"proc.pid":3}"#,
            r#"{"proc.pid":4,"x":1,"y":2}"#,
            r#"{"evt.type":"openat","proc.aname[2]":"sshd","evt.arg.flags":"O_RDONLY","proc.name":"a"}"#,
        ];
        let mut ev = Event::new();
        for text in stream.iter().chain(&stream) {
            ev.decode_json(text).unwrap();
            assert_eq!(ev, slow(text).unwrap(), "{text}");
        }
    }
}
