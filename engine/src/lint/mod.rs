//! Lints beyond Falco's own warnings: one module per lint under `rules/`, registered in one table.
