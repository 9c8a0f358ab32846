//! Typed compilation of a (macro-resolved) condition against the field table.
