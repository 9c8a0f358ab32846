//! The query parameters of the endpoints that take some: one type per endpoint, which the
//! server reads and the clients serialise into the query string ([`crate::calls::url`]), so no
//! query string is written by hand. A field left `None` is not sent.

use serde::{Deserialize, Serialize};

macro_rules! query {
    ($($(#[$doc:meta])* $name:ident { $($field:ident: $ty:ty,)* })*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
        pub struct $name {
            $(#[serde(skip_serializing_if = "Option::is_none")]
            pub $field: $ty,)*
        }

        impl crate::calls::Query for $name {
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct LabelsQuery {
    pub events: String,
}

impl crate::calls::Query for LabelsQuery {
    #[cfg(feature = "openapi")]
    const FIELDS: Option<crate::doc::SchemaFn> = Some(crate::doc::fields::<Self>);
}
