//! The collector agent: loads the eBPF program, keeps process and fd tables, streams events.
