//! The node runtime (issue #14): what runs where events happen. It follows the studio's live
//! set: a node fetches the current version at start and follows changes (a long poll on
//! `GET /api/v1/live?after=N`), compiles each version once and swaps it whole between
//! batches, keeps the last verified version on disk so that it evaluates after a restart while
//! the studio is away, and keeps the previous version (saying why) when a new one does not
//! compile here. Heartbeats report what it runs ([`live::Live::report`]). It judges every
//! event it delivers against that version ([`evaluate`]), giving each alert an id persisted
//! before its first send ([`ids`]). In fleet mode the same live set comes over NATS JetStream
//! instead ([`nats`]); either way a version is taken by [`saved::Saved`].
#![forbid(unsafe_code)]

pub mod evaluate;
pub mod events;
pub mod follow;
pub mod ids;
pub mod live;
pub mod lookup;
pub mod nats;
pub mod preview;
pub mod saved;
pub mod scan;
pub mod state;

pub use evaluate::{Evaluator, Judged, RateLimit};
pub use follow::{FollowError, Follower};
pub use ids::AlertIds;
pub use live::{CompileError, Live, LiveRules};
