//! One module per page.

pub mod admin;
pub mod alerts;
pub mod audit;
pub mod baselines;
pub mod editor;
pub mod events;
pub mod exception;
pub mod live;
pub mod login;
pub mod preview;
pub mod proposals;
pub mod rules;
pub mod ruletests;
