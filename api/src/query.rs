//! The query parameters of the endpoints that take some: one type per endpoint, which the
//! server reads and the clients write as the query string ([`crate::calls::url`]), so no query
//! string is written by hand. A field left `None` is not sent.

use serde::Deserialize;

macro_rules! query {
    ($($(#[$doc:meta])* $name:ident { $($field:ident: $ty:ty,)* })*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
        pub struct $name {
            $(pub $field: $ty,)*
        }

        impl crate::calls::Query for $name {
            fn pairs(&self) -> Vec<(&'static str, String)> {
                let mut pairs = Vec::new();
                $(if let Some(value) = &self.$field {
                    pairs.push((stringify!($field), value.to_string()));
                })*
                pairs
            }
            #[cfg(feature = "openapi")]
            const FIELDS: Option<crate::doc::SchemaFn> = Some(crate::doc::fields::<Self>);
        }
    )*};
}

query! {
    /// `GET /alerts`.
    AlertsQuery {
        rule: Option<String>,
        priority: Option<String>,
        since: Option<String>,
        state: Option<String>,
        limit: Option<i64>,
        cursor: Option<i64>,
    }
    /// `GET /alerts/counts`.
    AlertCountsQuery {
        since: Option<String>,
    }
    /// `GET /alerts/summary`.
    AlertSummaryQuery {
        since: Option<String>,
        until: Option<String>,
        bucket: Option<String>,
        group_by: Option<String>,
    }
    /// `GET /audit`.
    AuditQuery {
        actor: Option<String>,
        action: Option<String>,
        since: Option<String>,
        until: Option<String>,
        limit: Option<u32>,
        cursor: Option<i64>,
    }
    /// `GET /events`.
    EventsQuery {
        filter: Option<String>,
        since: Option<String>,
        until: Option<String>,
        limit: Option<usize>,
        cursor: Option<String>,
    }
    /// `GET /events/stream`.
    EventStreamQuery {
        filter: Option<String>,
    }
    /// `GET /events/export`.
    ExportQuery {
        filter: Option<String>,
        since: Option<String>,
        until: Option<String>,
        format: Option<String>,
    }
    /// `GET /live`.
    LiveQuery {
        after: Option<i64>,
        wait: Option<u64>,
    }
    /// `GET /proposals`.
    ProposalsQuery {
        status: Option<String>,
        limit: Option<u32>,
    }
}

/// `GET /labels`: the events whose labels to read, ids joined by commas.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct LabelsQuery {
    pub events: String,
}

impl crate::calls::Query for LabelsQuery {
    fn pairs(&self) -> Vec<(&'static str, String)> {
        vec![("events", self.events.clone())]
    }
    #[cfg(feature = "openapi")]
    const FIELDS: Option<crate::doc::SchemaFn> = Some(crate::doc::fields::<Self>);
}
