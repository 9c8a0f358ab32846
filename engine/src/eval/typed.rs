//! Conversions of text into typed values, shared by the compiler (right-hand side constants,
//! libs `value_parser.cpp`) and by event decoding (numeric strings in interchange events).

use crate::fields::FieldType;
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `sscanf("%d%c")` semantics: optional leading blanks and sign, decimal digits, nothing after.
fn parse_decimal(text: &str) -> Option<i128> {
    let t = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || digits.len() > 30 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: i128 = digits.parse().ok()?;
    Some(if neg { -v } else { v })
}

/// An integer constant for a numeric field, wrapped to the field's width like the C parser
/// stores it (`user.uid = -1` is 4294967295).
pub(crate) fn parse_int(text: &str, ty: FieldType) -> Result<i128, String> {
    let v = parse_decimal(text).ok_or_else(|| format!("{text} is not a valid number"))?;
    Ok(wrap_to(v, ty))
}

pub(crate) fn wrap_to(v: i128, ty: FieldType) -> i128 {
    match ty {
        FieldType::Int16 => v as i16 as i128,
        FieldType::Int32 => v as i32 as i128,
        FieldType::Int64 => v as i64 as i128,
        FieldType::Uint32 => v as u32 as i128,
        FieldType::Port => v as u16 as i128,
        FieldType::Uint64 | FieldType::Abstime | FieldType::Reltime => v as u64 as i128,
        _ => v,
    }
}

/// PORT constants (libs `string_to_rawval`, `PT_PORT`): empty is port 0, a run of digits is a
/// number (kept to 16 bits, like the C store), anything else a service name (libs asks the
/// system services database; the engine has no I/O, so it knows the well-known names). A sign
/// or a blank is not a digit, so `-1` is looked up as a service name and rejected.
pub(crate) fn parse_port(text: &str) -> Result<i128, String> {
    if text.is_empty() {
        return Ok(0);
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        // libs converts with `stoi`, which throws beyond `int`.
        return text
            .parse::<i32>()
            .map(|v| v as u16 as i128)
            .map_err(|_| format!("port {text} is out of range"));
    }
    const SERVICES: &[(&str, u16)] = &[
        ("ftp-data", 20),
        ("ftp", 21),
        ("ssh", 22),
        ("telnet", 23),
        ("smtp", 25),
        ("domain", 53),
        ("dns", 53),
        ("http", 80),
        ("kerberos", 88),
        ("pop3", 110),
        ("sunrpc", 111),
        ("ntp", 123),
        ("imap", 143),
        ("snmp", 161),
        ("ldap", 389),
        ("https", 443),
        ("microsoft-ds", 445),
        ("smtps", 465),
        ("syslog", 514),
        ("submission", 587),
        ("ldaps", 636),
        ("rsync", 873),
        ("imaps", 993),
        ("pop3s", 995),
        ("mysql", 3306),
        ("postgresql", 5432),
        ("redis", 6379),
        ("http-alt", 8080),
    ];
    SERVICES
        .iter()
        .find(|(n, _)| *n == text)
        .map(|&(_, p)| p as i128)
        .ok_or_else(|| format!("unrecognized protocol {text}"))
}

pub(crate) fn parse_bool(text: &str) -> Result<bool, String> {
    match text {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("filter error: unrecognized boolean value {text}")),
    }
}

/// IPADDR filter values (libs `string_to_rawval`, `PT_IPADDR`): a `.` anywhere means IPv4,
/// else IPv6. So `::ffff:1.2.3.4` is read as IPv4 and rejected, as libs rejects it.
pub(crate) fn parse_ip(text: &str) -> Result<IpAddr, String> {
    if text.contains('.') {
        text.parse::<Ipv4Addr>()
            .map(IpAddr::V4)
            .map_err(|_| format!("unrecognized IPv4 address {text}"))
    } else {
        text.parse::<Ipv6Addr>()
            .map(IpAddr::V6)
            .map_err(|_| format!("unrecognized IPv6 address {text}"))
    }
}

/// An address in an interchange event (not a filter value): either family by its own syntax,
/// since a collector renders what the kernel gave, IPv4-mapped IPv6 addresses included.
pub(crate) fn parse_event_ip(text: &str) -> Result<IpAddr, String> {
    text.parse::<IpAddr>()
        .map_err(|_| format!("unrecognized IP address {text}"))
}

/// A prefix length as libs reads it (`sinsp_numparser::parseu8`: `%u`, then kept to 8 bits).
fn parse_u8(text: &str) -> Result<u8, String> {
    parse_decimal(text)
        .map(|v| v as u32 as u8)
        .ok_or_else(|| format!("{text} is not a valid number"))
}

/// IPNET filter values (libs `string_to_rawval`, `PT_IPV4NET`, and `ipv6net`): the family is
/// chosen by a `.` anywhere in the text, as for addresses; the address keeps its host bits
/// (they are ignored when matching). IPv6 rejects a zero prefix, as libs does.
pub(crate) fn parse_net(text: &str) -> Result<IpNet, String> {
    let v4 = text.contains('.');
    let Some((addr, len)) = text.split_once('/') else {
        return Err(if v4 {
            format!("unrecognized IP network {text}")
        } else {
            format!("invalid v6 netmask: {text}")
        });
    };
    if v4 {
        let ip = addr
            .parse::<Ipv4Addr>()
            .map_err(|_| format!("unrecognized IP address {text}"))?;
        let bits = parse_u8(len)?;
        if bits > 32 {
            return Err(format!("invalid netmask {len}"));
        }
        IpNet::new(IpAddr::V4(ip), bits).map_err(|_| format!("invalid netmask {len}"))
    } else {
        let ip = addr
            .parse::<Ipv6Addr>()
            .map_err(|_| format!("unrecognized IPv6 address {text}"))?;
        let bits = parse_u8(len)?;
        if bits == 0 || bits > 128 {
            return Err(format!("invalid v6 netmask {len}"));
        }
        IpNet::new(IpAddr::V6(ip), bits).map_err(|_| format!("invalid v6 netmask {len}"))
    }
}

/// `bcontains`/`bstartswith` operands: an even-length string of hex digits.
pub(crate) fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Standard base64 decoding, padding optional (libs `Base64::decodeWithoutPadding`).
pub(crate) fn b64_decode(input: &[u8]) -> Option<Vec<u8>> {
    let body = input
        .strip_suffix(b"==")
        .or_else(|| input.strip_suffix(b"="))
        .unwrap_or(input);
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in body {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    (bits < 6).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_follow_the_c_parser() {
        assert_eq!(parse_int("42", FieldType::Int64), Ok(42));
        assert_eq!(parse_int(" +7", FieldType::Int64), Ok(7));
        assert_eq!(parse_int("-1", FieldType::Uint32), Ok(u32::MAX as i128));
        assert!(parse_int("1.0", FieldType::Int64).is_err());
        assert!(parse_int("0x10", FieldType::Int64).is_err());
        assert!(parse_int("", FieldType::Int64).is_err());
    }

    #[test]
    fn networks_and_addresses() {
        assert!(parse_ip("10.0.0.1").unwrap().is_ipv4());
        assert!(parse_ip("::1").unwrap().is_ipv6());
        assert!(parse_ip("10.0.0").is_err());
        assert_eq!(parse_net("142.251.0.0/8").unwrap().prefix_len(), 8);
        assert_eq!(
            parse_net("10.0.0.0").unwrap_err(),
            "unrecognized IP network 10.0.0.0"
        );
        assert_eq!(parse_net("10.0.0.0/33").unwrap_err(), "invalid netmask 33");
        assert!(parse_net("2001:db8::/32").is_ok());
        assert_eq!(
            parse_ip("::ffff:1.2.3.4").unwrap_err(),
            "unrecognized IPv4 address ::ffff:1.2.3.4"
        );
        assert!(parse_event_ip("::ffff:1.2.3.4").unwrap().is_ipv6());
        assert_eq!(parse_net("::/0").unwrap_err(), "invalid v6 netmask 0");
        assert_eq!(parse_net("::1").unwrap_err(), "invalid v6 netmask: ::1");
        assert_eq!(
            parse_net("10.0.0.0/x").unwrap_err(),
            "x is not a valid number"
        );
        // parseu8 keeps 8 bits: 264 is 8.
        assert_eq!(parse_net("10.0.0.0/264").unwrap().prefix_len(), 8);
    }

    #[test]
    fn ports_follow_libs() {
        assert_eq!(parse_port("22"), Ok(22));
        assert_eq!(parse_port(""), Ok(0));
        assert_eq!(parse_port("65537"), Ok(1));
        assert_eq!(parse_port("ssh"), Ok(22));
        assert_eq!(parse_port("-1").unwrap_err(), "unrecognized protocol -1");
        assert_eq!(parse_port(" 22").unwrap_err(), "unrecognized protocol  22");
    }

    #[test]
    fn hex_and_base64() {
        assert_eq!(unhex("68656c6c6f").as_deref(), Some(&b"hello"[..]));
        assert_eq!(unhex("6"), None);
        assert_eq!(unhex("zz"), None);
        assert_eq!(b64_decode(b"aGVsbG8=").as_deref(), Some(&b"hello"[..]));
        assert_eq!(b64_decode(b"aGVsbG8").as_deref(), Some(&b"hello"[..]));
        assert_eq!(b64_decode(b"a"), None);
        assert_eq!(b64_decode(b"!!"), None);
    }
}
