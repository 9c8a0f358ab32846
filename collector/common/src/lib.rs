//! Records shared by the eBPF program and the collector agent (#[repr(C)], no_std).
