//! An event in two layers, as a collector keeps them: the fields of this event (type, time,
//! result, arguments, the fd it acts on), and a shared layer of context that many events have
//! in common (a process, its user, container and capabilities), built once per version of that
//! context and referenced. The evaluator reads both through [`FieldSource`]; the shared layer's
//! JSON is written once, when an interface first needs it.

use super::interchange::write_values;
use super::{Event, FieldSource, Value};
use crate::fields::FieldId;
use std::sync::{Arc, OnceLock};

/// Fields shared by many events, and their interchange JSON once written.
#[derive(Debug, Default)]
pub struct SharedFields {
    event: Event,
    json: OnceLock<String>,
}

impl SharedFields {
    pub fn new(event: Event) -> SharedFields {
        SharedFields {
            event,
            json: OnceLock::new(),
        }
    }

    pub fn event(&self) -> &Event {
        &self.event
    }

    /// The values as `"key":value` pairs (no braces), written on first use.
    fn json(&self) -> &str {
        self.json.get_or_init(|| {
            let mut out = String::with_capacity(1024);
            write_values(self.event.values(), &mut out);
            out
        })
    }
}

/// An event: its own fields over a shared layer. Where both have a field, its own wins.
#[derive(Debug, Clone)]
pub struct LayeredEvent {
    pub own: Event,
    pub shared: Arc<SharedFields>,
}

impl LayeredEvent {
    /// `own` over `shared`.
    pub fn new(own: Event, shared: Arc<SharedFields>) -> LayeredEvent {
        LayeredEvent { own, shared }
    }

    /// An event with no shared layer (a decoded interchange line).
    pub fn alone(own: Event) -> LayeredEvent {
        static EMPTY: OnceLock<Arc<SharedFields>> = OnceLock::new();
        let empty = EMPTY.get_or_init(|| Arc::new(SharedFields::default()));
        LayeredEvent::new(own, empty.clone())
    }

    /// Every value the event has: its own, then the shared ones it does not hide.
    pub fn values(&self) -> impl Iterator<Item = (FieldId, Option<&str>, &Value<'static>)> {
        let own = &self.own;
        let shared = self
            .shared
            .event
            .values()
            .filter(move |(f, a, _)| own.get(*f, *a).is_none());
        own.values().chain(shared)
    }

    /// One event holding every value (a copy: for a store that keeps whole events).
    pub fn to_event(&self) -> Event {
        let mut ev = self.own.clone();
        for (f, a, v) in self.shared.event.values() {
            if ev.get(f, a).is_none() {
                ev.set(f, a, v.clone());
            }
        }
        ev
    }

    /// The event as one interchange JSON object; the shared layer's part is written once per
    /// shared layer, not once per event.
    pub fn to_json(&self) -> String {
        let shared = self.shared.json();
        let mut out = String::with_capacity(shared.len() + 256);
        out.push('{');
        let hides = self
            .own
            .values()
            .any(|(f, a, _)| self.shared.event.get(f, a).is_some());
        if hides {
            write_values(self.values(), &mut out);
        } else {
            write_values(self.own.values(), &mut out);
            if !shared.is_empty() {
                if out.len() > 1 {
                    out.push(',');
                }
                out.push_str(shared);
            }
        }
        out.push('}');
        out
    }
}

impl FieldSource for LayeredEvent {
    fn field(&self, field: FieldId, arg: Option<&str>) -> Option<Value<'_>> {
        self.own
            .get(field, arg)
            .or_else(|| self.shared.event.get(field, arg))
            .map(Value::borrowed)
    }

    #[inline]
    fn stored(&self, field: FieldId, arg: Option<&str>) -> Option<Option<&Value<'_>>> {
        Some(
            self.own
                .get(field, arg)
                .or_else(|| self.shared.event.get(field, arg)),
        )
    }

    fn evt_type_index(&self) -> Option<u16> {
        self.own.evt_type.or(self.shared.event.evt_type)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::get;

    fn ev(json: &str) -> Event {
        Event::from_json_str(json).unwrap()
    }

    #[test]
    fn reads_own_fields_over_shared_ones_and_writes_them_once() {
        let shared = Arc::new(SharedFields::new(ev(
            r#"{"proc.name":"bash","proc.pid":7,"user.name":"root"}"#,
        )));
        let a = LayeredEvent::new(
            ev(r#"{"evt.type":"open","fd.name":"/etc/shadow"}"#),
            shared.clone(),
        );
        let b = LayeredEvent::new(ev(r#"{"evt.type":"close","proc.name":"sh"}"#), shared);
        let name = get("proc.name").unwrap();
        assert_eq!(a.field(name, None), Some(Value::Str("bash".into())));
        assert_eq!(
            b.field(name, None),
            Some(Value::Str("sh".into())),
            "own wins"
        );
        assert!(a.evt_type_index().is_some());
        for e in [&a, &b] {
            let json = e.to_json();
            let back = Event::from_json_str(&json).unwrap();
            assert_eq!(back, e.to_event(), "{json}");
            assert_eq!(back.values().count(), e.values().count(), "{json}");
        }
        assert_eq!(b.to_event().get(name, None), Some(&Value::Str("sh".into())));
        assert_eq!(LayeredEvent::alone(Event::new()).to_json(), "{}");
    }
}
