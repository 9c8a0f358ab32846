//! What the OpenAPI document says of a call's bodies, query and path parameters, taken from
//! the call's types ([`crate::calls::Call`]): the server's endpoint table holds one
//! [`Typed`] per endpoint, made by [`typed`], and its document is generated from them. Only
//! with the `openapi` feature (the browser build does not need schemas).

use crate::calls::{Body, Call, Params, Query};
use crate::routes::Route;
use schemars::{JsonSchema, Schema, SchemaGenerator};

/// A JSON Schema of a Rust type, made on demand: a `fn`, so that the tables stay `const`.
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

/// `T` as a JSON body: a `$ref` to its schema under `components/schemas` (or inline for a
/// type as simple as `i64`).
pub fn json<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// The fields of `T`, for query parameters: its own object schema, never a `$ref`.
pub fn fields<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    T::json_schema(generator)
}

/// A request or response body.
#[derive(Debug, Clone, Copy)]
pub enum Payload {
    /// No body.
    Empty,
    /// JSON of one schema.
    Json(SchemaFn),
    /// JSON of one schema, which may be left out (an empty body).
    OptionalJson(SchemaFn),
    /// Not JSON (or not one JSON value): one of these media types.
    Media(&'static [Media]),
}

/// A media type a body may have.
#[derive(Debug, Clone, Copy)]
pub struct Media {
    pub kind: &'static str,
    /// For a sequence (JSON lines, server-sent events), the schema of each item.
    pub items: Option<SchemaFn>,
}

/// One call's route and the schemas of what it takes and answers.
#[derive(Debug, Clone, Copy)]
pub struct Typed {
    /// Its method and path (relative to `/api/v1`, axum syntax: `/events/{id}`).
    pub route: Route,
    /// What it takes in its body.
    pub request: Payload,
    /// Its query parameters: the fields of one type ([`fields`]), or none.
    pub query: Option<SchemaFn>,
    /// The types of its path parameters, in the order the path names them.
    pub params: &'static [SchemaFn],
    /// What it answers on success. Errors are always [`crate::error::ErrorBody`].
    pub response: Payload,
}

/// What `C` declares, for the server's endpoint table.
pub const fn typed<C: Call>() -> Typed {
    Typed {
        route: C::ROUTE,
        request: <C::Request as Body>::PAYLOAD,
        query: <C::Query as Query>::FIELDS,
        params: <C::Params as Params>::SCHEMAS,
        response: <C::Response as Body>::PAYLOAD,
    }
}
